"""The REST adapter over real HTTP: each server-API endpoint's success and error cases, the
request guard (signature age, validate_requests, allow_posting_from with CIDR ranges, CORS and
preflight, body limit, unknown paths and methods), the admin sign-in flow with its throttle and
the admin-only OpenAPI document and API explorer, and channelstream_utils make_config."""
import http.client
import json
import os
import subprocess
import tempfile
import time
import unittest
import uuid

import itsdangerous
import requests

from server_fixture import Server, binary, free_port


class Api:
    """Signed server-API calls against one running server."""

    def __init__(self, server):
        self.server = server

    def call(self, method, path, body=None, signed=True, raw=None, headers=None, **kwargs):
        all_headers = self.server.headers(path) if signed else {}
        all_headers.update(headers or {})
        if raw is not None:
            all_headers.setdefault("Content-Type", "application/json")
            return requests.request(method, self.server.base + path, data=raw, headers=all_headers, timeout=10,
                                    **kwargs)
        return requests.request(method, self.server.base + path, json=body, headers=all_headers, timeout=10,
                                **kwargs)


def call_from(source, port, method, path, headers=None, body=b""):
    """One HTTP request from a chosen loopback source address (127.0.0.x all reach 127.0.0.1)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


class ServerTest(unittest.TestCase):
    server_args = []

    @classmethod
    def setUpClass(cls):
        cls.server = Server(args=cls.server_args)
        cls.api = Api(cls.server)

    @classmethod
    def tearDownClass(cls):
        code, stderr = cls.server.close()
        if code != 0:
            raise AssertionError(f"server exited with {code}: {stderr[-4000:]}")

    def ok(self, method, path, body=None):
        response = self.api.call(method, path, body)
        self.assertEqual(response.status_code, 200, f"{method} {path}: {response.text}")
        return response.json()

    def connect(self, user, channels=(), **extra):
        return self.ok("POST", "/connect", dict({"username": user, "channels": list(channels)}, **extra))


class EndpointTest(ServerTest):
    def test_subscribe_and_unsubscribe(self):
        conn = self.connect("sub-user", ["a"])["conn_id"]
        got = self.ok("POST", "/subscribe", {"conn_id": conn, "channels": ["c", "b", "a"],
                                             "channel_configs": {"c": {"notify_presence": True}}})
        self.assertEqual(got["channels"], ["a", "b", "c"])
        self.assertEqual(got["subscribed_to"], ["b", "c"])
        self.assertTrue(got["channels_info"]["channels"]["c"]["settings"]["notify_presence"])
        got = self.ok("POST", "/unsubscribe", {"conn_id": conn, "channels": ["b", "nope"]})
        self.assertEqual(got["channels"], ["a", "c"])
        self.assertEqual(got["unsubscribed_from"], ["b"])

    def test_subscribe_errors(self):
        unknown = str(uuid.uuid4())
        response = self.api.call("POST", "/subscribe", {"conn_id": unknown, "channels": ["a"]})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json(), {"conn_id": ["Unknown connection"]})
        conn = self.connect("sub-err")["conn_id"]
        response = self.api.call("POST", "/subscribe", {"conn_id": conn})
        self.assertEqual(response.status_code, 422)
        self.assertIn("channels", response.json())
        response = self.api.call("POST", "/subscribe", {"conn_id": conn, "channels": ["x" * 257]})
        self.assertEqual(response.status_code, 422)
        self.assertIn("channels", response.json())
        response = self.api.call("POST", "/unsubscribe", {"conn_id": "not-a-uuid", "channels": ["a"]})
        self.assertEqual(response.status_code, 422)
        self.assertIn("conn_id", response.json())
        response = self.api.call("POST", "/subscribe", ["not", "an", "object"])
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json(), {"_schema": ["Invalid input type."]})

    def test_user_state(self):
        self.connect("state-user", user_state={"a": 1}, state_public_keys=["a"])
        got = self.ok("POST", "/user_state", {"user": "state-user", "user_state": {"b": "x", "a": 2}})
        self.assertEqual(got["user_state"], {"a": 2, "b": "x"})
        self.assertEqual(sorted(got["changed_state"], key=lambda c: c["key"]),
                         [{"key": "a", "value": 2}, {"key": "b", "value": "x"}])
        self.assertEqual(got["public_keys"], ["a"])
        got = self.ok("POST", "/user_state", {"user": "state-user", "user_state": {}, "state_public_keys": ["b"]})
        self.assertEqual(got["public_keys"], ["b"])
        self.assertEqual(got["changed_state"], [])

    def test_user_state_errors(self):
        response = self.api.call("POST", "/user_state", {"user": "never-seen", "user_state": {}})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json(), {"user": ["Unknown user"]})
        response = self.api.call("POST", "/user_state", {"user_state": {}})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json(), {"user": ["Missing data for required field."]})
        self.connect("state-bad")
        response = self.api.call("POST", "/user_state", {"user": "state-bad", "user_state": {"nested": {"x": 1}}})
        self.assertEqual(response.status_code, 422)
        self.assertIn("user_state", response.json())

    def test_channel_config_and_info(self):
        got = self.ok("POST", "/channel_config", {"cfg": {"store_history": True, "history_size": 3,
                                                           "notify_state": True}})
        settings = got["channels"]["cfg"]["settings"]
        self.assertTrue(settings["store_history"])
        self.assertEqual(settings["history_size"], 3)
        self.assertTrue(settings["notify_state"])
        self.connect("info-user", ["cfg"])
        for n in range(5):
            self.ok("POST", "/message", [{"channel": "cfg", "user": "info-user", "message": {"n": n}}])
        info = self.ok("POST", "/info", {"info": {"channels": ["cfg"]}})
        channel = info["channels"]["cfg"]
        self.assertEqual([item["message"]["n"] for item in channel["history"]], [2, 3, 4])
        self.assertEqual(channel["users"], ["info-user"])
        everything = self.api.call("POST", "/info", raw=b"")
        self.assertEqual(everything.status_code, 200, everything.text)
        self.assertIn("cfg", everything.json()["channels"])

    def test_channel_config_errors(self):
        response = self.api.call("POST", "/channel_config", {"cfg2": {"history_size": "many"}})
        self.assertEqual(response.status_code, 422)
        self.assertIn("history_size", json.dumps(response.json()))
        response = self.api.call("POST", "/channel_config", ["x"])
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json(), {"_schema": ["Invalid input type."]})

    def test_message_edit_delete_errors(self):
        response = self.api.call("POST", "/message", [{"channel": "m", "message": {}}])
        self.assertEqual(response.status_code, 422)
        self.assertIn("user", json.dumps(response.json()))
        response = self.api.call("POST", "/message", {"channel": "m"})
        self.assertEqual(response.status_code, 422)
        response = self.api.call("PATCH", "/message", [{"message": {"x": 1}}])
        self.assertEqual(response.status_code, 422)
        self.assertIn("uuid", json.dumps(response.json()))
        response = self.api.call("DELETE", "/message", [{"uuid": "not-a-uuid"}])
        self.assertEqual(response.status_code, 422)
        self.assertIn("uuid", json.dumps(response.json()))

    def test_bad_json_is_400(self):
        response = self.api.call("POST", "/connect", raw=b"{not json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json(), {"_schema": ["Invalid JSON body."]})

    def test_unknown_path_404_and_wrong_method_405(self):
        response = self.api.call("POST", "/nowhere", {})
        self.assertEqual(response.status_code, 404)
        self.assertIn("request", response.json())
        response = self.api.call("GET", "/connect")
        self.assertEqual(response.status_code, 405)
        self.assertEqual(response.json(), {"request": "Method not allowed"})
        response = self.api.call("PUT", "/message", [])
        self.assertEqual(response.status_code, 405)


class BodyLimitTest(ServerTest):
    server_args = ["--max_request_body_bytes", "2048"]

    def test_oversized_body_is_413_naming_the_key(self):
        response = self.api.call("POST", "/message", raw=b"[" + b" " * 4096 + b"]")
        self.assertEqual(response.status_code, 413)
        self.assertIn("max_request_body_bytes", response.text)
        json.loads(response.text)
        # The server stays up and serves the next request.
        self.connect("after-413")


class SignatureAgeTest(ServerTest):
    def test_expired_signature_is_401(self):
        old = itsdangerous.TimestampSigner(self.server.secret)
        old.get_timestamp = lambda: int(time.time()) - 120
        token = old.sign("/info").decode()
        response = requests.post(self.server.base + "/info", headers={"x-channelstream-secret": token}, timeout=5)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["request"], "Bad Signature")


class NoAgeCheckTest(ServerTest):
    server_args = ["--validate_requests", "false"]

    def test_old_signature_accepted_when_not_validating(self):
        old = itsdangerous.TimestampSigner(self.server.secret)
        old.get_timestamp = lambda: int(time.time()) - 3600
        token = old.sign("/info").decode()
        response = requests.post(self.server.base + "/info", headers={"x-channelstream-secret": token}, timeout=5)
        self.assertEqual(response.status_code, 200, response.text)
        forged = itsdangerous.TimestampSigner("other").sign("/info").decode()
        response = requests.post(self.server.base + "/info", headers={"x-channelstream-secret": forged}, timeout=5)
        self.assertEqual(response.status_code, 401)


class DefaultAddressRuleTest(ServerTest):
    def test_other_address_is_403_with_json(self):
        status, body = call_from("127.0.0.2", self.server.port, "POST", "/info",
                                 self.server.headers("/info"))
        self.assertEqual(status, 403)
        self.assertIn("127.0.0.2", json.loads(body)["request"])
        status, _ = call_from("127.0.0.1", self.server.port, "POST", "/info", self.server.headers("/info"))
        self.assertEqual(status, 200)

    def test_client_api_is_not_address_restricted(self):
        status, body = call_from("127.0.0.2", self.server.port, "GET", f"/disconnect?conn_id={uuid.uuid4()}")
        self.assertEqual((status, body), (200, "false"))


class CidrAddressRuleTest(ServerTest):
    server_args = ["--allow_posting_from", "127.0.0.2/31,10.1.2.3"]

    def test_cidr_range(self):
        for source, expected in (("127.0.0.2", 200), ("127.0.0.3", 200), ("127.0.0.1", 403), ("127.0.0.4", 403)):
            status, _ = call_from(source, self.server.port, "POST", "/info", self.server.headers("/info"))
            self.assertEqual(status, expected, source)


class AnyAddressRuleTest(ServerTest):
    server_args = ["--allow_posting_from", "0.0.0.0"]

    def test_any_address(self):
        status, _ = call_from("127.0.0.9", self.server.port, "POST", "/info", self.server.headers("/info"))
        self.assertEqual(status, 200)


class BadAddressRuleTest(unittest.TestCase):
    def test_invalid_entry_exits_2(self):
        result = subprocess.run([binary("channelstream"), "--port", str(free_port()),
                                 "--allow_posting_from", "127.0.0.1,not-an-ip"],
                                capture_output=True, text=True, timeout=20)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("allow_posting_from", result.stderr)
        self.assertIn("not-an-ip", result.stderr)


class CorsListTest(ServerTest):
    server_args = ["--allow_cors", "http://app.example,http://other.example"]

    def test_listed_origin_gets_the_header(self):
        response = self.api.call("POST", "/info", {}, headers={"Origin": "http://app.example"})
        self.assertEqual(response.headers.get("Access-Control-Allow-Origin"), "http://app.example")
        response = self.api.call("POST", "/info", {}, headers={"Origin": "http://evil.example"})
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)

    def test_preflight(self):
        response = requests.options(self.server.base + "/message", timeout=5, headers={
            "Origin": "http://other.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-channelstream-secret"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Access-Control-Allow-Origin"], "http://other.example")
        self.assertIn("POST", response.headers["Access-Control-Allow-Methods"])
        self.assertIn("x-channelstream-secret", response.headers["Access-Control-Allow-Headers"].lower())
        response = requests.options(self.server.base + "/message", timeout=5,
                                    headers={"Origin": "http://evil.example"})
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)


class AdminFlowTest(ServerTest):
    server_args = ["--admin_user", "boss", "--admin_secret", "hunter2", "--admin_signin_max_failures", "2"]

    def sign_in(self, session, password):
        return session.post(self.server.base + "/admin/sign_in", data={"username": "boss", "password": password},
                            allow_redirects=False, timeout=5)

    def test_pages_redirect_without_session(self):
        for path in ("/admin", "/api-explorer"):
            response = requests.get(self.server.base + path, allow_redirects=False, timeout=5)
            self.assertEqual(response.status_code, 302, path)
            self.assertEqual(response.headers["Location"], "/admin/sign_in")
        response = requests.get(self.server.base + "/admin/sign_in", timeout=5)
        self.assertEqual(response.status_code, 200)
        self.assertIn("<form", response.text)
        self.assertEqual(requests.get(self.server.base + "/openapi.json", timeout=5).status_code, 403)
        self.assertEqual(requests.get(self.server.base + "/admin/admin.json", timeout=5).status_code, 403)

    def test_sign_in_use_and_sign_out(self):
        session = requests.Session()
        response = self.sign_in(session, "hunter2")
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response.headers["Location"], "/admin")
        self.assertIn("HttpOnly", response.headers["Set-Cookie"])
        page = session.get(self.server.base + "/admin", timeout=5)
        self.assertEqual(page.status_code, 200)
        self.assertIn("admin.json", page.text)  # the page refreshes itself from it
        self.connect("admin-seen", ["admin-room"])
        info = session.get(self.server.base + "/admin/admin.json", timeout=5)
        self.assertEqual(info.status_code, 200, info.text)
        body = info.json()
        for key in ("remembered_user_count", "unique_user_count", "total_connections", "total_channels",
                    "total_messages", "total_unique_messages", "channels", "users", "uptime", "version"):
            self.assertIn(key, body)
        self.assertIn("admin-seen", [user["user"] for user in body["users"]])
        spec = session.get(self.server.base + "/openapi.json", timeout=5)
        self.assertEqual(spec.status_code, 200)
        document = spec.json()
        self.assertTrue(document["openapi"].startswith("3."))
        for path in ("/connect", "/subscribe", "/unsubscribe", "/user_state", "/message", "/channel_config",
                     "/info", "/admin/admin.json", "/listen", "/ws", "/disconnect"):
            self.assertIn(path, document["paths"])
        explorer = session.get(self.server.base + "/api-explorer", timeout=5)
        self.assertEqual(explorer.status_code, 200)
        self.assertIn("openapi.json", explorer.text)
        self.assertNotIn("https://", explorer.text)  # no outside assets
        out = session.get(self.server.base + "/admin/sign_out", allow_redirects=False, timeout=5)
        self.assertEqual(out.status_code, 302)
        self.assertIn("Max-Age=0", out.headers["Set-Cookie"])
        again = session.get(self.server.base + "/admin", allow_redirects=False, timeout=5)
        self.assertEqual(again.status_code, 302)

    def test_signed_requests_reach_admin_json_and_openapi(self):
        self.assertEqual(self.api.call("GET", "/admin/admin.json").status_code, 200)
        self.assertEqual(self.api.call("GET", "/openapi.json").status_code, 200)

    def test_tampered_cookie_is_refused(self):
        session = requests.Session()
        self.assertEqual(self.sign_in(session, "hunter2").status_code, 302)
        value = session.cookies.get("channelstream_admin")
        tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
        response = requests.get(self.server.base + "/admin", cookies={"channelstream_admin": tampered},
                                allow_redirects=False, timeout=5)
        self.assertEqual(response.status_code, 302)

    def test_wrong_password_then_throttle(self):
        # Its own source address, so the other tests' sign-ins are not throttled.
        form = "username=boss&password=wrong"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        statuses = [call_from("127.0.0.7", self.server.port, "POST", "/admin/sign_in", headers, form)[0]
                    for _ in range(3)]
        self.assertEqual(statuses, [401, 401, 429])
        right = "username=boss&password=hunter2"
        self.assertEqual(call_from("127.0.0.7", self.server.port, "POST", "/admin/sign_in", headers, right)[0], 429)
        self.assertEqual(call_from("127.0.0.8", self.server.port, "POST", "/admin/sign_in", headers, right)[0], 302)


class MakeConfigTest(unittest.TestCase):
    def test_make_config_round_trip(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "config.ini")
            env = dict(os.environ, CHANNELSTREAM_SECRET="from-env", CHANNELSTREAM_PORT=str(free_port()))
            result = subprocess.run([binary("tools/channelstream_utils"), "make_config", "-o", path],
                                    capture_output=True, text=True, env=env, timeout=20)
            self.assertEqual(result.returncode, 0, result.stderr)
            with open(path) as handle:
                text = handle.read()
            self.assertIn("[channelstream]", text)
            self.assertIn("secret = from-env", text)
            self.assertIn("# ", text)
            for key in ("admin_user", "allow_posting_from", "validate_requests", "max_request_body_bytes"):
                self.assertIn(f"\n{key} = ", text)
            port = int(env["CHANNELSTREAM_PORT"])
            clean_env = {k: v for k, v in os.environ.items() if not k.startswith("CHANNELSTREAM_")}
            server = Server(args=["-i", path], port=port, env=clean_env)
            try:
                server.secret = "from-env"
                response = requests.post(server.base + "/info", headers=server.headers("/info"), timeout=5)
                self.assertEqual(response.status_code, 200, response.text)
            finally:
                code, stderr = server.close()
                self.assertEqual(code, 0, stderr)

    def test_unknown_command_exits_2(self):
        result = subprocess.run([binary("tools/channelstream_utils"), "frobnicate"], capture_output=True, text=True,
                                timeout=20)
        self.assertEqual(result.returncode, 2)


if __name__ == "__main__":
    unittest.main()
