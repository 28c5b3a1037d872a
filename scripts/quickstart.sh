#!/usr/bin/env bash
# EdgeGate's main job on the embedded default: the quickstart example on the local `host` device.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --quiet
./target/debug/edgegate validate examples/quickstart/edgegate.yaml
./target/debug/edgegate run examples/quickstart/edgegate.yaml --dry-run
