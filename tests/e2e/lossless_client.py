"""A test client that tracks positions the way our browser client does: every delivered object's
"offset" and "epoch" per stream (its channel, or "" for private messages), presented back as
`since` when it reconnects. It records the `n` of every message it gets, so a test can assert
exactly-once, in-order delivery."""
import json
import multiprocessing
import uuid
import time
import urllib.parse

import requests
import websocket


class Publisher:
    """Publishes {"n": i} to `channel` through the signed REST API, one message per POST on one
    keep-alive connection, at most `rate` per second, until stopped. Runs in its own process so
    the test's reader threads do not slow it down (the GIL). stop() returns how many were
    answered 200: only those must arrive."""

    def __init__(self, server, channel, rate=1000, payload_bytes=0):
        self.base, self.headers = server.base, server.headers
        self.channel, self.rate = channel, rate
        self.padding = "x" * payload_bytes
        context = multiprocessing.get_context("fork")
        self._published = context.Value("q", 0)
        self._errors = context.Queue()
        self._halt = context.Event()
        self._process = context.Process(target=self._run, daemon=True)
        self.errors = []

    def start(self):
        self._process.start()

    def _run(self):
        session = requests.Session()
        started = time.monotonic()
        published = 0
        message_id = str(uuid.uuid4())
        while not self._halt.is_set():
            message = {"n": published}
            if self.padding:
                message["pad"] = self.padding
            try:
                response = session.post(self.base + "/message",
                                        json=[{"channel": self.channel, "user": "publisher", "message": message,
                                               # a retry of an unanswered call is the same message
                                               "uuid": message_id}],
                                        headers=self.headers("/message"), timeout=10)
            except requests.RequestException as error:  # a failed call is not a published message
                self._errors.put(repr(error))
                continue
            if response.status_code == 200:
                published += 1
                self._published.value = published
                message_id = str(uuid.uuid4())
            else:
                self._errors.put(f"{response.status_code} {response.text[:200]}")
            ahead = published / self.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)

    @property
    def published(self):
        return self._published.value

    def stop(self):
        self._halt.set()
        self._process.join(timeout=30)
        while not self._errors.empty():
            self.errors.append(self._errors.get())
        return self._published.value


class TrackingClient:
    def __init__(self, conn_id, present_positions=False):
        self.conn_id = conn_id
        self.present_positions = present_positions
        self.positions = {}   # stream -> {"offset": n, "epoch": e}
        self.received = []    # the n of every message, in arrival order
        self.offsets = []     # (offset, catchup, uuid) of each, for reports
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
            self.offsets.append((item.get("offset"), item.get("catchup"), item.get("uuid")))

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
            except (websocket.WebSocketException, OSError):
                # Closed (Debian's websocket-client 1.2 raises a protocol error for close codes it
                # does not know, such as 1012).
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
        if self.ws is None:
            return
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


def exactly_once_report(received, published, offsets=None):
    """'' when `received` is 0..published-1 in order; otherwise what is wrong."""
    if received == list(range(published)):
        return ""
    if offsets:
        for i in range(1, len(received)):
            if received[i] == received[i - 1]:
                print(f"duplicate n={received[i]}: {offsets[i - 1]} then {offsets[i]}", flush=True)
    seen = set()
    duplicates = sorted({n for n in received if n in seen or seen.add(n)})
    missing = sorted(set(range(published)) - set(received))
    out_of_order = sum(1 for a, b in zip(received, received[1:]) if b < a)
    return (f"{len(received)} received of {published}: {len(missing)} missing {missing[:10]}, "
            f"{len(duplicates)} duplicated {duplicates[:10]}, {out_of_order} out of order")
