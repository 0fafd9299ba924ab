"""Info and admin views with 50,000 remembered users (issue "Lossless delivery"): every page of
gRPC Info / AdminInfo, REST /info and /admin/admin.json stays under the transport limits, and
walking the cursors yields every channel and user exactly once, all-in-one and split. Without
paging parameters a small server answers as 0.7 did (no next_cursor)."""
import os
import tempfile
import time
import unittest

import grpc
import requests

from server_fixture import Server, free_port
from test_grpc_python import generate_stubs

USERS = int(os.environ.get("PAGING_TEST_USERS", "50000"))
# Split mode runs the same code across process boundaries: fewer users, smaller pages, so the
# whole file stays near a minute on a slow machine (connecting 50k users takes ~20 s).
SPLIT_USERS = USERS // 5
ROOMS = 10
IN_FLIGHT = 256  # Connect calls pipelined on one gRPC channel
MAX_PAGE = 10000  # info_max_page_size's default


def user_name(index):
    return f"user-{index:06d}"


def expected_channels():
    return ["lobby"] + [f"room-{room}" for room in range(ROOMS)]


def populate(pb, stub, count):
    """Connects `count` users (each to lobby and one room) with pipelined gRPC calls."""
    pending = []
    for index in range(count):
        request = pb.ConnectRequest(username=user_name(index), channels=["lobby", f"room-{index % ROOMS}"],
                                    user_state_json='{"n": %d}' % index)
        pending.append(stub.Connect.future(request, timeout=60))
        if len(pending) >= IN_FLIGHT:
            for future in pending:
                future.result()
            pending.clear()
    for future in pending:
        future.result()


def walk(fetch):
    """Calls fetch(cursor) -> (channels, users, next_cursor) until the last page; returns all
    channel and user names in order and the page count."""
    channels, users, pages, cursor = [], [], 0, ""
    while True:
        page_channels, page_users, cursor = fetch(cursor)
        channels += page_channels
        users += page_users
        pages += 1
        if not cursor:
            return channels, users, pages
        if pages > USERS:
            raise AssertionError("paging does not end")


