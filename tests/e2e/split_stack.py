"""A split deployment on free loopback ports: one broker, N gateways and one REST adapter, each
started with its example ini from deploy/config (so those files are known to load), the
addresses and the secret given on the command line."""
import json
import time

import requests
import websocket

from runfiles import source_file
from server_fixture import Server, free_port

SECRET = "nginx-test-secret"


def ini(name):
    return source_file(f"deploy/config/{name}")


class SplitStack:
    def __init__(self, gateways=2, gateway_args=(), broker_args=()):
        broker_port = free_port()
        self.broker_address = f"127.0.0.1:{broker_port}"
        self.servers = []
        try:
            # The broker serves gRPC only; its port is the one waited for.
            self.broker_args = ["-i", ini("broker.ini"), "--broker_listen", self.broker_address, *broker_args]
            self.broker = self._start("broker/broker", port=broker_port, args=self.broker_args)
            link = ["--broker_address", self.broker_address]
            self.rest = self._start("rest_adapter/rest_adapter",
                                    args=["-i", ini("rest-adapter.ini"), *link, "--secret", SECRET])
            self.gateways = [
                self._start("gateway/gateway", args=["-i", ini("gateway.ini"), *link, "--gateway_id", f"gw{index}",
                                                     *gateway_args])
                for index in range(gateways)]
            for gateway in self.gateways:
                self.wait_until_gateway_serves(gateway)
        except Exception:
            self.close()
            raise

    def _start(self, path, **kwargs):
        server = Server(path, **kwargs)
        self.servers.append(server)
        return server

    def restart_broker(self):
        """SIGTERM the broker, then start it again on the same address; returns its exit code."""
        code, _ = self.broker.close(timeout=30)
        self.broker = self._start("broker/broker", port=self.broker.port, args=self.broker_args)
        return code

    def wait_until_gateway_serves(self, gateway, timeout=20.0):
        """A gateway's port opens before its broker stream does: wait until a WebSocket opened on
        it directly receives a private message."""
        deadline = time.monotonic() + timeout
        attempt = 0
        while time.monotonic() < deadline:
            attempt += 1
            user = f"probe-{gateway.port}-{attempt}"
            conn_id = self.rest_call("POST", "/connect", {"username": user}).json()["conn_id"]
            try:
                ws = websocket.create_connection(f"ws://127.0.0.1:{gateway.port}/ws?conn_id={conn_id}", timeout=2)
            except (OSError, websocket.WebSocketException):
                continue
            try:
                self.rest_call("POST", "/message", [{"pm_users": [user], "user": "probe", "message": {"probe": 1}}])
                if receive_until(ws, lambda got: any(m.get("type") == "message" for m in got), timeout=2):
                    return
            except (OSError, websocket.WebSocketException):
                pass
            finally:
                ws.close()  # the probe connection is left to the broker's garbage collection
        raise TimeoutError(f"gateway on port {gateway.port} delivered nothing within {timeout} s")

    def rest_call(self, method, path, body=None):
        """A signed call straight to the REST adapter (not through nginx); raises unless 200."""
        response = requests.request(method, self.rest.base + path, json=body,
                                    headers=self.rest.headers(path), timeout=10)
        if response.status_code != 200:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response

    def close(self):
        """Stops every process still running (gateways first); returns {name: (code, stderr)}."""
        results = {}
        for server in reversed(self.servers):
            results[server.process.args[0].rsplit("/", 1)[-1] + f":{server.port}"] = server.close()
        return results


def receive_until(ws, want, timeout=5.0):
    """Reads frames (JSON lists) until `want(messages gathered)`; returns them, or None at the
    deadline. Raises websocket.WebSocketConnectionClosedException when the server closes."""
    gathered = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ws.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        except websocket.WebSocketProtocolException as error:
            # Debian's websocket-client (1.2) refuses close codes newer than its list, such as
            # 1012 "service restart" that a stopping gateway may send: still a close.
            raise websocket.WebSocketConnectionClosedException(f"closed by the server ({error})") from error
        if frame == "":  # close frame
            raise websocket.WebSocketConnectionClosedException("closed by the server")
        batch = json.loads(frame)
        assert isinstance(batch, list), frame
        gathered.extend(batch)
        if want(gathered):
            return gathered
    return None
