"""Health, readiness, metrics, logs, --version and trusted_proxies against the real binaries."""
import json
import subprocess
import time
import unittest

import requests
import websocket

from server_fixture import Server, binary, free_port


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def sample(metrics_text, name_with_labels):
    for line in metrics_text.splitlines():
        if line.startswith(name_with_labels + " "):
            return float(line.split(" ")[1])
    return None


class VersionTest(unittest.TestCase):
    def test_every_binary_prints_its_version_and_exits_0(self):
        for path in ("channelstream", "broker/broker", "gateway/gateway", "rest_adapter/rest_adapter"):
            done = subprocess.run([binary(path), "--version"], capture_output=True, text=True, timeout=20)
            self.assertEqual(done.returncode, 0, (path, done.stderr))
            self.assertRegex(done.stdout, r"^\S+ \d+\.\d+\.\d+\n$")


class AllInOneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(args=["--debug", "true"])

    @classmethod
    def tearDownClass(cls):
        code, err = cls.server.close()
        if code != 0:
            raise AssertionError(f"server exited with {code}: {err[-3000:]}")

    def get(self, path, **kwargs):
        return requests.get(self.server.base + path, timeout=5, **kwargs)

    def test_health_and_ready(self):
        response = self.get("/health")
        self.assertEqual((response.status_code, response.json()), (200, {"status": "ok"}))
        self.assertTrue(wait_until(lambda: self.get("/ready").status_code == 200))
        self.assertEqual(self.get("/ready").json(), {"status": "ready"})
        head = requests.head(self.server.base + "/health", timeout=5)
        self.assertEqual(head.status_code, 200)
        self.assertEqual(head.content, b"")
        self.assertEqual(requests.post(self.server.base + "/health", timeout=5).status_code, 405)

    def test_metrics_exposition(self):
        response = self.get("/metrics")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        text = response.text
        for family, kind in (("channelstream_connections", "gauge"), ("channelstream_deliveries_total", "counter"),
                             ("channelstream_publications_total", "counter"), ("channelstream_users", "gauge"),
                             ("channelstream_channels", "gauge"), ("process_cpu_seconds_total", "counter"),
                             ("process_resident_memory_bytes", "gauge"), ("process_open_fds", "gauge")):
            self.assertIn(f"# TYPE {family} {kind}\n", text)
            self.assertIn(f"# HELP {family} ", text)
        for line in text.splitlines():
            if line.startswith("# TYPE") and line.endswith(" counter"):
                self.assertTrue(line.split(" ")[2].endswith("_total"), line)

    def test_access_log_masks_secrets_and_gives_4xx_reasons(self):
        requests.post(self.server.base + "/info?secret=TOPSECRETTOKEN", json={}, timeout=5)
        self.assertTrue(wait_until(lambda: "path=/info?secret=***" in self.server.stderr_text()),
                        self.server.stderr_text()[-2000:])
        log = self.server.stderr_text()
        self.assertNotIn("TOPSECRETTOKEN", log)
        line = [l for l in log.splitlines() if "path=/info?secret=***" in l][-1]
        self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO access method=POST ")
        self.assertIn("status=401", line)
        self.assertIn("client=127.0.0.1", line)
        self.assertIn("reason=", line)
        self.assertIn("duration_ms=", line)

    def test_debug_log_names_connections(self):
        path = "/connect"
        conn = requests.post(self.server.base + path, json={"username": "dbg", "channels": ["c"]},
                             headers=self.server.headers(path), timeout=5).json()
        ws = websocket.create_connection(f"ws://127.0.0.1:{self.server.port}/ws?conn_id={conn['conn_id']}",
                                         timeout=5)
        try:
            self.assertTrue(wait_until(lambda: f"websocket attached: conn_id={conn['conn_id']} user=dbg"
                                       in self.server.stderr_text()), self.server.stderr_text()[-2000:])
        finally:
            ws.close()
        self.assertTrue(wait_until(lambda: f"websocket closing: conn_id={conn['conn_id']}" in self.server.stderr_text()))
        self.assertIn("DEBUG broker: Connect ok", self.server.stderr_text())

    def test_gateway_id_defaults_to_the_hostname(self):
        import socket
        self.assertTrue(wait_until(lambda: f"gateway {socket.gethostname()}:{self.server.port}: broker stream open"
                                   in self.server.stderr_text()), self.server.stderr_text()[-2000:])


