#!/usr/bin/env bash
# EdgeGate's main job on the embedded default: the quickstart example on the local `host` device.
# The good model passes (exit 0); the regressed one must be caught by its gates (exit 1).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --quiet
./target/debug/edgegate validate examples/quickstart/edgegate.yaml
./target/debug/edgegate run examples/quickstart/edgegate.yaml --json target/quickstart/results.json
echo
echo "--- the regressed model: the gates must catch it (exit 1) ---"
code=0
./target/debug/edgegate run examples/quickstart/edgegate-regressed.yaml \
    --baseline target/quickstart/results.json --json target/quickstart/results-regressed.json || code=$?
if [ "$code" -ne 1 ]; then
    echo "expected exit 1 from the regressed model, got $code" >&2
    exit 1
fi
echo "caught: exit 1, as intended"
