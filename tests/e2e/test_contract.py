"""Channelstream 0.7 compatibility, end to end, with the clients 0.7 users have: requests +
itsdangerous for the server API, websocket-client and plain HTTP for browsers' transports.
Each case follows a point of shared/CONTRACT-0.7.md through the whole server."""
import json
import threading
import time
import unittest
import uuid

import itsdangerous
import requests
import websocket

from server_fixture import Server, free_port, wait_for_port
from waits import clients_held


def drain(ws, want, timeout=5.0):
    """Reads frames until `want(messages)` is true for the messages gathered; heartbeats skipped."""
    gathered = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ws.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        batch = json.loads(frame)
        assert isinstance(batch, list), frame
        gathered.extend(batch)
        if want(gathered):
            return gathered
    return gathered


class ContractTestBase(unittest.TestCase):
    server_args = []

    @classmethod
    def setUpClass(cls):
        cls.server = Server(args=cls.server_args)

    @classmethod
    def tearDownClass(cls):
        code, stderr = cls.server.close()
        if code != 0:
            raise AssertionError(f"server exited with {code}: {stderr[-4000:]}")

    def api(self, method, path, body=None, signed=True, **kwargs):
        headers = self.server.headers(path) if signed else {}
        return requests.request(method, self.server.base + path, json=body, headers=headers, timeout=10,
                                **kwargs)

    def connect(self, username, channels, **extra):
        body = {"username": username, "channels": channels}
        body.update(extra)
        response = self.api("POST", "/connect", body)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def open_ws(self, conn_id):
        return websocket.create_connection(f"ws://127.0.0.1:{self.server.port}/ws?conn_id={conn_id}", timeout=5)

    def publish(self, items, method="POST"):
        response = self.api(method, "/message", items)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()


class SigningTest(ContractTestBase):
    def test_missing_signature_is_403(self):
        response = self.api("POST", "/connect", {"username": "a"}, signed=False)
        self.assertEqual(response.status_code, 403)

    def test_bad_signature_is_401(self):
        response = requests.post(self.server.base + "/connect", json={"username": "a"}, timeout=5,
                                 headers={"x-channelstream-secret": "junk.junk.junk"})
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json(), {"request": "Bad Signature"})

    def test_wrong_secret_is_401(self):
        token = itsdangerous.TimestampSigner("not-the-secret").sign("/connect").decode()
        response = requests.post(self.server.base + "/connect", json={"username": "a"}, timeout=5,
                                 headers={"x-channelstream-secret": token})
        self.assertEqual(response.status_code, 401)

    def test_signature_in_query_string(self):
        response = requests.post(self.server.base + "/connect", json={"username": "a"}, timeout=5,
                                 params={"secret": self.server.sign("/connect")})
        self.assertEqual(response.status_code, 200, response.text)

    def test_other_path_signed_names_the_config_key(self):
        response = requests.post(self.server.base + "/connect", json={"username": "a"}, timeout=5,
                                 headers={"x-channelstream-secret": self.server.sign("channelstream")})
        self.assertEqual(response.status_code, 401)
        self.assertIn("require_path_signature", response.text)
        self.assertIn("channelstream", response.text)
        self.assertIn("/connect", response.text)


class LooseSigningTest(ContractTestBase):
    # 0.7's demo apps sign the constant "channelstream".
    server_args = ["--require_path_signature", "false"]

    def test_any_value_signed_with_the_secret(self):
        response = requests.post(self.server.base + "/connect", json={"username": "a"}, timeout=5,
                                 headers={"x-channelstream-secret": self.server.sign("channelstream")})
        self.assertEqual(response.status_code, 200, response.text)


