"""The broker's gRPC API from Python, as docs/GRPC.md shows it: stubs generated at test time by
tools/gen_python_stubs.sh (Debian's protoc and grpc_python_plugin), then Connect, Subscribe,
Publish, Info, AdminInfo and Disconnect against a real broker, and the error model
(INVALID_ARGUMENT / NOT_FOUND / RESOURCE_EXHAUSTED, messages "field: message")."""
import importlib
import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid

import grpc

from runfiles import source_file
from server_fixture import Server, free_port

MAX_PAYLOAD_BYTES = 256


def generate_stubs(out_dir):
    result = subprocess.run(["bash", source_file("tools/gen_python_stubs.sh"), out_dir,
                             source_file("proto/channelstream.proto")],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"tools/gen_python_stubs.sh failed ({result.returncode}): {result.stderr}")
    sys.path.insert(0, out_dir)
    return importlib.import_module("channelstream_pb2"), importlib.import_module("channelstream_pb2_grpc")


class BrokerFromPythonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stub_dir = tempfile.TemporaryDirectory(prefix="channelstream-stubs-")
        cls.pb, cls.pb_grpc = generate_stubs(cls.stub_dir.name)
        port = free_port()
        cls.address = f"127.0.0.1:{port}"
        cls.broker = Server("broker/broker", port=port,
                            args=["--broker_listen", cls.address, "--max_payload_bytes", str(MAX_PAYLOAD_BYTES)])
        cls.channel = grpc.insecure_channel(cls.address)
        grpc.channel_ready_future(cls.channel).result(timeout=10)
        cls.broker_stub = cls.pb_grpc.BrokerStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        code, stderr = cls.broker.close()
        cls.stub_dir.cleanup()
        if code != 0:
            raise AssertionError(f"broker exited with {code}: {stderr[-3000:]}")

    def rpc(self, name, request):
        return getattr(self.broker_stub, name)(request, timeout=10)

    def assert_rpc_error(self, code, prefix, name, request):
        with self.assertRaises(grpc.RpcError) as raised:
            self.rpc(name, request)
        self.assertEqual(raised.exception.code(), code, raised.exception.details())
        self.assertTrue(raised.exception.details().startswith(prefix), raised.exception.details())

    def test_connect_subscribe_publish_info_admin_disconnect(self):
        pb = self.pb
        user = f"alice-{uuid.uuid4().hex[:8]}"
        connected = self.rpc("Connect", pb.ConnectRequest(
            username=user, channels=["lobby"],
            user_state_json=json.dumps({"status": "online", "secret": 1}),
            state_public_keys=pb.StringList(values=["status"]),
            info=pb.InfoOptions(include_users=True, include_history=True)))
        conn_id = connected.conn_id
        self.assertEqual(str(uuid.UUID(conn_id)), conn_id)
        self.assertEqual(connected.username, user)
        self.assertEqual(list(connected.channels), ["lobby"])
        self.assertEqual(json.loads(connected.state_json), {"status": "online", "secret": 1})
        self.assertEqual(json.loads(connected.public_state_json), {"status": "online"})
        self.assertIn(user, connected.channels_info.channels["lobby"].users)

        subscribed = self.rpc("Subscribe", pb.SubscribeRequest(
            conn_id=conn_id, channels=["news"],
            channel_configs={"news": pb.ChannelConfig(store_history=True, history_size=5)},
            info=pb.InfoOptions(include_users=True)))
        self.assertEqual(list(subscribed.subscribed_to), ["news"])
        self.assertEqual(list(subscribed.channels), ["lobby", "news"])
        self.assertTrue(subscribed.channels_info.channels["news"].settings.store_history)

        published = self.rpc("Publish", pb.PublishRequest(publications=[
            pb.Publication(channel="news", user=user, message_json=json.dumps({"text": "hello"}))]))
        self.assertEqual(len(published.messages), 1)
        echoed = json.loads(published.messages[0].message_json)
        self.assertEqual((echoed["channel"], echoed["user"], echoed["message"]), ("news", user, {"text": "hello"}))
        self.assertTrue(echoed["uuid"] and echoed["timestamp"])
        self.assertGreaterEqual(published.messages[0].seq, 1)

        info = self.rpc("Info", pb.InfoRequest(channels=pb.StringList(values=["news"]), info=pb.InfoOptions(include_history=True,
                                                                                      include_users=True)))
        news = info.channels_info.channels["news"]
        self.assertEqual([json.loads(h)["uuid"] for h in news.history_json], [echoed["uuid"]])
        self.assertEqual(list(news.users), [user])
        self.assertEqual(news.total_connections, 1)

        admin = self.rpc("AdminInfo", pb.AdminInfoRequest())
        self.assertGreaterEqual(admin.total_connections, 1)
        self.assertGreaterEqual(admin.total_unique_messages, 1)
        self.assertTrue(admin.version)
        users = {u.user: u for u in admin.users}
        self.assertIn(conn_id, list(users[user].connections))

        self.assertTrue(self.rpc("Disconnect", pb.DisconnectRequest(conn_id=conn_id)).existed)
        self.assertFalse(self.rpc("Disconnect", pb.DisconnectRequest(conn_id=conn_id)).existed)

    def test_invalid_argument_names_the_field(self):
        self.assert_rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "username: ", "Connect",
                              self.pb.ConnectRequest(username="", channels=["lobby"]))

    def test_not_found_names_the_field(self):
        self.assert_rpc_error(grpc.StatusCode.NOT_FOUND, "conn_id: ", "Subscribe",
                              self.pb.SubscribeRequest(conn_id=str(uuid.uuid4()), channels=["lobby"]))

    def test_resource_exhausted_names_the_config_key(self):
        big = json.dumps({"text": "x" * (MAX_PAYLOAD_BYTES * 2)})
        self.assert_rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "max_payload_bytes: ", "Publish",
                              self.pb.PublishRequest(publications=[
                                  self.pb.Publication(channel="lobby", user="bob", message_json=big)]))


if __name__ == "__main__":
    unittest.main()
