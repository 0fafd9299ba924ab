"""A test client that tracks positions the way our browser client does: every delivered object's
"offset" and "epoch" per stream (its channel, or "" for private messages), presented back as
`since` when it reconnects. It records the `n` of every message it gets, so a test can assert
exactly-once, in-order delivery."""
import json
import threading
import time
import urllib.parse

import requests
import websocket


class Publisher(threading.Thread):
    """Publishes {"n": i} to `channel` through the signed REST API, one message per POST on one
    keep-alive connection, at most `rate` per second, until stopped. `published` counts the
    messages answered 200 (only those must arrive)."""

    def __init__(self, server, channel, rate=1000, payload_bytes=0):
        super().__init__(daemon=True)
        self.server, self.channel, self.rate = server, channel, rate
        self.padding = "x" * payload_bytes
        self.published = 0
        self.errors = []
        self._stop = threading.Event()

    def run(self):
        session = requests.Session()
        started = time.monotonic()
        while not self._stop.is_set():
            message = {"n": self.published}
            if self.padding:
                message["pad"] = self.padding
            try:
                response = session.post(self.server.base + "/message",
                                        json=[{"channel": self.channel, "user": "publisher", "message": message}],
                                        headers=self.server.headers("/message"), timeout=10)
            except requests.RequestException as error:  # a failed call is not a published message
                self.errors.append(repr(error))
                continue
            if response.status_code == 200:
                self.published += 1
            else:
                self.errors.append(f"{response.status_code} {response.text[:200]}")
            ahead = self.published / self.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)

    def stop(self):
        self._stop.set()
        self.join(timeout=30)
        return self.published


class TrackingClient:
    def __init__(self, conn_id, present_positions=False):
        self.conn_id = conn_id
        self.present_positions = present_positions
        self.positions = {}   # stream -> {"offset": n, "epoch": e}
        self.received = []    # the n of every message, in arrival order
        self.failures = []    # recovery_failed objects
        self.ws = None

    def note(self, item):
        if not isinstance(item, dict):
            return
        if "offset" in item and "epoch" in item:
            self.positions[item.get("channel") or ""] = {"offset": item["offset"], "epoch": item["epoch"]}
        if item.get("type") == "recovery_failed":
            self.failures.append(item)
        message = item.get("message")
        if item.get("type") == "message" and isinstance(message, dict) and "n" in message:
            self.received.append(message["n"])

    def note_frame(self, data):
        for item in json.loads(data):
            self.note(item)

    def since(self):
        since = {"channels": {name: position for name, position in self.positions.items() if name}}
        if "" in self.positions:
            since["user"] = self.positions[""]
        return json.dumps(since)

    def url(self, port, path="/ws"):
        url = f"ws://127.0.0.1:{port}{path}?conn_id={self.conn_id}" if path == "/ws" else \
            f"http://127.0.0.1:{port}{path}?conn_id={self.conn_id}"
        if self.present_positions and self.positions:
            url += "&since=" + urllib.parse.quote(self.since())
        return url

    def open(self, port):
        self.ws = websocket.create_connection(self.url(port), timeout=5)

    def read_for(self, seconds):
        """Reads frames for `seconds` (or until the socket ends)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                opcode, data = self.ws.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                return True
            except (websocket.WebSocketConnectionClosedException, OSError):
                return False
            if opcode == websocket.ABNF.OPCODE_TEXT:
                self.note_frame(data)
            elif opcode == websocket.ABNF.OPCODE_CLOSE:
                return False
        return True

    def read_until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while not predicate() and time.monotonic() < deadline:
            if not self.read_for(min(0.2, max(0.01, deadline - time.monotonic()))):
                return predicate()
        return predicate()

    def close_cleanly(self):
        """The close handshake, reading every data frame until the server's close frame and EOF
        (websocket-client's close() would discard data frames that arrive meanwhile)."""
        try:
            self.ws.send_close(websocket.STATUS_NORMAL)
            self.ws.settimeout(5)
            while True:
                opcode, data = self.ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    self.note_frame(data)
                elif opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
        except (websocket.WebSocketException, OSError):
            pass
        finally:
            self.ws.shutdown()
            self.ws = None

    def abandon(self):
        """Drops the socket without a close handshake (its gateway died)."""
        try:
            self.ws.shutdown()
        except Exception:  # already gone
            pass
        self.ws = None

    def long_poll(self, port, timeout=10):
        response = requests.get(self.url(port, "/listen"), timeout=timeout)
        response.raise_for_status()
        for item in response.json():
            self.note(item)


def exactly_once_report(received, published):
    """'' when `received` is 0..published-1 in order; otherwise what is wrong."""
    if received == list(range(published)):
        return ""
    seen = set()
    duplicates = sorted({n for n in received if n in seen or seen.add(n)})
    missing = sorted(set(range(published)) - set(received))
    out_of_order = sum(1 for a, b in zip(received, received[1:]) if b < a)
    return (f"{len(received)} received of {published}: {len(missing)} missing {missing[:10]}, "
            f"{len(duplicates)} duplicated {duplicates[:10]}, {out_of_order} out of order")
