#!/usr/bin/env bash
# Every test: prepares the Python clients and real data, then one debug build
# runs the whole workspace's tests.
set -euo pipefail
cd "$(dirname "$0")"
export AWS_EC2_METADATA_DISABLED=true
# What the tests run besides cargo, from Debian when missing (as root, or
# through sudo).
sudo=""
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
# Python venv for the conformance clients; real data from PyPI packages.
if ! python3 -m venv --help >/dev/null 2>&1; then
  $sudo apt-get update -qq && $sudo apt-get install -y -qq python3-venv
fi
# STILTS (votlint, taplint) and xmllint for the VOTable and VOSI checks.
if ! command -v stilts >/dev/null 2>&1 || ! command -v xmllint >/dev/null 2>&1 || ! command -v unzip >/dev/null 2>&1; then
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stilts libxml2-utils unzip
fi
conformance/setup.sh
cargo build --workspace --tests
cargo test --workspace -- --test-threads=2
