"""The split REST adapter on its own: it warns about default secrets as the all-in-one does, and
its /openapi.json does not offer /ws, /listen and /disconnect (it answers them 404; the gateways
serve them)."""
import unittest

import requests

from server_fixture import Server, free_port

DEFAULT_SECRET_WARNINGS = ("'secret' is the default value", "'admin_secret' is the default value")


class SplitRestAdapterTest(unittest.TestCase):
    def start(self, *args):
        # No broker is needed: nothing here calls it.
        return Server("rest_adapter/rest_adapter", args=["--broker_address", f"127.0.0.1:{free_port()}", *args])

    def stop(self, server):
        code, stderr = server.close()
        self.assertEqual(code, 0, stderr[-3000:])
        return stderr

    def test_warns_about_default_secrets(self):
        stderr = self.stop(self.start())
        for warning in DEFAULT_SECRET_WARNINGS:
            self.assertIn(warning, stderr)

    def test_no_warning_with_own_secrets(self):
        stderr = self.stop(self.start("--secret", "s3cret", "--admin_secret", "adm1n"))
        for warning in DEFAULT_SECRET_WARNINGS:
            self.assertNotIn(warning, stderr)

    def test_openapi_lists_only_what_it_serves(self):
        server = self.start()
        try:
            response = requests.get(server.base + "/openapi.json", headers=server.headers("/openapi.json"), timeout=10)
            self.assertEqual(response.status_code, 200, response.text)
            paths = response.json()["paths"]
            for path in ("/connect", "/message", "/info", "/admin/admin.json"):
                self.assertIn(path, paths)
            for path in ("/ws", "/listen", "/disconnect"):
                self.assertNotIn(path, paths)
                self.assertEqual(requests.get(server.base + path, params={"conn_id": "x"}, timeout=10).status_code,
                                 404, path)
        finally:
            self.stop(server)


if __name__ == "__main__":
    unittest.main()