class ConnectTest(ContractTestBase):
    def test_connect_shape_and_defaults(self):
        conn_id = str(uuid.uuid4())
        body = self.connect("alice", ["b", "a"], conn_id=conn_id, fresh_user_state={"color": "red"},
                            user_state={"age": 3}, state_public_keys=["color"])
        self.assertEqual(body["conn_id"], conn_id)
        self.assertEqual(body["username"], "alice")
        self.assertEqual(body["channels"], ["a", "b"])
        self.assertEqual(body["state"], {"color": "red", "age": 3})
        self.assertEqual(body["public_state"], {"color": "red"})
        channel = body["channels_info"]["channels"]["a"]
        self.assertEqual(channel["settings"], {
            "notify_presence": False, "store_history": False, "history_size": 10,
            "broadcast_presence_with_user_lists": False, "notify_state": False, "store_frames": True})
        self.assertEqual(channel["users"], ["alice"])
        self.assertEqual(channel["total_users"], 1)
        self.assertEqual(channel["history"], [])
        for key in ("uuid", "name", "long_name", "last_active", "total_connections"):
            self.assertIn(key, channel)
        self.assertIn({"user": "alice", "state": {"color": "red", "age": 3}}, body["channels_info"]["users"])

    def test_fresh_state_only_for_new_users(self):
        self.connect("bob", [], fresh_user_state={"x": 1})
        body = self.connect("bob", [], fresh_user_state={"x": 2}, user_state={"y": True})
        self.assertEqual(body["state"], {"x": 1, "y": True})

    def test_generated_conn_id_is_a_uuid(self):
        body = self.connect("carol", ["c"])
        uuid.UUID(body["conn_id"])

    def test_validation_errors_are_422_by_field(self):
        response = self.api("POST", "/connect", {"channels": ["a"]})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json(), {"username": ["Missing data for required field."]})
        response = self.api("POST", "/connect", ["not", "an", "object"])
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json(), {"_schema": ["Invalid input type."]})
        response = self.api("POST", "/connect", {"username": "x" * 513})
        self.assertEqual(response.status_code, 422)
        self.assertIn("username", response.json())

    def test_cors_default_star(self):
        response = self.api("POST", "/connect", {"username": "dora"})
        self.assertEqual(response.headers.get("Access-Control-Allow-Origin"), "*")


class DeliveryTest(ContractTestBase):
    def test_websocket_receives_a_message(self):
        conn = self.connect("u1", ["room"])
        ws = self.open_ws(conn["conn_id"])
        try:
            echoed = self.publish([{"channel": "room", "user": "sys", "message": {"text": "hi"},
                                    "extra_key": 5, "pm_users": [], "exclude_users": []}])
            self.assertEqual(len(echoed), 1)
            self.assertIn("uuid", echoed[0])
            self.assertIn("timestamp", echoed[0])
            self.assertIsNone(echoed[0]["edited"])
            got = drain(ws, lambda m: any(x.get("type") == "message" for x in m))
            messages = [m for m in got if m.get("type") == "message"]
            self.assertEqual(len(messages), 1, got)
            message = messages[0]
            self.assertEqual(message["message"], {"text": "hi"})
            self.assertEqual(message["channel"], "room")
            self.assertEqual(message["user"], "sys")
            self.assertEqual(message["uuid"], echoed[0]["uuid"])
            self.assertIs(message["catchup"], False)
            self.assertIsNone(message["edited"])
            self.assertEqual(message["extra_key"], 5)
            for hidden in ("pm_users", "exclude_users", "no_history"):
                self.assertNotIn(hidden, message)
        finally:
            ws.close()

    def test_exclude_users_and_pm_users(self):
        a = self.connect("ex_a", ["ex"])
        b = self.connect("ex_b", ["ex"])
        ws_a, ws_b = self.open_ws(a["conn_id"]), self.open_ws(b["conn_id"])
        try:
            self.publish([{"channel": "ex", "user": "s", "message": {"n": 1}, "exclude_users": ["ex_a"]},
                          {"channel": "ex", "user": "s", "message": {"n": 2}, "pm_users": ["ex_a"]},
                          {"user": "s", "message": {"n": 3}, "pm_users": ["ex_b"]}])
            got_a = drain(ws_a, lambda m: False, timeout=1.5)
            got_b = drain(ws_b, lambda m: False, timeout=0.5)
            self.assertEqual(sorted(m["message"]["n"] for m in got_a if m.get("type") == "message"), [2])
            self.assertEqual(sorted(m["message"]["n"] for m in got_b if m.get("type") == "message"), [1, 3])
        finally:
            ws_a.close()
            ws_b.close()

    def test_items_without_channel_or_pm_users_are_dropped(self):
        echoed = self.publish([{"user": "s", "message": {"n": 1}},
                               {"channel": "nobody-here", "user": "s", "message": {"n": 2}}])
        self.assertEqual([m["message"] for m in echoed], [{"n": 2}])

    def test_catchup_on_open(self):
        conn = self.connect("late", ["cu"])
        self.publish([{"channel": "cu", "user": "s", "message": {"early": True}}])
        ws = self.open_ws(conn["conn_id"])
        try:
            got = drain(ws, lambda m: any(x.get("type") == "message" for x in m))
            messages = [m for m in got if m.get("type") == "message"]
            self.assertEqual(len(messages), 1, got)
            self.assertIs(messages[0]["catchup"], True)
        finally:
            ws.close()

    def test_unknown_conn_id_websocket_is_closed(self):
        ws = self.open_ws(str(uuid.uuid4()))
        ws.settimeout(5)
        with self.assertRaises((websocket.WebSocketConnectionClosedException, ConnectionError)):
            while True:
                frame = ws.recv()
                if frame == "":
                    raise websocket.WebSocketConnectionClosedException()

    def test_long_poll(self):
        conn = self.connect("lp", ["lpc"])
        url = f"{self.server.base}/listen?conn_id={conn['conn_id']}"
        results = {}

        def poll():
            results["response"] = requests.get(url, timeout=15)

        poller = threading.Thread(target=poll)
        poller.start()
        # Publish once the gateway holds the poll: its attach is then on the way to the broker, and
        # a publication that still beats it comes back as catch-up in the same answer.
        self.assertTrue(clients_held(self.server.base, "long_poll", 1))
        self.publish([{"channel": "lpc", "user": "s", "message": {"n": 1}}])
        self.publish([{"channel": "lpc", "user": "s", "message": {"n": 2}}])
        poller.join()
        response = results["response"]
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers.get("Access-Control-Allow-Origin"), "*")
        self.assertEqual([m["message"]["n"] for m in response.json() if m.get("type") == "message"], [1, 2])
        # Nothing is lost between polls: published while no poll is waiting, received by the next.
        self.publish([{"channel": "lpc", "user": "s", "message": {"n": 3}}])
        response = requests.get(url + "&callback=cb_1", timeout=15)
        self.assertTrue(response.text.startswith("cb_1("), response.text)
        payload = json.loads(response.text[len("cb_1("):response.text.rindex(")")])
        self.assertEqual([m["message"]["n"] for m in payload if m.get("type") == "message"], [3])

    def test_long_poll_unknown_conn_is_401(self):
        response = requests.get(f"{self.server.base}/listen?conn_id={uuid.uuid4()}", timeout=10)
        self.assertEqual(response.status_code, 401)

    def test_disconnect(self):
        conn = self.connect("dc", ["x"])
        response = requests.get(f"{self.server.base}/disconnect?conn_id={conn['conn_id']}", timeout=5)
        self.assertEqual(response.json(), True)
        response = requests.post(f"{self.server.base}/disconnect", json={"conn_id": conn["conn_id"]}, timeout=5)
        self.assertEqual(response.json(), False)


