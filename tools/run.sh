#!/usr/bin/env bash
# Sets up and runs the server on the embedded default (broker + REST adapter + gateway on
# 127.0.0.1:8000). Arguments are passed on: tools/run.sh -i config.ini, tools/run.sh --port 9000.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install.sh
bazel build //:channelstream
exec ./bazel-bin/channelstream "$@"