class JsonLogTest(unittest.TestCase):
    def test_every_line_is_one_json_object(self):
        server = Server(args=["--log_format", "json"])
        try:
            requests.get(server.base + "/nope\x7f?secret=x", timeout=5)
            requests.get(server.base + "/health", timeout=5)
            self.assertTrue(wait_until(lambda: '"path":"/health"' in server.stderr_text()))
        finally:
            code, err = server.close()
        self.assertEqual(code, 0, err[-2000:])
        lines = [json.loads(line) for line in err.splitlines() if line.strip()]
        self.assertTrue(lines)
        for line in lines:
            self.assertTrue({"ts", "level", "msg"} <= set(line), line)
            self.assertTrue(line["ts"].endswith("Z"))
        access = [l for l in lines if l["msg"] == "access" and l["path"] == "/health"]
        self.assertEqual(access[0]["status"], "200")

    def test_bad_log_format_is_a_startup_error(self):
        done = subprocess.run([binary("channelstream"), "--log_format", "xml", "--port", str(free_port())],
                              capture_output=True, text=True, timeout=20)
        self.assertEqual(done.returncode, 2)
        self.assertIn("log_format", done.stderr)


class SplitDeploymentTest(unittest.TestCase):
    def test_ready_is_503_without_a_broker_and_200_with_it(self):
        broker_port = free_port()
        gateway = Server("gateway/gateway", args=["--broker_address", f"127.0.0.1:{broker_port}",
                                                  "--broker_reconnect_delay", "0.1"])
        rest = Server("rest_adapter/rest_adapter", args=["--broker_address", f"127.0.0.1:{broker_port}",
                                                         "--ready_timeout", "0.2"])
        broker = None
        try:
            for server in (gateway, rest):
                response = requests.get(server.base + "/ready", timeout=5)
                self.assertEqual(response.status_code, 503)
                self.assertEqual(response.json()["status"], "unavailable")
                self.assertIn("broker", response.json()["reason"])
                self.assertEqual(requests.get(server.base + "/health", timeout=5).status_code, 200)
            metrics_port = free_port()
            broker = Server("broker/broker", port=metrics_port,
                            args=["--broker_listen", f"127.0.0.1:{broker_port}",
                                  "--metrics_listen", f"127.0.0.1:{metrics_port}"])
            for server in (gateway, rest):
                self.assertTrue(wait_until(lambda: requests.get(server.base + "/ready", timeout=5).status_code == 200,
                                           timeout=15))
            text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
            self.assertEqual(sample(text, "channelstream_gateway_streams"), 1)
            self.assertIn("# TYPE channelstream_users gauge", text)
            self.assertEqual(requests.get(f"http://127.0.0.1:{metrics_port}/ready", timeout=5).status_code, 200)
            self.assertIn("# TYPE channelstream_connections gauge",
                          requests.get(gateway.base + "/metrics", timeout=5).text)
            self.assertIn("channelstream_http_requests_total{endpoint=\"/ready\"",
                          requests.get(rest.base + "/metrics", timeout=5).text)
        finally:
            for server in (gateway, rest, broker):
                if server:
                    server.close()


class TrustedProxiesTest(unittest.TestCase):
    def post_info(self, server, forwarded_for):
        return requests.post(server.base + "/info", json={}, timeout=5,
                             headers=dict(server.headers("/info"), **{"X-Forwarded-For": forwarded_for}))

    def test_forwarded_address_decides_allow_posting_from(self):
        server = Server(args=["--trusted_proxies", "127.0.0.1", "--allow_posting_from", "10.0.0.0/8"])
        try:
            self.assertEqual(self.post_info(server, "203.0.113.5").status_code, 403)
            self.assertEqual(self.post_info(server, "203.0.113.5, 10.1.2.3").status_code, 200)
            self.assertEqual(self.post_info(server, "10.1.2.3, 203.0.113.5").status_code, 403)
            self.assertEqual(self.post_info(server, "garbage").status_code, 403)  # ignored: the peer counts
            self.assertTrue(wait_until(lambda: "client=203.0.113.5" in server.stderr_text()))
        finally:
            code, err = server.close()
        self.assertEqual(code, 0, err[-2000:])

    def test_untrusted_peer_cannot_forge_its_address(self):
        server = Server(args=["--allow_posting_from", "10.0.0.0/8"])
        try:
            self.assertEqual(self.post_info(server, "10.1.2.3").status_code, 403)
        finally:
            server.close()

    def test_bad_trusted_proxies_entry_is_a_startup_error(self):
        done = subprocess.run([binary("channelstream"), "--trusted_proxies", "nonsense/99", "--port", str(free_port())],
                              capture_output=True, text=True, timeout=20)
        self.assertEqual(done.returncode, 2)
        self.assertIn("trusted_proxies", done.stderr)


if __name__ == "__main__":
    unittest.main()
