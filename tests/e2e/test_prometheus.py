"""Debian's real Prometheus scrapes a running all-in-one server: the exposition parses, and the
values it stores match what the test did (a WebSocket client, N publications)."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import requests
import websocket

from server_fixture import Server, free_port, wait_for_port

PUBLICATIONS = 5


def prometheus_binary():
    return shutil.which("prometheus") or ("/usr/bin/prometheus" if os.path.exists("/usr/bin/prometheus") else None)


@unittest.skipIf(prometheus_binary() is None, "prometheus is not installed (tools/install.sh installs it)")
class PrometheusScrapeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cs-prom-")
        self.server = Server()
        self.prom_port = free_port()
        config = os.path.join(self.tmp, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: channelstream
    static_configs:
      - targets: ["127.0.0.1:{self.server.port}"]
""")
        self.prom_log = open(os.path.join(self.tmp, "prometheus.log"), "w")
        self.prometheus = subprocess.Popen(
            [prometheus_binary(), f"--config.file={config}", f"--storage.tsdb.path={self.tmp}/data",
             f"--web.listen-address=127.0.0.1:{self.prom_port}"],
            stdout=self.prom_log, stderr=subprocess.STDOUT)

    def tearDown(self):
        self.prometheus.terminate()
        try:
            self.prometheus.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.prometheus.kill()
            self.prometheus.wait()
        self.prom_log.close()
        self.server.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def query(self, expression):
        response = requests.get(f"http://127.0.0.1:{self.prom_port}/api/v1/query",
                                params={"query": expression}, timeout=5)
        response.raise_for_status()
        result = response.json()["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, expression, predicate, timeout=30.0):
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.query(expression)
            except requests.RequestException:
                value = None
            if value is not None and predicate(value):
                return value
            time.sleep(0.5)
        with open(os.path.join(self.tmp, "prometheus.log")) as log:
            self.fail(f"{expression} = {value} after {timeout}s; prometheus log:\n{log.read()[-3000:]}")

    def test_prometheus_scrapes_connections_and_deliveries(self):
        wait_for_port(self.prom_port, self.prometheus, timeout=30)
        path = "/connect"
        conn = requests.post(self.server.base + path, json={"username": "prom", "channels": ["metrics"]},
                             headers=self.server.headers(path), timeout=5).json()
        ws = websocket.create_connection(f"ws://127.0.0.1:{self.server.port}/ws?conn_id={conn['conn_id']}",
                                         timeout=5)
        try:
            for i in range(PUBLICATIONS):
                path = "/message"
                requests.post(self.server.base + path, timeout=5, headers=self.server.headers(path),
                              json=[{"channel": "metrics", "user": "sys", "message": {"i": i}}]).raise_for_status()
            received = 0
            deadline = time.monotonic() + 10
            while received < PUBLICATIONS and time.monotonic() < deadline:
                received += sum(1 for m in __import__("json").loads(ws.recv()) if m.get("type") == "message")
            self.assertEqual(received, PUBLICATIONS)
            self.wait_for('up{job="channelstream"}', lambda v: v == 1)
            self.wait_for("channelstream_deliveries_total", lambda v: v >= PUBLICATIONS)
            self.wait_for("channelstream_publications_total", lambda v: v >= PUBLICATIONS)
            self.wait_for('channelstream_connections{transport="websocket"}', lambda v: v == 1)
            self.wait_for("channelstream_users", lambda v: v >= 1)
            self.wait_for('channelstream_http_requests_total{endpoint="/message",status="200"}',
                          lambda v: v >= PUBLICATIONS)
            self.wait_for("process_resident_memory_bytes", lambda v: v > 0)
        finally:
            ws.close()


if __name__ == "__main__":
    unittest.main()
