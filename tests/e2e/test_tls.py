"""TLS on the HTTP side (tls_cert / tls_key): https and wss on the all-in-one, the gateway and the
REST adapter, certificate reload on SIGHUP, refusals that leave the server serving."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import requests
import websocket

from server_fixture import Server, binary, free_port, wait_for_port
from tls_certs import file_fingerprint, make_ca, make_server_cert, served_fingerprint
from waits import clients_held, wait_until


def drain(ws, want, timeout=5.0):
    """Reads frames until `want(messages)` holds; heartbeats ([]) are skipped."""
    gathered = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ws.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        gathered.extend(json.loads(frame))
        if want(gathered):
            return gathered
    return gathered


def messages(frames):
    return [m["message"] for m in frames if m.get("type") == "message"]


class Certificates:
    """A CA, two server certificates it signed, an expired one, and a second unrelated CA."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cs-tls-")
        self.ca = make_ca(self.dir, "ca")
        self.other_ca = make_ca(self.dir, "other_ca")
        self.cert1, self.key1 = make_server_cert(self.dir, "server1")
        self.cert2, self.key2 = make_server_cert(self.dir, "server2")
        self.expired, self.expired_key = make_server_cert(self.dir, "expired", days=-1)
        # What the server is pointed at: copies that tests overwrite before a SIGHUP.
        self.live_cert = os.path.join(self.dir, "live.pem")
        self.live_key = os.path.join(self.dir, "live.key")
        self.install(self.cert1, self.key1)

    def install(self, cert, key):
        shutil.copyfile(cert, self.live_cert)
        shutil.copyfile(key, self.live_key)

    def args(self):
        return ["--tls_cert", self.live_cert, "--tls_key", self.live_key]

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class TlsServerTestBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = Certificates()

    @classmethod
    def tearDownClass(cls):
        cls.certs.close()

    def start(self, path="channelstream", extra=()):
        server = Server(path, args=self.certs.args() + list(extra))
        server.base = f"https://127.0.0.1:{server.port}"
        self.addCleanup(self.stop, server)
        return server

    def stop(self, server):
        code, stderr = server.close()
        self.assertEqual(code, 0, stderr[-3000:])
        self.assertNotIn("AddressSanitizer", stderr)

    def post(self, server, path, body):
        response = requests.post(server.base + path, json=body, headers=server.headers(path), timeout=10,
                                 verify=self.certs.ca)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def open_wss(self, port, conn_id):
        return websocket.create_connection(f"wss://127.0.0.1:{port}/ws?conn_id={conn_id}", timeout=5,
                                           sslopt={"ca_certs": self.certs.ca})


