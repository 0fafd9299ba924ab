"""Failover (issue "Lossless delivery"): gateways and REST adapters see a restarted broker again
within about broker_reconnect_delay whatever the outage length; gRPC listeners own their port and
every port is range-checked; a gateway stopped with SIGTERM drains its clients (every queued frame,
then WebSocket close 1001, long polls answered 200) within drain_timeout and exits 0."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

import requests
import websocket

from server_fixture import Server, binary, free_port, wait_for_port
from waits import wait_until

OUTAGE_SECONDS = 20  # gRPC's default backoff would wait until ~26 s for the next attempt
RECONNECT_LIMIT = 1.5  # seconds from the broker's port accepting to /ready and a REST call
DRAIN_TIMEOUT = 30  # generous: a loaded machine (or ASan) reads the 6.5 MB slowly; the drain ends when it has
MESSAGES = 400  # x 16 KiB: more than loopback socket buffers hold, so frames wait in the gateway
PAD = "x" * 16000


def status_of(method, url, **kwargs):
    try:
        return requests.request(method, url, timeout=2, **kwargs).status_code
    except requests.RequestException:
        return None


def metric(server, name_with_labels):
    text = requests.get(server.base + "/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(name_with_labels + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def run(path, *args, timeout=20):
    return subprocess.run([binary(path), *args], capture_output=True, text=True, timeout=timeout)


def post(server, path, body):
    response = requests.post(server.base + path, json=body, headers=server.headers(path), timeout=10)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    return response.json()


class ReconnectTest(unittest.TestCase):
    """Split mode: the broker stops for OUTAGE_SECONDS and comes back on the same port."""

    def test_gateway_and_rest_adapter_see_a_restarted_broker_within_limit(self):
        broker_port = free_port()
        address = f"127.0.0.1:{broker_port}"
        broker = Server("broker/broker", ["--broker_listen", address], port=broker_port)
        rest = Server("rest_adapter/rest_adapter", ["--broker_address", address])
        gateway = Server("gateway/gateway", ["--broker_address", address])
        servers = [gateway, rest, broker]
        try:
            ready = gateway.base + "/ready"
            self.assertTrue(wait_until(lambda: status_of("GET", ready) == 200, 20), "gateway never ready")
            code, stderr = broker.close()
            self.assertEqual(code, 0, stderr)
            self.assertTrue(wait_until(lambda: status_of("GET", ready) == 503, 5), "gateway still ready")

            # The outage: both parts report the broker gone the whole time, and keep asking (the
            # REST adapter's channel goes through its reconnect backoff meanwhile).
            outage_end = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < outage_end:
                self.assertEqual(status_of("GET", ready), 503)
                self.assertEqual(status_of("POST", rest.base + "/info", json={}, headers=rest.headers("/info")), 503)
                time.sleep(0.25)

            started = time.monotonic()
            broker = Server("broker/broker", ["--broker_listen", address], port=broker_port)
            servers[2] = broker
            accepting = time.monotonic()  # wait_for_port polls every 50 ms: at most that late
            recovered = {}

            def watch(name, check):
                if wait_until(check, 10, interval=0.01):
                    recovered[name] = time.monotonic() - accepting

            watchers = [
                threading.Thread(target=watch, args=("gateway /ready", lambda: status_of("GET", ready) == 200)),
                threading.Thread(target=watch, args=("REST /info", lambda: status_of(
                    "POST", rest.base + "/info", json={}, headers=rest.headers("/info")) == 200)),
            ]
            for watcher in watchers:
                watcher.start()
            for watcher in watchers:
                watcher.join()
            print(f"broker restarted after a {OUTAGE_SECONDS} s outage (port accepting {accepting - started:.2f} s "
                  f"after launch); recovered after: " +
                  ", ".join(f"{name} {seconds:.2f} s" for name, seconds in sorted(recovered.items())),
                  file=sys.stderr)
            for name in ("gateway /ready", "REST /info"):
                self.assertIn(name, recovered, f"{name} did not recover within 10 s")
                self.assertLess(recovered[name], RECONNECT_LIMIT, f"{name}: {recovered}")
        finally:
            for server in servers:
                server.close()


class PortTest(unittest.TestCase):
    def test_second_broker_on_the_same_port_exits_2(self):
        broker_port = free_port()
        address = f"127.0.0.1:{broker_port}"
        broker = Server("broker/broker", ["--broker_listen", address], port=broker_port)
        try:
            # gRPC sets SO_REUSEPORT by default: without GRPC_ARG_ALLOW_REUSEPORT=0 these would share it.
            for path, args in (("broker/broker", ["--broker_listen", address]),
                               ("channelstream", ["--port", "0", "--embedded_broker_listen", "true",
                                                  "--broker_listen", address])):
                with self.subTest(binary=path):
                    result = run(path, *args)
                    self.assertEqual(result.returncode, 2, result.stderr)
                    self.assertIn(f"cannot listen on broker_listen '{address}' (address in use", result.stderr)
            self.assertIsNone(broker.process.poll(), "the first broker died")
        finally:
            code, stderr = broker.close()
            self.assertEqual(code, 0, stderr)

    def test_ports_out_of_range_exit_2_naming_the_key(self):
        cases = [
            ("broker/broker", ["--broker_listen", "127.0.0.1:99999"], "'broker_listen' must be host:port"),
            ("broker/broker", ["--metrics_listen", "127.0.0.1:70000"], "'metrics_listen' must be host:port"),
            ("gateway/gateway", ["--broker_address", "127.0.0.1:0"], "'broker_address' must be host:port (port 1-65535)"),
            ("rest_adapter/rest_adapter", ["--broker_address", "127.0.0.1:65536"], "'broker_address' must be"),
            ("channelstream", ["--port", "99999"], "'port' must be 0-65535"),
        ]
        for path, args, message in cases:
            with self.subTest(binary=path, args=args):
                result = run(path, *args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(message, result.stderr)
                self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)


def read_until_close(ws, timeout):
    """Reads every frame until the server's close frame; returns (messages, close code, reason)."""
    messages = []
    ws.settimeout(timeout)
    while True:
        opcode, frame = ws.recv_data_frame(True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = struct.unpack("!H", frame.data[:2])[0] if len(frame.data) >= 2 else None
            return messages, code, frame.data[2:].decode()
        if opcode == websocket.ABNF.OPCODE_TEXT:
            messages.extend(m for m in json.loads(frame.data) if m.get("type") == "message")


class DrainTest(unittest.TestCase):
    """SIGTERM: the listener closes, every frame queued for a client that is not reading is still
    delivered, then close 1001; a waiting long poll is answered 200; exit 0 within drain_timeout."""

    DRAIN_ARGS = ["--drain_timeout", str(DRAIN_TIMEOUT), "--max_queue_bytes", str(64 << 20),
                  "--wake_connections_after", "60"]

    def check_drain(self, gateway, rest):
        reader = post(rest, "/connect", {"username": "reader", "channels": ["stream"]})["conn_id"]
        poller = post(rest, "/connect", {"username": "poller", "channels": ["quiet"]})["conn_id"]
        ws = websocket.create_connection(f"ws://127.0.0.1:{gateway.port}/ws?conn_id={reader}", timeout=10)
        try:
            # Attached once a message reaches it.
            post(rest, "/message", [{"channel": "stream", "user": "app", "message": {"n": -1}}])
            self.assertEqual(read_messages(ws, 1)[0]["message"], {"n": -1})

            poll_result = {}

            def long_poll():
                try:
                    response = requests.get(f"{gateway.base}/listen?conn_id={poller}", timeout=30)
                    poll_result["status"], poll_result["body"] = response.status_code, response.text
                except requests.RequestException as error:
                    poll_result["error"] = repr(error)
                poll_result["at"] = time.monotonic()

            poll_thread = threading.Thread(target=long_poll)
            poll_thread.start()
            self.assertTrue(wait_until(lambda: metric(gateway, 'channelstream_connections{transport="long_poll"}') == 1, 10))

            # The reader reads nothing now: what the socket buffers do not hold waits in the gateway.
            frames_before = metric(gateway, "channelstream_client_frames_total")
            for first in range(0, MESSAGES, 50):
                post(rest, "/message", [{"channel": "stream", "user": "app", "message": {"n": n, "pad": PAD}}
                                        for n in range(first, first + 50)])
            self.assertTrue(wait_until(
                lambda: metric(gateway, "channelstream_client_frames_total") >= frames_before + MESSAGES, 10))

            sigterm = time.monotonic()
            gateway.process.send_signal(signal.SIGTERM)

            def refused():
                try:
                    with socket.create_connection(("127.0.0.1", gateway.port), timeout=0.5):
                        return False
                except ConnectionRefusedError:
                    return True
                except OSError:
                    return False
            self.assertTrue(wait_until(refused, 5), "the listener stayed open")
            self.assertIsNone(gateway.process.poll(), "exited before its client took the queued frames")
            poll_thread.join(timeout=10)
            self.assertEqual(poll_result.get("status"), 200, poll_result)
            self.assertIsInstance(json.loads(poll_result["body"]), list)
            self.assertLess(poll_result["at"] - sigterm, 2, "the long poll waited")

            messages, code, reason = read_until_close(ws, DRAIN_TIMEOUT)
            closed = time.monotonic() - sigterm
            self.assertEqual((code, reason), (1001, "going away"))
            self.assertEqual([m["message"]["n"] for m in messages], list(range(MESSAGES)))
        finally:
            ws.close()
        try:
            code = gateway.process.wait(timeout=DRAIN_TIMEOUT + 5)
        except subprocess.TimeoutExpired:
            code = None
        elapsed = time.monotonic() - sigterm
        print(f"drain: close 1001 received {closed:.2f} s, exit {code} {elapsed:.2f} s after SIGTERM", file=sys.stderr)
        self.assertEqual(code, 0, gateway.stderr_text()[-2000:])
        self.assertLess(elapsed, DRAIN_TIMEOUT)
        stderr = gateway.stderr_text()
        self.assertIn("drained: every client closed", stderr)
        self.assertNotIn("broker stream lost", stderr)
        return stderr

    def test_gateway_binary(self):
        broker_port = free_port()
        address = f"127.0.0.1:{broker_port}"
        broker = Server("broker/broker", ["--broker_listen", address], port=broker_port)
        rest = Server("rest_adapter/rest_adapter", ["--broker_address", address])
        gateway = Server("gateway/gateway", ["--broker_address", address, *self.DRAIN_ARGS])
        try:
            self.assertTrue(wait_until(lambda: status_of("GET", gateway.base + "/ready") == 200, 20))
            self.check_drain(gateway, rest)
            # The broker saw the stream end as the gateway leaving, after its detaches.
            self.assertTrue(wait_until(lambda: "disconnected (stream" in broker.stderr_text(), 5),
                            broker.stderr_text()[-2000:])
        finally:
            for server in (gateway, rest, broker):
                server.close()

    def test_all_in_one(self):
        server = Server("channelstream", self.DRAIN_ARGS)
        try:
            self.check_drain(server, server)
        finally:
            server.close()


def read_messages(ws, count, timeout=10):
    messages = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        ws.settimeout(max(0.05, deadline - time.monotonic()))
        frame = ws.recv()
        if frame:
            messages.extend(m for m in json.loads(frame) if m.get("type") == "message")
    return messages


if __name__ == "__main__":
    unittest.main()
