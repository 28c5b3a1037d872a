#!/usr/bin/env bash
# The whole test suite: set-up, formatting, lints, then every Rust test (one build, debug profile).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --all-targets --quiet 2>&1 | tee /tmp/edgegate-test.log