class PresenceStateEditTest(ContractTestBase):
    def test_presence_joined_and_parted(self):
        config = {"pres": {"notify_presence": True, "broadcast_presence_with_user_lists": True}}
        watcher = self.connect("watcher", ["pres"], channel_configs=config)
        ws = self.open_ws(watcher["conn_id"])
        try:
            joiner = self.connect("joiner", ["pres"], user_state={"mood": "ok"}, state_public_keys=["mood"])
            got = drain(ws, lambda m: any(x.get("type") == "presence" for x in m))
            joined = [m for m in got if m.get("type") == "presence"]
            self.assertEqual(len(joined), 1, got)
            self.assertEqual(joined[0]["user"], "joiner")
            self.assertEqual(joined[0]["message"], {"action": "joined"})
            self.assertEqual(joined[0]["users"], ["joiner", "watcher"])
            self.assertEqual(joined[0]["state"], {"mood": "ok"})
            requests.get(f"{self.server.base}/disconnect?conn_id={joiner['conn_id']}", timeout=5)
            got = drain(ws, lambda m: any(x.get("type") == "presence" for x in m))
            parted = [m for m in got if m.get("type") == "presence"]
            self.assertEqual(parted[0]["message"], {"action": "parted"})
        finally:
            ws.close()

    def test_user_state_change(self):
        config = {"st": {"notify_state": True}}
        watcher = self.connect("st_watch", ["st"], channel_configs=config)
        self.connect("st_user", ["st"], user_state={"a": 1, "secret": "x"}, state_public_keys=["a"])
        ws = self.open_ws(watcher["conn_id"])
        try:
            drain(ws, lambda m: False, timeout=0.5)
            response = self.api("POST", "/user_state", {"user": "st_user", "user_state": {"a": 2, "secret": "y"}})
            self.assertEqual(response.status_code, 200, response.text)
            body = response.json()
            self.assertEqual(body["user_state"], {"a": 2, "secret": "y"})
            self.assertEqual(body["public_keys"], ["a"])
            self.assertIn({"key": "a", "value": 2}, body["changed_state"])
            got = drain(ws, lambda m: any(x.get("type") == "user_state_change" for x in m))
            change = [m for m in got if m.get("type") == "user_state_change"][0]
            self.assertEqual(change["user"], "st_user")
            self.assertEqual(change["message"]["state"], {"a": 2})
            self.assertEqual(change["message"]["changed"], [{"key": "a", "value": 2}])
            response = self.api("POST", "/user_state", {"user": "nobody-at-all", "user_state": {}})
            self.assertEqual(response.status_code, 422)
            self.assertEqual(response.json(), {"user": ["Unknown user"]})
        finally:
            ws.close()

    def test_edit_and_delete_in_history(self):
        config = {"hist": {"store_history": True, "history_size": 2}}
        conn = self.connect("h", ["hist"], channel_configs=config)
        ws = self.open_ws(conn["conn_id"])
        try:
            items = self.publish([{"channel": "hist", "user": "s", "message": {"n": n}} for n in range(3)])
            info = self.api("POST", "/info", {"info": {"channels": ["hist"]}}).json()
            history = info["channels"]["hist"]["history"]
            self.assertEqual([m["message"]["n"] for m in history], [1, 2])
            target = items[2]["uuid"]
            self.publish([{"uuid": target, "channel": "hist", "message": {"n": 20}}], method="PATCH")
            info = self.api("POST", "/info", {"info": {"channels": ["hist"]}}).json()
            edited = info["channels"]["hist"]["history"][-1]
            self.assertEqual(edited["message"], {"n": 20})
            self.assertIsNotNone(edited["edited"])
            self.publish([{"uuid": target, "channel": "hist"}], method="DELETE")
            info = self.api("POST", "/info", {"info": {"channels": ["hist"]}}).json()
            self.assertEqual([m["message"]["n"] for m in info["channels"]["hist"]["history"]], [1])
            got = drain(ws, lambda m: any(x.get("type") == "message:delete" for x in m))
            kinds = [m.get("type") for m in got]
            self.assertIn("message:edit", kinds)
            self.assertIn("message:delete", kinds)
        finally:
            ws.close()

    def test_admin_json_counts(self):
        self.connect("adm", ["adm-c"])
        response = self.api("GET", "/admin/admin.json")
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        for key in ("remembered_user_count", "unique_user_count", "total_connections", "total_channels",
                    "total_messages", "total_unique_messages", "channels", "users", "uptime", "version"):
            self.assertIn(key, body)
        self.assertGreaterEqual(body["total_connections"], 1)


