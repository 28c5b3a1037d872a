#!/usr/bin/env bash
# The whole test suite: set-up, formatting, lints, every Rust test (one debug build), then the
# official qai-hub 0.56.0 Python client driven against `edgegate hub-sim`, and the consumer
# guide's client (examples/quickstart.py) against `edgegate serve` + `edgegate hub-sim`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --quiet
EDGEGATE_BIN=target/debug/edgegate bash tests/official_client/run.sh
EDGEGATE_BIN=target/debug/edgegate bash tests/server_client/run.sh
