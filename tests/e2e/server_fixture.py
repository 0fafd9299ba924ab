"""Starts Channelstream binaries on free loopback ports for end-to-end tests."""
import os
import signal
import socket
import subprocess
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
            raise RuntimeError(f"server exited early with {process.returncode}: {process.stderr.read()}")
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
        if wait_port:
            wait_for_port(self.port, self.process)
        self.base = f"http://127.0.0.1:{self.port}"

    def sign(self, value):
        return itsdangerous.TimestampSigner(self.secret).sign(value).decode()

    def headers(self, path):
        return {"x-channelstream-secret": self.sign(path)}

    def close(self, timeout=10):
        """SIGTERM, then returns (exit code, stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
            return None, err
        return self.process.returncode, err
