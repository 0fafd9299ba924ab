"""Starts Channelstream binaries on free loopback ports for end-to-end tests."""
import os
import signal
import socket
import subprocess
import threading
import time

import itsdangerous

RUNFILES = os.environ.get("TEST_SRCDIR", "")
WORKSPACE = os.environ.get("TEST_WORKSPACE", "channelstream")


def binary(label_path):
    """Path of a built binary given its workspace-relative path, e.g. 'channelstream'."""
    for candidate in (os.path.join(RUNFILES, WORKSPACE, label_path), os.path.join("bazel-bin", label_path)):
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(label_path)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr_text() if hasattr(process, "stderr_text") else process.stderr.read()
            raise RuntimeError(f"server exited early with {process.returncode}: {err}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open")


class Server:
    """One process of ours; `args` are --KEY VALUE pairs. Stops with SIGTERM on close()."""

    def __init__(self, path="channelstream", args=(), port=None, wait_port=True, env=None):
        self.port = port or free_port()
        self.secret = "secret"
        command = [binary(path), "--port", str(self.port)] + list(args)
        if "--secret" in args:
            self.secret = args[list(args).index("--secret") + 1]
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=full_env)
        # Drained as it comes: the access log writes a line per request, and a full pipe would
        # block the server mid-test.
        self._stderr_lines = []
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        self.process.stderr_text = self.stderr_text
        if wait_port:
            wait_for_port(self.port, self.process)
        self.base = f"http://127.0.0.1:{self.port}"

    def _drain_stderr(self):
        for line in self.process.stderr:
            self._stderr_lines.append(line)

    def stderr_text(self):
        """What the server wrote on stderr so far."""
        return "".join(self._stderr_lines)

    def sign(self, value):
        return itsdangerous.TimestampSigner(self.secret).sign(value).decode()

    def headers(self, path):
        return {"x-channelstream-secret": self.sign(path)}

    def close(self, timeout=10):
        """SIGTERM, then returns (exit code, stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self._stderr_thread.join(timeout=5)
            return None, self.stderr_text()
        self._stderr_thread.join(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()
        return self.process.returncode, self.stderr_text()
