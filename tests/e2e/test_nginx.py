"""deploy/nginx/channelstream.conf, run by Debian's nginx, in front of a split deployment (broker,
two gateways, one REST adapter): the signed API, WebSockets, long poll and /disconnect all go
through nginx; clients are spread over both gateways; losing one gateway leaves its clients to
reconnect, through nginx, to the other."""
import re
import tempfile
import threading
import time
import unittest
import uuid

import requests
import websocket

from nginx_fixture import Nginx
from split_stack import SplitStack, receive_until

WS_LOG = re.compile(r'"GET /ws\?conn_id=([0-9a-f-]+) HTTP/1\.1" (\d+) .*upstream=(\S+)')


def has_message(body):
    return lambda got: any(m.get("type") == "message" and m.get("message") == body for m in got)


class NginxFront:
    """The stack plus nginx, and the client calls made through nginx."""

    def __init__(self, gateway_args=()):
        self.workdir = tempfile.TemporaryDirectory(prefix="channelstream-nginx-")
        self.stack = SplitStack(gateway_args=gateway_args)
        try:
            self.nginx = Nginx(self.workdir.name, [g.port for g in self.stack.gateways], self.stack.rest.port)
        except Exception:
            self.stack.close()
            self.workdir.cleanup()
            raise
        self.ws_base = f"ws://127.0.0.1:{self.nginx.port}"

    def call(self, method, path, body=None, signed=True, **kwargs):
        headers = self.stack.rest.headers(path) if signed else {}
        return requests.request(method, self.nginx.base + path, json=body, headers=headers, timeout=10, **kwargs)

    def connect(self, username, channels):
        response = self.call("POST", "/connect", {"username": username, "channels": channels})
        if response.status_code != 200:
            raise AssertionError(f"/connect through nginx: {response.status_code} {response.text}")
        return response.json()["conn_id"]

    def publish(self, channel, body):
        response = self.call("POST", "/message", [{"channel": channel, "user": "backend", "message": body}])
        if response.status_code != 200:
            raise AssertionError(f"/message through nginx: {response.status_code} {response.text}")

    def open_ws(self, conn_id):
        return websocket.create_connection(f"{self.ws_base}/ws?conn_id={conn_id}", timeout=5)

    def ws_log_entries(self, want_count, timeout=10.0):
        """(conn_id, status, upstream) of the /ws requests nginx logged (it logs a WebSocket when it
        ends), once there are `want_count` of them."""
        deadline = time.monotonic() + timeout
        entries = []
        while time.monotonic() < deadline:
            try:
                with open(self.nginx.access_log) as log:
                    entries = WS_LOG.findall(log.read())
            except FileNotFoundError:
                entries = []
            if len(entries) >= want_count:
                return entries
            time.sleep(0.05)
        raise AssertionError(f"nginx logged {len(entries)} of {want_count} WebSockets:\n"
                             f"{self.nginx.log_tail(self.nginx.access_log)}")

    def close(self):
        """Stops nginx and every server; raises if a server did not exit cleanly."""
        try:
            self.nginx.close()
        finally:
            results = self.stack.close()
            self.workdir.cleanup()
        failed = {name: result for name, result in results.items() if result[0] != 0}
        if failed:
            raise AssertionError("servers did not exit cleanly: " +
                                 "; ".join(f"{name} exited {code}: {err[-1500:]}" for name, (code, err) in failed.items()))


class NginxFrontTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.front = NginxFront()

    @classmethod
    def tearDownClass(cls):
        cls.front.close()

    def test_signed_api_goes_to_the_rest_adapter(self):
        response = self.front.call("POST", "/connect", {"username": "alice", "channels": ["lobby"]})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["channels"], ["lobby"])
        unsigned = self.front.call("POST", "/connect", {"username": "alice"}, signed=False)
        self.assertEqual(unsigned.status_code, 403, unsigned.text)
        info = self.front.call("POST", "/info", {"info": {"channels": ["lobby"]}})
        self.assertEqual(info.status_code, 200, info.text)
        self.assertIn("lobby", info.json()["channels"])

    def test_openapi_through_nginx_names_nginx_and_only_rest_routes(self):
        response = self.front.call("GET", "/openapi.json")
        self.assertEqual(response.status_code, 200, response.text)
        document = response.json()
        # Host is passed with its port, so the API explorer calls nginx back.
        self.assertEqual(document["servers"][0]["url"], self.front.nginx.base)
        for path in ("/ws", "/listen", "/disconnect"):
            self.assertNotIn(path, document["paths"])
        self.assertIn("/connect", document["paths"])

    def test_websockets_on_both_gateways_receive_a_publication(self):
        conn_ids = [self.front.connect(f"ws-user-{index}", ["spread"]) for index in range(6)]
        sockets = [self.front.open_ws(conn_id) for conn_id in conn_ids]
        try:
            body = {"text": "hello everyone", "id": str(uuid.uuid4())}
            self.front.publish("spread", body)
            for conn_id, ws in zip(conn_ids, sockets):
                self.assertIsNotNone(receive_until(ws, has_message(body)), f"{conn_id} got nothing")
        finally:
            for ws in sockets:
                ws.close()
        entries = [e for e in self.front.ws_log_entries(len(conn_ids)) if e[0] in conn_ids]
        self.assertEqual(sorted(e[0] for e in entries), sorted(conn_ids))
        self.assertTrue(all(status == "101" for _, status, _ in entries), entries)
        gateways = {f"127.0.0.1:{g.port}" for g in self.front.stack.gateways}
        self.assertEqual({upstream for _, _, upstream in entries}, gateways, entries)

    def test_long_poll_receives_a_message(self):
        conn_id = self.front.connect("poller", ["polls"])
        result = {}

        def poll():
            try:
                result["response"] = requests.get(f"{self.front.nginx.base}/listen", params={"conn_id": conn_id},
                                                  timeout=15)
            except requests.RequestException as error:
                result["error"] = error

        poller = threading.Thread(target=poll)
        poller.start()
        body = {"text": "for the poller"}
        self.front.publish("polls", body)
        poller.join(timeout=20)
        self.assertFalse(poller.is_alive(), "the long poll did not return")
        self.assertNotIn("error", result, result.get("error"))
        response = result["response"]
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual([m["message"] for m in response.json() if m.get("type") == "message"], [body])

    def test_long_poll_unknown_connection_is_401(self):
        response = requests.get(f"{self.front.nginx.base}/listen", params={"conn_id": str(uuid.uuid4())}, timeout=10)
        self.assertEqual(response.status_code, 401, response.text)

    def test_disconnect_get_and_post(self):
        first = self.front.connect("leaver", ["bye"])
        second = self.front.connect("leaver", ["bye"])
        response = requests.get(f"{self.front.nginx.base}/disconnect", params={"conn_id": first}, timeout=10)
        self.assertEqual((response.status_code, response.json()), (200, True), response.text)
        response = requests.get(f"{self.front.nginx.base}/disconnect", params={"conn_id": first}, timeout=10)
        self.assertEqual((response.status_code, response.json()), (200, False), response.text)
        response = requests.post(f"{self.front.nginx.base}/disconnect", json={"conn_id": second}, timeout=10)
        self.assertEqual((response.status_code, response.json()), (200, True), response.text)
        info = self.front.call("POST", "/info", {"info": {"channels": ["bye"]}}).json()
        self.assertEqual(info["channels"].get("bye", {}).get("total_connections", 0), 0, info)


class GatewayLossTest(unittest.TestCase):
    """One gateway stops; its WebSocket clients reconnect through nginx and land on the other."""

    def setUp(self):
        self.front = NginxFront()

    def tearDown(self):
        self.front.close()

    def test_clients_of_a_stopped_gateway_reconnect_through_nginx(self):
        front = self.front
        conn_ids = [front.connect(f"loss-user-{index}", ["loss"]) for index in range(4)]
        sockets = dict((conn_id, front.open_ws(conn_id)) for conn_id in conn_ids)
        try:
            first = {"n": 1}
            front.publish("loss", first)
            for conn_id, ws in sockets.items():
                self.assertIsNotNone(receive_until(ws, has_message(first)), conn_id)

            stopped = front.stack.gateways[0]
            code, stderr = stopped.close()
            self.assertEqual(code, 0, stderr[-2000:])
            # Published once gw0 is gone: the other gateway's clients get it, gw0's are closed.
            second = {"n": 2}
            front.publish("loss", second)
            closed = []
            for conn_id, ws in sockets.items():
                try:
                    if receive_until(ws, has_message(second)) is None:
                        self.fail(f"{conn_id}: neither the message nor a close")
                except (websocket.WebSocketConnectionClosedException, ConnectionError):
                    closed.append(conn_id)
            self.assertTrue(0 < len(closed) < len(conn_ids), f"closed: {closed}: both gateways had clients")

            for conn_id in closed:
                sockets[conn_id].close()
                sockets[conn_id] = front.open_ws(conn_id)  # nginx skips the stopped gateway
            third = {"n": 3}
            front.publish("loss", third)
            for conn_id, ws in sockets.items():
                self.assertIsNotNone(receive_until(ws, has_message(third)), conn_id)
        finally:
            for ws in sockets.values():
                ws.close()

        # /disconnect keeps working through nginx with one gateway left.
        response = requests.get(f"{front.nginx.base}/disconnect", params={"conn_id": conn_ids[0]}, timeout=10)
        self.assertEqual((response.status_code, response.json()), (200, True), response.text)


if __name__ == "__main__":
    unittest.main()
