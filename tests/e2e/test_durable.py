"""Durable state (data_dir): users, connections, channels, history and catch-up survive a graceful
restart (SIGTERM) and a crash (kill -9) of the all-in-one server and of the split broker."""
import concurrent.futures
import glob
import json
import os
import shutil
import signal
import tempfile
import time
import unittest

import requests
import websocket

from server_fixture import Server, free_port, wait_for_port


def drain(ws, want, timeout=10.0):
    """Reads frames until `want(messages)` holds for the messages gathered; heartbeats skipped."""
    gathered = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ws.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        if not frame:
            break
        gathered.extend(json.loads(frame))
        if want(gathered):
            break
    return gathered


def wait_until(condition, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def messages_of(frames):
    return [m["message"] for m in frames if m.get("type") == "message"]


class DurableTestBase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="channelstream-durable-")
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def start(self, path="channelstream", args=(), port=None, wait_port=True):
        server = Server(path, ["--data_dir", self.data_dir, "--gc_conns_after", "600", *args], port=port,
                        wait_port=wait_port)
        self.servers.append(server)
        return server

    def stop(self, server):
        code, stderr = server.close()
        self.assertEqual(code, 0, stderr[-3000:])
        self.assertIn("snapshot written", stderr)
        return stderr

    def kill(self, server):
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()

    def api(self, server, method, path, body=None):
        response = requests.request(method, server.base + path, json=body, headers=server.headers(path), timeout=10)
        self.assertEqual(response.status_code, 200, f"{path}: {response.text[:500]}")
        return response.json()

    def admin(self, server):
        body = self.api(server, "GET", "/admin/admin.json")
        body.pop("uptime")
        body.pop("uptime_seconds")
        return body

    def wait_ready(self, server):
        wait_until(lambda: requests.get(f"{server.base}/ready", timeout=2).status_code == 200,
                   what=f"{server.base}/ready")

    def open_ws(self, server, conn_id):
        return websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws?conn_id={conn_id}", timeout=5)

    def connect(self, server, username, channels, **extra):
        body = {"username": username, "channels": channels,
                "channel_configs": {c: {"store_history": True, "history_size": 1000} for c in channels}}
        body.update(extra)
        return self.api(server, "POST", "/connect", body)

    def publish(self, server, channel, messages):
        return self.api(server, "POST", "/message",
                        [{"channel": channel, "user": "backend", "message": m} for m in messages])


