"""Waiting on an observable condition with a deadline, instead of sleeping a fixed time."""

import time

import requests


def wait_until(condition, timeout=10.0, interval=0.02):
    """Polls `condition` until it is true or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def gauge(base, series, **request_args):
    """The value of one /metrics series, e.g. 'channelstream_connections{transport="long_poll"}'
    (None while the series is absent)."""
    text = requests.get(f"{base}/metrics", timeout=5, **request_args).text
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return None


def clients_held(base, transport, count, **request_args):
    """True once the server's gateway holds `count` clients of `transport` (websocket or long_poll).
    The gateway has then sent their attach to the broker; a publication that still beats it
    arrives as catch-up, so nothing a test asserts depends on the rest of that race."""
    return wait_until(lambda: gauge(base, f'channelstream_connections{{transport="{transport}"}}',
                                    **request_args) == count)
