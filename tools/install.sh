#!/usr/bin/env bash
# Installs exactly the Debian packages Channelstream needs to build, run and test. Idempotent:
# packages already installed are left alone, and apt is not touched at all when nothing is missing.
set -euo pipefail

PACKAGES=(
  # build (clang + its runtime libraries, lld, llvm-symbolizer: the libFuzzer build, --config=fuzz)
  bazel-bootstrap g++ libc6-dev clang libclang-rt-14-dev lld llvm
  # the format check of the test command (tools/format.sh, .clang-format)
  clang-format
  # libraries (all system packages: the build downloads nothing)
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libboost-dev libboost-system-dev libabsl-dev nlohmann-json3-dev libssl-dev zlib1g-dev
  # tests
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-itsdangerous python3-requests python3-websocket
  # deploy and gRPC-from-Python tests: nginx in front of the split binaries; Python gRPC stubs
  # (protoc + grpc_python_plugin from the packages above) and their runtime
  nginx python3-grpcio python3-protobuf
  # process tools the test and benchmark scripts use
  procps util-linux curl
  # the metrics end-to-end test scrapes a real server with it
  prometheus
)

if [[ "${1:-}" == "--list" ]]; then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install.sh: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install.sh: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