class AllInOneDurableTest(DurableTestBase):
    def test_sigterm_restart_keeps_users_channels_history_and_catchup(self):
        server = self.start()
        alice = self.connect(server, "alice", ["room"], user_state={"color": "red", "secret": 1},
                             state_public_keys=["color"])
        bob = self.connect(server, "bob", ["room", "news"])
        self.wait_ready(server)
        ws = self.open_ws(server, alice["conn_id"])
        self.publish(server, "room", [{"n": 1}])
        seen = drain(ws, lambda got: {"n": 1} in messages_of(got))
        self.assertIn({"n": 1}, messages_of(seen))
        self.publish(server, "news", [{"headline": "before restart"}])
        before = self.admin(server)
        info_before = self.api(server, "POST", "/info")
        self.stop(server)  # alice's socket is open: the restart detaches it
        ws.close()

        server = self.start()
        self.assertEqual(self.admin(server), before)
        self.assertEqual(self.api(server, "POST", "/info"), info_before)
        again = self.connect(server, "alice", ["room"], conn_id=alice["conn_id"])
        self.assertEqual(again["conn_id"], alice["conn_id"])
        self.assertEqual(again["state"], {"color": "red", "secret": 1})
        self.assertEqual(again["channels"], ["room"])
        history = [m["message"] for m in again["channels_info"]["channels"]["room"]["history"]]
        self.assertEqual(history, [{"n": 1}])

        # Published while alice was away (after the restart): her catch-up, and only that.
        self.publish(server, "room", [{"n": 2}, {"n": 3}])
        self.wait_ready(server)
        ws = self.open_ws(server, alice["conn_id"])
        try:
            got = drain(ws, lambda got: {"n": 3} in messages_of(got))
            self.assertEqual(messages_of(got), [{"n": 2}, {"n": 3}], got)
            self.assertTrue(all(m["catchup"] for m in got if m.get("type") == "message"))
        finally:
            ws.close()
        # bob never attached: everything since his connect, across the restart.
        ws = self.open_ws(server, bob["conn_id"])
        try:
            got = drain(ws, lambda got: {"n": 3} in messages_of(got))
            self.assertEqual(messages_of(got), [{"n": 1}, {"headline": "before restart"}, {"n": 2}, {"n": 3}], got)
        finally:
            ws.close()
        self.stop(server)

    def test_kill_9_keeps_every_answered_publication(self):
        server = self.start()
        conn = self.connect(server, "k", ["burst"])
        answered = []

        def publish_one(n):
            return self.publish(server, "burst", [{"n": n}])[0]["uuid"]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answered = list(pool.map(publish_one, range(400)))
        self.kill(server)  # no snapshot: only the journal has them

        server = self.start()
        info = self.api(server, "POST", "/info", {"info": {"channels": ["burst"], "include_history": True}})
        history = info["channels"]["burst"]["history"]
        self.assertEqual(sorted(m["uuid"] for m in history), sorted(answered))
        self.assertEqual(sorted(m["message"]["n"] for m in history), list(range(400)))
        again = self.connect(server, "k", ["burst"], conn_id=conn["conn_id"])
        self.assertEqual(again["conn_id"], conn["conn_id"])
        self.stop(server)

    def test_damaged_journal_refuses_to_start(self):
        server = self.start()
        self.connect(server, "x", ["c"])
        self.publish(server, "c", [{"n": 1}, {"n": 2}])
        self.kill(server)
        journal = max(glob.glob(os.path.join(self.data_dir, "journal-*.log")), key=os.path.getsize)
        with open(journal, "r+b") as f:
            f.seek(10)
            byte = f.read(1)
            f.seek(10)
            f.write(bytes([byte[0] ^ 0xFF]))
        server = self.start(wait_port=False)
        self.assertEqual(server.process.wait(timeout=20), 2)
        _, stderr = server.close()
        self.assertIn(journal, stderr)
        self.assertIn("byte offset 0", stderr)


class SplitBrokerDurableTest(DurableTestBase):
    def test_broker_restart_keeps_state_and_catchup(self):
        broker_port = free_port()
        address = f"127.0.0.1:{broker_port}"

        def start_broker():
            broker = self.start("broker/broker", ["--broker_listen", address], port=broker_port, wait_port=False)
            wait_for_port(broker_port, broker.process)
            return broker

        broker = start_broker()
        link = ["--broker_address", address, "--broker_reconnect_delay", "0.1"]
        rest = Server("rest_adapter/rest_adapter", link)
        gateway = Server("gateway/gateway", link)
        self.servers += [rest, gateway]
        conn = self.connect(rest, "sam", ["split"], user_state={"k": "v"})
        self.publish(rest, "split", [{"n": 1}])
        before = self.admin(rest)
        self.stop(broker)

        broker = start_broker()
        wait_until(lambda: requests.get(f"{rest.base}/ready", timeout=2).status_code == 200, what="rest adapter")
        self.assertEqual(self.admin(rest), before)
        self.publish(rest, "split", [{"n": 2}])
        self.kill(broker)  # crash: {"n": 2} is only in the journal
        broker = start_broker()
        # The gateway notices the crash and reconnects; until then an attach is refused (the
        # socket closes without frames), which leaves the connection's marks alone.
        got = []

        def catchup_arrives():
            ws = self.open_ws(gateway, conn["conn_id"])
            try:
                got[:] = drain(ws, lambda frames: {"n": 2} in messages_of(frames), timeout=2)
            finally:
                ws.close()
            return bool(messages_of(got))

        wait_until(catchup_arrives, what="catch-up through the gateway")
        self.assertEqual(messages_of(got), [{"n": 1}, {"n": 2}], got)
        for server in (gateway, rest):
            server.close()
        self.stop(broker)


if __name__ == "__main__":
    unittest.main()