class PagingChecks:
    """The walks, shared by the all-in-one and the split deployment."""
    users = USERS
    page_limit = MAX_PAGE

    def all_users(self):
        return [user_name(i) for i in range(self.users)]

    def check_grpc_admin_info(self):
        def fetch(cursor):
            page = self.stub.AdminInfo(self.pb.AdminInfoRequest(limit=self.page_limit, cursor=cursor), timeout=30)
            self.assertEqual(page.remembered_user_count, self.users)
            return [c.name for c in page.channels], [u.user for u in page.users], page.next_cursor
        channels, users, pages = walk(fetch)
        self.assertEqual(channels, expected_channels())
        self.assertEqual(users, self.all_users())
        self.assertGreaterEqual(pages, self.users // self.page_limit)

    def check_grpc_info(self):
        def fetch(cursor):
            page = self.stub.Info(self.pb.InfoRequest(
                info=self.pb.InfoOptions(include_users=True), limit=self.page_limit,  # channels unset: all
                cursor=cursor), timeout=30)
            return sorted(page.channels_info.channels), [u.user for u in page.channels_info.users], page.next_cursor
        channels, users, _ = walk(fetch)
        self.assertEqual(channels, expected_channels())
        self.assertEqual(users, self.all_users())

    def check_rest_info(self, base, headers):
        # 0.7's body-less call: no longer a 422 about the transport, but the first page.
        first = requests.post(f"{base}/info", headers=headers("/info"), timeout=30)
        self.assertEqual(first.status_code, 200, first.text[:300])
        self.assertTrue(first.json()["next_cursor"])
        self.assertEqual(len(first.json()["channels"]["lobby"]["users"]), self.users)

        def fetch(cursor):
            response = requests.post(f"{base}/info", headers=headers("/info"), timeout=30,
                                     json={"info": {"include_history": False}, "limit": self.page_limit, "cursor": cursor})
            self.assertEqual(response.status_code, 200, response.text[:300])
            body = response.json()
            return sorted(body["channels"]), [u["user"] for u in body["users"]], body["next_cursor"]
        channels, users, _ = walk(fetch)
        self.assertEqual(channels, expected_channels())
        self.assertEqual(users, self.all_users())

    def check_rest_admin_json(self, base, headers):
        def fetch(cursor):
            response = requests.get(f"{base}/admin/admin.json", headers=headers("/admin/admin.json"),
                                    params={"limit": self.page_limit, "cursor": cursor}, timeout=30)
            self.assertEqual(response.status_code, 200, response.text[:300])
            body = response.json()
            self.assertEqual(body["remembered_user_count"], self.users)
            self.assertEqual(body["unique_user_count"], self.users)
            self.assertEqual(body["total_connections"], self.users)
            self.assertEqual(body["total_channels"], ROOMS + 1)
            return [c["name"] for c in body["channels"]], [u["user"] for u in body["users"]], body["next_cursor"]
        channels, users, _ = walk(fetch)
        self.assertEqual(channels, expected_channels())
        self.assertEqual(users, self.all_users())
        # The admin panel's users table: "u:" pages users only.
        users_only = requests.get(f"{base}/admin/admin.json", headers=headers("/admin/admin.json"),
                                  params={"limit": 50, "cursor": "u:"}, timeout=30).json()
        self.assertEqual(users_only["channels"], [])
        self.assertEqual([u["user"] for u in users_only["users"]], [user_name(i) for i in range(50)])
        self.assertEqual(users_only["next_cursor"], "u:" + user_name(49))


def start_stubs(test_class):
    test_class.stub_dir = tempfile.TemporaryDirectory(prefix="channelstream-stubs-")
    test_class.pb, test_class.pb_grpc = generate_stubs(test_class.stub_dir.name)


def open_stub(test_class, address, count):
    test_class.channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(test_class.channel).result(timeout=20)
    test_class.stub = test_class.pb_grpc.BrokerStub(test_class.channel)
    started = time.monotonic()
    populate(test_class.pb, test_class.stub, count)
    print(f"{count} users connected in {time.monotonic() - started:.1f} s", flush=True)


KEEP = ["--gc_conns_after", "3600", "--gc_users_after", "3600"]  # nothing idles out mid-test


class AllInOnePagingTest(unittest.TestCase, PagingChecks):
    @classmethod
    def setUpClass(cls):
        start_stubs(cls)
        grpc_address = f"127.0.0.1:{free_port()}"
        cls.server = Server(args=["--embedded_broker_listen", "true", "--broker_listen", grpc_address, *KEEP])
        open_stub(cls, grpc_address, USERS)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        code, stderr = cls.server.close()
        cls.stub_dir.cleanup()
        if code != 0:
            raise AssertionError(f"server exited with {code}: {stderr[-3000:]}")

    def test_grpc_admin_info(self):
        self.check_grpc_admin_info()

    def test_grpc_info(self):
        self.check_grpc_info()

    def test_rest_info(self):
        self.check_rest_info(self.server.base, self.server.headers)

    def test_rest_admin_json(self):
        self.check_rest_admin_json(self.server.base, self.server.headers)

    def test_admin_panel_pages(self):
        page = requests.get(f"{self.server.base}/admin", allow_redirects=False, timeout=10)
        self.assertEqual(page.status_code, 302)
        session = requests.Session()
        signed_in = session.post(f"{self.server.base}/admin/sign_in",
                                 data={"username": "admin", "password": "admin_secret"}, timeout=10)
        self.assertEqual(signed_in.status_code, 200)
        self.assertIn("cursor=", signed_in.text)  # the panel asks admin.json for pages
        # What the panel's first refresh asks for, with the session cookie.
        for cursor in ("", "u:"):
            body = session.get(f"{self.server.base}/admin/admin.json", params={"limit": 50, "cursor": cursor},
                               timeout=30).json()
            self.assertEqual(body["remembered_user_count"], USERS)
            self.assertLessEqual(len(body["channels"]) + len(body["users"]), 50)


class SplitPagingTest(unittest.TestCase, PagingChecks):
    """The same walks through the broker and REST adapter binaries."""
    users = SPLIT_USERS
    page_limit = 1000

    @classmethod
    def setUpClass(cls):
        start_stubs(cls)
        broker_port = free_port()
        address = f"127.0.0.1:{broker_port}"
        cls.broker = Server("broker/broker", port=broker_port, args=["--broker_listen", address, *KEEP])
        cls.rest = Server("rest_adapter/rest_adapter", args=["--broker_address", address])
        open_stub(cls, address, SPLIT_USERS)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        results = [cls.rest.close(), cls.broker.close()]
        cls.stub_dir.cleanup()
        for code, stderr in results:
            if code != 0:
                raise AssertionError(f"exited with {code}: {stderr[-3000:]}")

    def test_grpc_admin_info(self):
        self.check_grpc_admin_info()

    def test_rest_info(self):
        self.check_rest_info(self.rest.base, self.rest.headers)

    def test_rest_admin_json(self):
        self.check_rest_admin_json(self.rest.base, self.rest.headers)


class SmallServerTest(unittest.TestCase):
    """Paging parameters on a server that fits in one page, and their validation."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(args=["--info_max_page_size", "100", "--info_page_max_bytes", "3000"])
        for index in range(5):
            cls.call("/connect", {"username": user_name(index), "channels": ["lobby"],
                                  "user_state": {"bio": "x" * 900}})

    @classmethod
    def tearDownClass(cls):
        code, stderr = cls.server.close()
        if code != 0:
            raise AssertionError(f"server exited with {code}: {stderr[-3000:]}")

    @classmethod
    def call(cls, path, body=None, params=None, method="POST"):
        return requests.request(method, f"{cls.server.base}{path}", json=body, params=params,
                                headers=cls.server.headers(path), timeout=10)

    def test_next_cursor_only_when_paging_or_more(self):
        info = self.call("/info", {"info": {"include_users": False}})
        self.assertEqual(info.status_code, 200)
        self.assertNotIn("next_cursor", info.json())  # fits: 0.7's answer exactly
        self.assertEqual(self.call("/info", {"info": {"include_users": False}, "limit": 5}).json()["next_cursor"], "")
        admin = self.call("/admin/admin.json", method="GET").json()
        self.assertLess(len(admin["users"]), 5)  # the 3000-byte budget cut the page
        self.assertEqual(admin["next_cursor"], "u:" + admin["users"][-1]["user"])
        self.assertNotIn("next_cursor", self.call("/channel_config", {"lobby": {}}).json())

    def test_byte_budget_pages_rest_info(self):
        users, cursor, pages = [], "", 0
        while True:
            body = self.call("/info", {"limit": 100, "cursor": cursor}).json()
            users += [u["user"] for u in body["users"]]
            pages += 1
            cursor = body["next_cursor"]
            if not cursor:
                break
        self.assertEqual(users, [user_name(i) for i in range(5)])
        self.assertGreaterEqual(pages, 2)  # ~920 bytes a user, 3000 bytes a page

    def test_limits_are_validated(self):
        too_many = self.call("/info", {"limit": 101})
        self.assertEqual(too_many.status_code, 422)
        self.assertEqual(too_many.json(), {"limit": ["Must be between 0 and 100 (info_max_page_size)."]})
        negative = self.call("/admin/admin.json", params={"limit": "-5"}, method="GET")
        self.assertEqual(negative.status_code, 422)
        self.assertIn("limit", negative.json())
        not_number = self.call("/admin/admin.json", params={"limit": "ten"}, method="GET")
        self.assertEqual(not_number.json(), {"limit": ["Not a valid integer."]})
        bad_cursor = self.call("/info", {"cursor": "lobby"})
        self.assertEqual(bad_cursor.status_code, 422)
        self.assertIn("cursor", bad_cursor.json())
        wrong_type = self.call("/info", {"limit": "3"})
        self.assertEqual(wrong_type.json(), {"limit": ["Not a valid integer."]})

    def test_info_query_parameters(self):
        body = self.call("/info", params={"limit": 2}).json()  # body-less, paged by the query
        self.assertEqual(sorted(body["channels"]), ["lobby"])
        self.assertEqual([u["user"] for u in body["users"]], [user_name(0)])
        self.assertEqual(body["next_cursor"], "u:" + user_name(0))


if __name__ == "__main__":
    unittest.main()
