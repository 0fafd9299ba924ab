#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target: tests/fuzz/corpus/<target>/<seed name>.

Each seed follows its target's input layout (see the comment at the top of <target>.cc): a few
parameter bytes, then the data. Seeds are a handful of meaningful valid inputs and near misses;
the fuzzer grows its own corpus from them in a temporary directory, never here. Rerun after
changing a layout: `python3 tests/fuzz/make_corpus.py` (it rewrites corpus/, never regressions/).
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def client_frame(opcode, payload=b"", fin=True, mask=0x12345678, rsv=0, masked=True):
    if isinstance(payload, str):
        payload = payload.encode()
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n <= 0xFFFF:
        head += bytes([mask_bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    key = struct.pack(">I", mask)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def ws(limit_index, stream, seed=0x0305, mask=0xA1B2C3D4):
    return bytes([limit_index]) + struct.pack("<H", seed) + struct.pack("<I", mask) + stream


def ws_seeds():
    k1024, k16 = 5, 2
    code = lambda c: struct.pack(">H", c)
    kosme = "κόσμε".encode()
    return {
        "text_hello": ws(k1024, client_frame(TEXT, "hello")),
        "text_json_then_ping": ws(k1024, client_frame(TEXT, '{"type":"message","data":1}') + client_frame(PING, "p")),
        "fragmented_utf8_split_in_sequence": ws(
            k1024, client_frame(TEXT, kosme[:3], fin=False) + client_frame(PING, "mid")
            + client_frame(CONT, kosme[3:7], fin=False) + client_frame(CONT, kosme[7:])),
        "binary_16bit_length": ws(k1024, client_frame(BINARY, bytes(range(200)))),
        "binary_64bit_length_over_limit": ws(k16, client_frame(TEXT, "x")[:1] + bytes([0x80 | 127]) + struct.pack(">Q", 1 << 40)),
        "close_normal_with_reason": ws(k1024, client_frame(CLOSE, code(1000) + b"bye")),
        "close_empty_then_more": ws(k1024, client_frame(CLOSE) + client_frame(TEXT, "after")),
        "close_code_1005_invalid": ws(k1024, client_frame(CLOSE, code(1005))),
        "close_one_byte": ws(k1024, client_frame(CLOSE, b"\x03")),
        "close_reason_bad_utf8": ws(k1024, client_frame(CLOSE, code(1001) + b"\xed\xa0\x80")),
        "text_invalid_utf8": ws(k1024, client_frame(TEXT, b"ok \xc3\x28")),
        "text_truncated_utf8_fragments": ws(k1024, client_frame(TEXT, b"\xe2\x82", fin=False) + client_frame(CONT, b"")),
        "message_too_big": ws(k16, client_frame(TEXT, "x" * 17)),
        "fragments_too_big_together": ws(k16, client_frame(BINARY, b"x" * 10, fin=False) + client_frame(CONT, b"y" * 10)),
        "unmasked_frame": ws(k1024, client_frame(TEXT, "hi", masked=False)),
        "reserved_bit": ws(k1024, client_frame(TEXT, "hi", rsv=0x40)),
        "unknown_opcode": ws(k1024, client_frame(0x3, "hi")),
        "continuation_without_start": ws(k1024, client_frame(CONT, "hi")),
        "ping_fragmented": ws(k1024, client_frame(PING, "p", fin=False)),
        "ping_too_long": ws(k1024, client_frame(PING, "p" * 126)),
        "new_message_inside_fragmented": ws(k1024, client_frame(TEXT, "a", fin=False) + client_frame(TEXT, "b")),
        "pong_byte_by_byte_seed": ws(k1024, client_frame(PONG, "unsolicited"), seed=1),
        "partial_header_at_end": ws(k1024, client_frame(TEXT, "hello") + client_frame(TEXT, "x" * 300)[:3]),
    }


def utf8_seeds():
    texts = {
        "ascii": b"hello, world",
        "mixed_scripts": "Zürich – 東京 – Кирилл – 😀".encode(),
        "boundaries": "\u0080\u07ff\u0800\uffff\U00010000\U0010ffff".encode(),
        "around_surrogates": "\ud7ff\ue000".encode(),
        "noncharacters_bom": "\ufffe\uffff\ufeff".encode(),
        "surrogate_encoded": b"a\xed\xa0\x80b",
        "overlong_slash": b"\xc0\xaf",
        "overlong_3byte": b"\xe0\x80\xaf",
        "above_max": b"\xf4\x90\x80\x80",
        "five_byte_form": b"\xf8\x88\x80\x80\x80",
        "truncated_at_end": "κόσμε".encode()[:-1],
        "lone_continuation": b"\x80abc",
        "impossible_bytes": b"\xfe\xff",
    }
    return {name: bytes([0x2B]) + text for name, text in texts.items()}


def escape_seeds():
    return {
        "plain_name": b"alice",
        "accents": "Zoë Ångström".encode(),
        "newline_injection": b"bob\nINFO forged log line",
        "ansi_escape": b"\x1b[31mred\x1b[0m",
        "c1_csi": "x\u009b2J".encode(),
        "del_and_tab": b"a\x7fb\tc",
        "invalid_utf8": b"caf\xe9 \xff",
        "backslashes": b"C:\\path\\x41",
        "truncated_sequence": b"end \xe2\x82",
    }


def http(flags, seed, request):
    return bytes([flags, seed]) + request


def http_seeds():
    body = json.dumps({"username": "alice", "channels": ["lobby"]}).encode()
    post = (b"POST /connect HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n"
            b"X-Channelstream-Secret: L2Nvbm5lY3Q.Z0Yc3w.abc\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    chunked = (b"POST /message HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\n[{\"a\"\r\n4;ext=1\r\n:1}]\r\n0\r\nX-Trailer: t\r\n\r\n")
    return {
        "get_ws_upgrade": http(0, 5, b"GET /ws?conn_id=6b1d2c4e-1111-4222-8333-444455556666 HTTP/1.1\r\nHost: h\r\n"
                                     b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     b"Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\r\n"),
        "get_listen_jsonp": http(1, 9, b"GET /listen?conn_id=x&callback=cb.fn%24&a=%zz+b HTTP/1.0\r\n\r\n"),
        "post_connect_json": http(0, 17, post),
        "post_chunked_with_trailer": http(0, 3, chunked),
        "expect_100_continue": http(1, 0, b"POST /admin/sign_in HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                                          b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\n"
                                          b"username=admin&password=x%2"),
        "pipelined_two_requests": http(0, 2, b"GET /info HTTP/1.1\r\nHost: h\r\n\r\nGET /info HTTP/1.1\r\nHost: h\r\n\r\n"),
        "unauthenticated_body_over_limit": http(1, 0, b"POST /disconnect HTTP/1.1\r\nContent-Length: 20000\r\n\r\n" + b"x" * 64),
        "content_length_and_chunked": http(0, 1, b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        "bad_content_length": http(0, 0, b"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\nabc"),
        "duplicate_content_length": http(0, 0, b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"),
        "lf_only_line_endings": http(0, 0, b"GET / HTTP/1.1\nHost: h\n\n"),
        "obs_fold_header": http(0, 0, b"GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n"),
        "truncated_body": http(0, 4, b"POST /connect HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"a\":"),
        "long_start_line_and_fields": http(0, 0, b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nX-Long: " + b"b" * 10000 + b"\r\n\r\n"),
        "header_over_limit": http(0, 0, b"GET / HTTP/1.1\r\nX-Long: " + b"b" * 17000 + b"\r\n\r\n"),
    }


def query_seeds():
    return {
        "listen_target": b"\x00/listen?conn_id=6b1d2c4e-1111-4222-8333-444455556666&callback=jQuery_123.cb",
        "percent_and_plus": b"\x03/a%20b+c?k%26ey=v+a%3Dl&k%26ey=second&empty=&flag",
        "bad_escapes": b"\x01/%zz%4?a=%%41&b=%4g&c=%",
        "fragment_and_empty_pairs": b"\x2c/p?&&a=1&&#frag&b=2",
        "secret_in_query": b"\x00/connect?secret=L2Nvbm5lY3Q.Z0Yc3w.signature",
        "fields_form": b"\x10/path with space\nkey\nvalue\nkey\nsecond\n\n\nutf8 \xc3\xa9\n+%&=#?",
        "callback_too_long": b"\x00/listen?callback=" + b"a" * 129,
    }


def itsdangerous_token(secret, value, seconds):
    key = hashlib.sha1(b"itsdangerous.Signer" + b"signer" + secret).digest()
    ts = seconds.to_bytes((seconds.bit_length() + 7) // 8, "big")
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
    signed = value + b"." + b64(ts)
    return signed + b"." + b64(hmac.new(key, signed, hashlib.sha1).digest())


def signing(flags, signed_at, offset, max_age, mutate_at, mutate_with, secret, value):
    return (bytes([flags]) + signed_at.to_bytes(5, "little") + struct.pack("<i", offset) + struct.pack("<H", max_age)
            + struct.pack("<H", mutate_at) + bytes([mutate_with]) + secret + b"\x00" + value)


def signing_seeds():
    t = 1764190000  # late 2025
    token = itsdangerous_token(b"secret", b"/connect", t)
    return {
        "real_token_fresh": signing(0, t, 5, 60, 3, 0x20, b"secret", token),
        "real_token_expired": signing(1, t, 3600, 60, 0, 0, b"secret", token),
        "real_token_from_future": signing(2, t, -30, 60, 9, 0x41, b"secret", token),
        "real_token_no_max_age": signing(3, t, 86400 * 365, 0, 40, 0x2E, b"secret", token),
        "value_with_dots": signing(0, t, 0, 10, 1, 0x2E, b"s3cr\xc3\xa9t", b"/a.b.c"),
        "empty_secret_and_value": signing(2, 1, 1, 1, 0, 0, b"", b""),
        "malformed_tokens": signing(0, t, 0, 0, 0, 1, b"secret", b"/connect.!!!.sig"),
        "timestamp_too_long": signing(0, t, 0, 0, 0, 1, b"secret", b"v.AAAAAAAAAAAA.sig"),
    }


def json_seed(depth_index, text):
    return bytes([depth_index]) + (text.encode() if isinstance(text, str) else text)


def bounded_json_seeds():
    # depth selectors: 0->1 1->2 2->3 3->4 4->5 5->8 6->16 7->64 8->0 9->-1
    return {
        "connect_body": json_seed(7, json.dumps({"username": "alice", "channels": ["a", "b"],
                                                 "user_state": {"x": 1.5, "y": None}, "info": {"include_users": True}})),
        "depth_5_at_limit_5": json_seed(4, "[[[[[1]]]]]"),
        "depth_6_over_limit_5": json_seed(4, '{"a":[{"b":[[{"c":1}]]}]}'),
        "duplicate_key_hides_depth": json_seed(1, '{"a":[[[1]]],"a":1}'),
        "unicode_escapes": json_seed(7, '["\\ud83d\\ude00","\\u00e9","\\u0000"]'),
        "lone_surrogate_escape": json_seed(7, '["\\ud800"]'),
        "numbers": json_seed(7, "[0,-0.0,1e400,18446744073709551615,18446744073709551616,-9223372036854775809,1.5e-320]"),
        "deep_unclosed": json_seed(7, "[" * 3000),
        "trailing_garbage": json_seed(7, '{"a":1} x'),
        "invalid_utf8_in_string": json_seed(7, b'["\xff"]'),
        "scalar_limit_zero": json_seed(8, '"just a string"'),
        "empty_containers_limit_1": json_seed(0, "[]"),
    }


def rest(endpoint, body):
    return bytes([endpoint]) + (json.dumps(body).encode() if not isinstance(body, bytes) else body)


def rest_seeds():
    uuid = "6B1D2C4E-1111-4222-8333-444455556666"
    ts = "2026-11-25T04:27:33.123456"
    return {
        "connect_valid": rest(0, {"username": "alice", "conn_id": uuid, "channels": ["lobby", "news"],
                                  "fresh_user_state": {"color": "red"}, "user_state": {"n": 1},
                                  "state_public_keys": ["color"],
                                  "channel_configs": {"lobby": {"notify_presence": True, "history_size": 10}},
                                  "info": {"include_connections": True, "exclude_channels": ["news"]}}),
        "connect_invalid": rest(0, {"username": "", "conn_id": "nope", "channels": [1, ""],
                                    "user_state": {"deep": {"x": 1}}, "channel_configs": {"c": {"history_size": "x"}}}),
        "subscribe_valid": rest(1, {"conn_id": uuid, "channels": ["a"], "info": {"return_public_state": True}}),
        "subscribe_empty_channels": rest(1, {"conn_id": uuid, "channels": []}),
        "unsubscribe_missing": rest(2, {"conn_id": None}),
        "user_state_valid": rest(3, {"user": "alice", "user_state": {"a": "b"}, "state_public_keys": None}),
        "user_state_wrong_type": rest(3, ["alice"]),
        "publish_valid": rest(4, [{"channel": "lobby", "user": "alice", "message": {"text": "hi"}, "uuid": uuid,
                                   "timestamp": ts + "Z", "no_history": "1", "color": "red"},
                                  {"pm_users": ["bob"], "user": "alice", "message": "private"}]),
        "publish_invalid_items": rest(4, [{"user": "", "timestamp": "yesterday", "no_history": "maybe"}, 7]),
        "edit_valid": rest(5, [{"uuid": uuid, "channel": "lobby", "message": {"text": "edited"}, "edited": ts}]),
        "edit_missing_uuid": rest(5, [{"channel": "lobby"}]),
        "delete_valid": rest(6, [{"uuid": uuid.lower(), "channel": "lobby", "pm_users": ["bob"]}]),
        "delete_not_a_list": rest(6, {"uuid": uuid}),
        "channel_config_valid": rest(7, {"lobby": {"notify_presence": True, "store_history": True, "history_size": 5,
                                                   "long_name": "The lobby"}}),
        "channel_config_invalid": rest(7, {"lobby": {"history_size": -1, "unknown": 1}, "x": 3}),
        "info_empty_body": bytes([8]),
        "info_channels": rest(8, {"info": {"channels": ["lobby"], "include_history": False}}),
        "info_invalid": rest(8, {"info": {"channels": "lobby", "exclude_channels": 3}}),
        "too_deep": bytes([0]) + b'{"user_state":' + b'{"a":' * 70 + b"1" + b"}" * 71,
        "invalid_json": bytes([4]) + b"[{",
    }


TARGETS = {
    "ws_frame_fuzz": ws_seeds,
    "utf8_fuzz": utf8_seeds,
    "escape_for_log_fuzz": escape_seeds,
    "http_request_fuzz": http_seeds,
    "query_fuzz": query_seeds,
    "signing_fuzz": signing_seeds,
    "bounded_json_fuzz": bounded_json_seeds,
    "rest_readers_fuzz": rest_seeds,
}


def main():
    for target, seeds in TARGETS.items():
        directory = os.path.join(CORPUS, target)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        for name, data in seeds().items():
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(seeds())} seeds")


if __name__ == "__main__":
    main()
