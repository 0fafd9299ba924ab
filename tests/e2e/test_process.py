"""The binaries' command line, startup and shutdown (Foundation issue)."""
import os
import subprocess
import tempfile
import unittest

import requests

from server_fixture import Server, binary, free_port

BINARIES = ["channelstream", "broker/broker", "gateway/gateway", "rest_adapter/rest_adapter"]


def run(path, *args, env=None, timeout=20):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([binary(path), *args], capture_output=True, text=True, timeout=timeout, env=full_env)


class CommandLineTest(unittest.TestCase):
    def test_unknown_key_exits_2_with_one_line(self):
        for path in BINARIES:
            with self.subTest(binary=path):
                result = run(path, "--no_such_key", "1")
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("unknown key 'no_such_key'", result.stderr)
                self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)

    def test_bad_value_exits_2(self):
        result = run("channelstream", "--port", "eighty")
        self.assertEqual(result.returncode, 2)
        self.assertIn("'port' must be an integer", result.stderr)

    def test_bad_environment_value_exits_2(self):
        result = run("channelstream", env={"CHANNELSTREAM_VALIDATE_REQUESTS": "maybe"})
        self.assertEqual(result.returncode, 2)
        self.assertIn("CHANNELSTREAM_VALIDATE_REQUESTS", result.stderr)

    def test_missing_ini_exits_2(self):
        result = run("channelstream", "-i", "/nonexistent/channelstream.ini")
        self.assertEqual(result.returncode, 2)
        self.assertIn("/nonexistent/channelstream.ini", result.stderr)

    def test_help_lists_every_key(self):
        result = run("channelstream", "--help")
        self.assertEqual(result.returncode, 0)
        for key in ("port", "secret", "allow_posting_from", "require_path_signature", "max_queue_bytes"):
            self.assertIn(f"--{key}", result.stdout)

    def test_port_in_use_exits_2(self):
        server = Server()
        try:
            result = run("channelstream", "--port", str(server.port))
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn(str(server.port), result.stderr)
        finally:
            server.close()


class StartupTest(unittest.TestCase):
    def test_ini_file_environment_and_flags(self):
        port = free_port()
        with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as ini:
            ini.write(f"[app:main]\nuse = egg:channelstream\n\n[channelstream]\nport = {port}\n"
                      "secret = from-ini\nallow_posting_from = 127.0.0.1, 10.0.0.0/8\n")
        try:
            # The environment overrides the ini's secret; the command line's log_level wins too.
            server = Server(args=["-i", ini.name, "--log_level", "DEBUG"], port=port,
                            env={"CHANNELSTREAM_SECRET": "from-env"})
            server.secret = "from-env"
            try:
                response = requests.post(server.base + "/connect", json={"username": "u"},
                                         headers=server.headers("/connect"), timeout=5)
                self.assertEqual(response.status_code, 200, response.text)
                server.secret = "from-ini"
                response = requests.post(server.base + "/connect", json={"username": "u"},
                                         headers=server.headers("/connect"), timeout=5)
                self.assertEqual(response.status_code, 401)
            finally:
                code, _ = server.close()
                self.assertEqual(code, 0)
        finally:
            os.unlink(ini.name)

    def test_banner_and_graceful_shutdown(self):
        server = Server()
        code, stderr = server.close()
        self.assertEqual(code, 0, stderr)
        self.assertIn(f"http://127.0.0.1:{server.port}", stderr)
        self.assertIn("/ws?conn_id=", stderr)
        self.assertIn("SIGTERM", stderr)
        self.assertIn("'secret' is the default value", stderr)


if __name__ == "__main__":
    unittest.main()
