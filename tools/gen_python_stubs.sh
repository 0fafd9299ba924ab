#!/usr/bin/env bash
# Generates the Python gRPC stubs for the broker API (proto/channelstream.proto) with Debian's
# tools: protoc (protobuf-compiler) and grpc_python_plugin (protobuf-compiler-grpc). The stubs
# need python3-grpcio and python3-protobuf at run time. See docs/GRPC.md.
#
#   tools/gen_python_stubs.sh OUT_DIR [PROTO_FILE]
#
# writes OUT_DIR/channelstream_pb2.py and OUT_DIR/channelstream_pb2_grpc.py; put OUT_DIR on
# sys.path and `import channelstream_pb2, channelstream_pb2_grpc`.
# PROTOC and GRPC_PYTHON_PLUGIN override the tools' paths.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || "$1" == -* ]]; then
  echo "usage: $0 OUT_DIR [PROTO_FILE]" >&2
  exit 2
fi
out_dir=$1
proto=${2:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/proto/channelstream.proto"}
protoc=${PROTOC:-protoc}
plugin=${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}

fail() { echo "gen_python_stubs.sh: $*" >&2; exit 2; }
command -v "$protoc" >/dev/null || fail "'$protoc' not found: apt-get install protobuf-compiler"
[[ -x "$plugin" ]] || fail "'$plugin' not found: apt-get install protobuf-compiler-grpc"
[[ -f "$proto" ]] || fail "no such proto file: '$proto'"

mkdir -p "$out_dir"
"$protoc" -I "$(dirname "$proto")" \
  --python_out="$out_dir" \
  --grpc_out="$out_dir" --plugin=protoc-gen-grpc="$plugin" \
  "$(basename "$proto")"
