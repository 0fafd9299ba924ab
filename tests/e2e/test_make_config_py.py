"""tools/make_config.py (no Bazel needed: reads a binary's --help) writes the same commented ini
as `channelstream_utils make_config`, for every binary; a missing binary is a clear error."""
import os
import subprocess
import sys
import tempfile
import unittest

from runfiles import source_file
from server_fixture import binary

BINARIES = ["channelstream", "broker/broker", "gateway/gateway", "rest_adapter/rest_adapter"]


def run(command, env=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CHANNELSTREAM_")}
    full_env.update(env or {})
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=full_env)


def body(ini_text):
    """The ini without its first line (which names the tool that wrote it)."""
    return ini_text.split("\n", 1)[1]


class MakeConfigScriptTest(unittest.TestCase):
    def make_config_py(self, *args, env=None):
        return run([sys.executable, source_file("tools/make_config.py"), *args], env=env)

    def test_same_ini_as_channelstream_utils_from_every_binary(self):
        expected = run([binary("tools/channelstream_utils"), "make_config"])
        self.assertEqual(expected.returncode, 0, expected.stderr)
        for path in BINARIES:
            with self.subTest(binary=path):
                result = self.make_config_py("--binary", binary(path))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("[channelstream]", result.stdout)
                self.assertEqual(body(result.stdout), body(expected.stdout))

    def test_environment_values_and_output_file(self):
        env = {"CHANNELSTREAM_PORT": "9123", "CHANNELSTREAM_SECRET": "from-env"}
        with tempfile.TemporaryDirectory() as workdir:
            target = os.path.join(workdir, "channelstream.ini")
            result = self.make_config_py("--binary", binary("channelstream"), "-o", target, env=env)
            self.assertEqual(result.returncode, 0, result.stderr)
            with open(target) as written:
                text = written.read()
        expected = run([binary("tools/channelstream_utils"), "make_config"], env=env)
        self.assertEqual(body(text), body(expected.stdout))
        self.assertIn("\nport = 9123\n", text)
        self.assertIn("\nsecret = from-env\n", text)

    def test_missing_binary_is_a_clear_error(self):
        result = self.make_config_py("--binary", "/nonexistent/channelstream")
        self.assertEqual(result.returncode, 2)
        self.assertIn("cannot run '/nonexistent/channelstream'", result.stderr)
        result = self.make_config_py("--binary", "/bin/true")
        self.assertEqual(result.returncode, 2)
        self.assertIn("no keys", result.stderr)


if __name__ == "__main__":
    unittest.main()
