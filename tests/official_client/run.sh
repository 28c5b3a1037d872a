#!/usr/bin/env bash
# Drives the official qai-hub 0.56.0 Python client against `edgegate hub-sim`.
#
# Creates (once) a virtual environment with qai-hub==0.56.0 and onnx from PyPI, builds the
# edgegate binary if needed, starts `edgegate hub-sim --bind 127.0.0.1:0`, reads the URL from its
# first stdout line, and runs drive.py. Exits non-zero on any failed step.
#
# Environment: QAIHUB_VENV (default target/qaihub-venv), EDGEGATE_BIN (default target/debug/edgegate).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${QAIHUB_VENV:-$root/target/qaihub-venv}"
bin="${EDGEGATE_BIN:-$root/target/debug/edgegate}"
token="official-client-test-token"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "qai-hub==0.56.0" onnx

if [ -z "${EDGEGATE_BIN:-}" ]; then
    (cd "$root" && cargo build --quiet --bin edgegate)
fi

work="$(mktemp -d)"
sim_pid=""
cleanup() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$bin" hub-sim --bind 127.0.0.1:0 --token "$token" --scenario "$here/scenario.yaml" \
    >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!

url=""
for _ in $(seq 1 100); do
    line="$(head -n 1 "$work/sim.out" 2>/dev/null || true)"
    if [ -n "$line" ]; then
        url="${line#listening on }"
        break
    fi
    if ! kill -0 "$sim_pid" 2>/dev/null; then
        echo "hub-sim exited early:" >&2
        cat "$work/sim.err" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "hub-sim did not announce its URL" >&2
    exit 1
fi
echo "hub-sim at $url"

cat >"$work/client.ini" <<INI
[api]
api_token = $token
api_url = $url
web_url = $url
verbose = True
INI

export QAIHUB_CLIENT_INI="$work/client.ini"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"

"$venv/bin/python" "$here/make_tiny_onnx.py" "$work/tiny.onnx"
"$venv/bin/python" "$here/drive.py" --url "$url" --ini "$work/client.ini" \
    --model "$work/tiny.onnx" --work "$work"