class SplitDeploymentTest(unittest.TestCase):
    """broker + REST adapter + two gateways as separate processes."""

    def setUp(self):
        self.broker_address = f"127.0.0.1:{free_port()}"
        common = ["--broker_address", self.broker_address, "--broker_listen", self.broker_address]
        self.broker = Server("broker/broker", args=common, wait_port=False)
        wait_for_port(int(self.broker_address.rsplit(":", 1)[1]), self.broker.process)
        self.rest = Server("rest_adapter/rest_adapter", args=common)
        self.gateways = [Server("gateway/gateway", args=common) for _ in range(2)]

    def tearDown(self):
        for server in self.gateways + [self.rest, self.broker]:
            code, stderr = server.close()
            self.assertEqual(code, 0, stderr[-3000:])

    def test_connect_on_rest_adapter_receive_on_either_gateway(self):
        path = "/connect"
        sockets = []
        for index, gateway in enumerate(self.gateways):
            response = requests.post(self.rest.base + path, json={"username": f"s{index}", "channels": ["split"]},
                                     headers=self.rest.headers(path), timeout=10)
            self.assertEqual(response.status_code, 200, response.text)
            sockets.append(websocket.create_connection(
                f"ws://127.0.0.1:{gateway.port}/ws?conn_id={response.json()['conn_id']}", timeout=5))
        try:
            for gateway in self.gateways:
                self.assertTrue(clients_held(gateway.base, "websocket", 1))
            response = requests.post(self.rest.base + "/message", headers=self.rest.headers("/message"), timeout=10,
                                     json=[{"channel": "split", "user": "s", "message": {"hello": 1}}])
            self.assertEqual(response.status_code, 200, response.text)
            for ws in sockets:
                got = drain(ws, lambda m: any(x.get("type") == "message" for x in m))
                self.assertEqual([m["message"] for m in got if m.get("type") == "message"], [{"hello": 1}])
        finally:
            for ws in sockets:
                ws.close()


if __name__ == "__main__":
    unittest.main()