class AllInOneTlsTest(TlsServerTestBase):
    def setUp(self):
        self.certs.install(self.certs.cert1, self.certs.key1)
        self.server = self.start()

    def test_signed_connect_and_message_over_https_reach_a_wss_client(self):
        conn_id = self.post(self.server, "/connect", {"username": "alice", "channels": ["tls"]})["conn_id"]
        ws = self.open_wss(self.server.port, conn_id)
        try:
            self.assertTrue(clients_held(self.server.base, "websocket", 1, verify=self.certs.ca))
            self.post(self.server, "/message", [{"channel": "tls", "user": "bob", "message": {"text": "hi"}}])
            got = drain(ws, lambda m: messages(m))
            self.assertEqual(messages(got), [{"text": "hi"}])
            # Client frames (a 0.7 text heartbeat, a large one spanning several TLS records) are read.
            ws.send("[]")
            ws.send("x" * 40000)
            ws.ping("p")
            self.post(self.server, "/message", [{"channel": "tls", "user": "bob", "message": {"text": "again"}}])
            self.assertEqual(messages(drain(ws, lambda m: messages(m))), [{"text": "again"}])
        finally:
            ws.close()

    def test_long_poll_over_https_receives_a_message(self):
        conn_id = self.post(self.server, "/connect", {"username": "poller", "channels": ["lp"]})["conn_id"]
        result = {}

        def poll():
            result["response"] = requests.get(f"{self.server.base}/listen?conn_id={conn_id}", timeout=15,
                                              verify=self.certs.ca)

        thread = threading.Thread(target=poll)
        thread.start()
        self.assertTrue(clients_held(self.server.base, "long_poll", 1, verify=self.certs.ca))
        self.post(self.server, "/message", [{"channel": "lp", "user": "bob", "message": {"n": 1}}])
        thread.join(15)
        response = result["response"]
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(messages(response.json()), [{"n": 1}])

    def test_plaintext_request_to_the_tls_port_fails_and_the_server_keeps_serving(self):
        for _ in range(3):
            with self.assertRaises(requests.exceptions.ConnectionError):
                requests.get(f"http://127.0.0.1:{self.server.port}/info", timeout=5)
        # A raw client that sends garbage and one that connects and says nothing are closed too.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as raw:
            raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            raw.settimeout(5)
            try:
                while raw.recv(4096):
                    pass
            except ConnectionResetError:
                pass
        self.assertEqual(self.post(self.server, "/info", {})["channels"], {})

    def test_a_client_that_does_not_trust_the_ca_fails(self):
        with self.assertRaises(requests.exceptions.SSLError):
            requests.get(self.server.base + "/info", timeout=5, verify=self.certs.other_ca)
        with self.assertRaises(ssl.SSLError):
            websocket.create_connection(f"wss://127.0.0.1:{self.server.port}/ws?conn_id=x", timeout=5,
                                        sslopt={"ca_certs": self.certs.other_ca})
        self.post(self.server, "/info", {})  # still serving

    def test_sighup_serves_the_new_certificate_to_new_connections_only(self):
        old = file_fingerprint(self.certs.cert1)
        new = file_fingerprint(self.certs.cert2)
        self.assertEqual(served_fingerprint(self.server.port, self.certs.ca), old)
        conn_id = self.post(self.server, "/connect", {"username": "keeper", "channels": ["reload"]})["conn_id"]
        ws = self.open_wss(self.server.port, conn_id)
        try:
            self.certs.install(self.certs.cert2, self.certs.key2)
            self.server.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 5
            while served_fingerprint(self.server.port, self.certs.ca) != new and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(served_fingerprint(self.server.port, self.certs.ca), new)
            # The wss connection opened before the reload keeps working.
            self.post(self.server, "/message", [{"channel": "reload", "user": "b", "message": {"after": 1}}])
            self.assertEqual(messages(drain(ws, lambda m: messages(m))), [{"after": 1}])

            # A file that does not load keeps the current certificate.
            with open(self.certs.live_cert, "w") as broken:
                broken.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
            self.server.process.send_signal(signal.SIGHUP)
            # The server has handled the signal once it says it kept the current certificate.
            self.assertTrue(wait_until(lambda: "TLS certificate not reloaded" in self.server.stderr_text()))
            self.assertEqual(served_fingerprint(self.server.port, self.certs.ca), new)
            self.post(self.server, "/message", [{"channel": "reload", "user": "b", "message": {"after": 2}}])
            self.assertEqual(messages(drain(ws, lambda m: messages(m))), [{"after": 2}])
        finally:
            ws.close()
        code, stderr = self.server.close()
        self.assertEqual(code, 0, stderr[-3000:])
        self.assertIn("TLS certificate reloaded", stderr)
        self.assertIn("TLS certificate not reloaded, keeping the current one", stderr)


class ExpiredCertificateTest(TlsServerTestBase):
    def test_expired_certificate_is_served_with_a_warning_and_clients_refuse_it(self):
        self.certs.install(self.certs.expired, self.certs.expired_key)
        server = Server("channelstream", args=self.certs.args())
        try:
            with self.assertRaises(requests.exceptions.SSLError) as raised:
                requests.get(f"https://127.0.0.1:{server.port}/info", timeout=5, verify=self.certs.ca)
            self.assertIn("expired", str(raised.exception))
        finally:
            code, stderr = server.close()
        self.assertEqual(code, 0, stderr[-3000:])
        self.assertIn("has expired", stderr)


