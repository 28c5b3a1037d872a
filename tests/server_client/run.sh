#!/usr/bin/env bash
# Runs the consumer guide's client, examples/quickstart.py (httpx), against `edgegate serve`
# whose AI Hub is an `edgegate hub-sim`, and requires a finished run that passed.
#
# Creates (once) a virtual environment with httpx from PyPI, starts `edgegate hub-sim` and
# `edgegate serve` on 127.0.0.1 with throwaway keys and data dir, runs the script, stops both.
# Environment: QUICKSTART_VENV (default target/quickstart-venv), EDGEGATE_BIN (default
# target/debug/edgegate, built when unset).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${QUICKSTART_VENV:-$root/target/quickstart-venv}"
bin="${EDGEGATE_BIN:-$root/target/debug/edgegate}"
token="quickstart-sim-token-0042"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check httpx

if [ -z "${EDGEGATE_BIN:-}" ]; then
    (cd "$root" && cargo build --quiet --bin edgegate)
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Waits for a process to print its URL (first http://127.0.0.1:PORT in its output).
url_of() { # pid, out file, err file, name
    local u=""
    for _ in $(seq 1 300); do
        u="$(grep -ho 'http://127\.0\.0\.1:[0-9]*' "$2" "$3" 2>/dev/null | head -n 1 || true)"
        if [ -n "$u" ]; then echo "$u"; return 0; fi
        if ! kill -0 "$1" 2>/dev/null; then
            echo "$4 exited early:" >&2; cat "$3" >&2; return 1
        fi
        sleep 0.1
    done
    echo "$4 did not announce its URL" >&2
    return 1
}

"$bin" hub-sim --bind 127.0.0.1:0 --token "$token" >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
sim_url="$(url_of "${pids[0]}" "$work/sim.out" "$work/sim.err" hub-sim)"

EDGEGENAI_MASTER_KEY="$(head -c 32 /dev/urandom | base64)" EDGEGATE_JWT_SECRET="quickstart-test-secret" \
QAIHUB_API_URL="$sim_url" \
    "$bin" serve --bind 127.0.0.1:0 --data-dir "$work/data" >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
api_url="$(url_of "${pids[1]}" "$work/serve.out" "$work/serve.err" "edgegate serve")"
echo "hub-sim at $sim_url, edgegate serve at $api_url"

status=0
QAIHUB_API_TOKEN="$token" "$venv/bin/python" "$root/examples/quickstart.py" --url "$api_url" --timeout 300 \
    || status=$?
if grep -q "$token" "$work/serve.out" "$work/serve.err"; then
    echo "the AI Hub token appears in the server's log" >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "--- edgegate serve log ---" >&2
    tail -n 50 "$work/serve.err" >&2
    echo "quickstart.py: FAILED (exit $status)" >&2
    exit 1
fi
echo "quickstart.py: the guide's flow finished with a passed run"
