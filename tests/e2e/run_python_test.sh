#!/usr/bin/env bash
# Bazel sh_test entry: runs Python unittest modules with the system python3 (Debian's
# itsdangerous, requests and websocket-client), reporting JUnit XML to Bazel.
set -euo pipefail
exec /usr/bin/python3 tests/e2e/junit_runner.py "$@"