class TlsConfigTest(TlsServerTestBase):
    def run_binary(self, *args):
        return subprocess.run([binary("channelstream"), "--port", str(free_port()), *args],
                              capture_output=True, text=True, timeout=20)

    def test_cert_without_key_and_key_without_cert_exit_2(self):
        for args in (["--tls_cert", self.certs.cert1], ["--tls_key", self.certs.key1]):
            result = self.run_binary(*args)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("tls_cert and tls_key must be set together", result.stderr)

    def test_unreadable_files_and_bad_version_exit_2(self):
        result = self.run_binary("--tls_cert", "/nonexistent.pem", "--tls_key", self.certs.key1)
        self.assertEqual(result.returncode, 2)
        self.assertIn("/nonexistent.pem", result.stderr)
        result = self.run_binary("--tls_cert", self.certs.cert1, "--tls_key", self.certs.key2)
        self.assertEqual(result.returncode, 2)
        self.assertIn("tls_key", result.stderr)
        self.assertIn("mismatch", result.stderr)
        result = self.run_binary("--tls_min_version", "1.1")
        self.assertEqual(result.returncode, 2)
        self.assertIn("tls_min_version", result.stderr)

    def test_tls_min_version_1_3_refuses_a_tls_1_2_client(self):
        self.certs.install(self.certs.cert1, self.certs.key1)
        server = self.start(extra=["--tls_min_version", "1.3"])
        context = ssl.create_default_context(cafile=self.certs.ca)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            with self.assertRaises(ssl.SSLError):
                context.wrap_socket(raw, server_hostname="127.0.0.1")
        self.assertEqual(served_fingerprint(server.port, self.certs.ca), file_fingerprint(self.certs.cert1))


class SplitDeploymentTlsTest(TlsServerTestBase):
    """broker (gRPC, plain) + REST adapter over https + gateway over wss/https, SIGHUP on each."""

    def test_rest_adapter_and_gateway_over_tls(self):
        self.certs.install(self.certs.cert1, self.certs.key1)
        broker_address = f"127.0.0.1:{free_port()}"
        common = ["--broker_address", broker_address, "--broker_listen", broker_address]
        broker = Server("broker/broker", args=common, wait_port=False)
        self.addCleanup(self.stop, broker)
        wait_for_port(int(broker_address.rsplit(":", 1)[1]), broker.process)
        rest = self.start("rest_adapter/rest_adapter", common)
        gateway = self.start("gateway/gateway", common)
        conn_id = self.post(rest, "/connect", {"username": "split", "channels": ["s"]})["conn_id"]
        ws = self.open_wss(gateway.port, conn_id)
        try:
            self.assertTrue(clients_held(gateway.base, "websocket", 1, verify=self.certs.ca))
            self.post(rest, "/message", [{"channel": "s", "user": "b", "message": {"split": 1}}])
            self.assertEqual(messages(drain(ws, lambda m: messages(m))), [{"split": 1}])
            response = requests.get(f"{gateway.base}/disconnect?conn_id={conn_id}", timeout=10,
                                    verify=self.certs.ca)
            self.assertEqual(response.status_code, 200, response.text)
        finally:
            ws.close()
        self.certs.install(self.certs.cert2, self.certs.key2)
        for server in (rest, gateway):
            server.process.send_signal(signal.SIGHUP)
        new = file_fingerprint(self.certs.cert2)
        for server in (rest, gateway):
            deadline = time.monotonic() + 5
            while served_fingerprint(server.port, self.certs.ca) != new and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(served_fingerprint(server.port, self.certs.ca), new)


if __name__ == "__main__":
    unittest.main()
