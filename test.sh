#!/usr/bin/env bash
# Every test: prepares the Python clients and real data, then one debug build
# runs the whole workspace's tests.
set -euo pipefail
cd "$(dirname "$0")"
export AWS_EC2_METADATA_DISABLED=true
conformance/setup.sh
cargo build --workspace --tests
cargo test --workspace -- --test-threads=2
