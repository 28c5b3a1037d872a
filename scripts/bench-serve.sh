#!/usr/bin/env bash
# Load test of `edgegate serve` (not a test: prints numbers). Starts the server on 127.0.0.1 with a
# throwaway data dir, creates a user, a workspace, a pipeline on the local `host` device and one
# finished run, then drives three routes with wrk (Debian package, installed if missing) at 64
# concurrent connections: GET /health, GET a run, and POST promptpacks (a new version each).
# Prints requests/s and p99 latency per route, and GET-a-run throughput as a share of /health.
# Usage: scripts/bench-serve.sh [seconds per route (default 10)] [connections (default 64)]
# Env:   EDGEGATE_BIN  binary to load (default: target/release/edgegate, built first)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-64}
if ! command -v wrk >/dev/null 2>&1; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends wrk
fi
if [ -z "${EDGEGATE_BIN:-}" ]; then
  cargo build --release --quiet --bin edgegate
  EDGEGATE_BIN=./target/release/edgegate
fi
bin=$EDGEGATE_BIN
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; [ -n "${KEEP_LOG:-}" ] && cp "$work/err" "$KEEP_LOG"; rm -rf "$work"; }
trap cleanup EXIT

EDGEGENAI_MASTER_KEY=$(head -c 32 /dev/urandom | base64) EDGEGATE_JWT_SECRET=bench-secret \
  "$bin" serve --bind 127.0.0.1:0 --data-dir "$work/data" >"$work/out" 2>"$work/err" &
pid=$!
url=""
for _ in $(seq 1 200); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/out" "$work/err" 2>/dev/null | head -n 1 | sed 's/^[^:]*://' || true)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "server did not announce its URL" >&2; exit 1; }

# Set-up through the API (python3's standard library only).
python3 - "$url" "$work" <<'PY'
import json, sys, time, urllib.request, uuid
url, work = sys.argv[1], sys.argv[2]
def call(method, path, body=None, token=None, ctype="application/json", raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None: req.add_header("Content-Type", ctype)
    if token: req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else {}
email = "bench@example.com"; pw = "bench-password-123"
call("POST", "/v1/auth/register", {"email": email, "password": pw})
tok = call("POST", "/v1/auth/login", {"email": email, "password": pw})["access_token"]
ws = call("POST", "/v1/workspaces", {"name": "bench"}, tok)["id"]
pack = {"promptpack_id": "bench", "version": "1.0.0", "name": "bench",
        "cases": [{"case_id": "c1", "prompt": "hello", "expected": {"type": "exact", "text": "x"}}]}
call("POST", f"/v1/workspaces/{ws}/promptpacks", {"promptpack_id": "bench", "version": "1.0.0", "content": pack}, tok)
call("PUT", f"/v1/workspaces/{ws}/promptpacks/bench/1.0.0/publish", None, tok)
pipe = call("POST", f"/v1/workspaces/{ws}/pipelines", {
    "name": "bench", "promptpack_ref": {"promptpack_id": "bench", "version": "1.0.0"},
    "device_matrix": [{"name": "host", "provider": "local"}],
    "gates": [{"metric": "inference_time_ms", "operator": "lte", "threshold": 1000}]}, tok)["id"]
boundary = uuid.uuid4().hex
model = open("examples/quickstart/model.onnx", "rb").read()
body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nonnx\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model.onnx\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n").encode() + model + f"\r\n--{boundary}--\r\n".encode()
art = call("POST", f"/v1/workspaces/{ws}/artifacts", token=tok, raw=body,
           ctype=f"multipart/form-data; boundary={boundary}")["id"]
run = call("POST", f"/v1/workspaces/{ws}/runs", {"pipeline_id": pipe, "model_artifact_id": art}, tok)["id"]
for _ in range(600):
    status = call("GET", f"/v1/workspaces/{ws}/runs/{run}", token=tok)["status"]
    if status not in ("queued", "running"): break
    time.sleep(0.2)
open(f"{work}/env", "w").write(f"TOKEN={tok}\nWS={ws}\nRUN={run}\nSTATUS={status}\n")
PY
# shellcheck disable=SC1091
. "$work/env"
echo "server $url, run $RUN finished as $STATUS; wrk: ${secs}s per route, $conns connections, 2 threads"

cat >"$work/post.lua" <<'LUA'
-- A new promptpack version per request: 2.<thread>.<n>, unique across wrk's threads.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  local v = string.format("2.%d.%d", tid or 0, n)
  local body = '{"promptpack_id":"load","version":"' .. v .. '","content":{"promptpack_id":"load","version":"' .. v ..
    '","name":"load","cases":[{"case_id":"c1","prompt":"hi","expected":{"type":"exact","text":"x"}}]}}'
  return wrk.format("POST", nil, nil, body)
end
LUA

measure() { # name, wrk args...
  local name=$1; shift
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$@" >"$work/wrk.$name" 2>&1
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.$name")
  p99=$(awk '$1=="99%" {print $2}' "$work/wrk.$name")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.$name")
  printf '%-22s %10s req/s   p99 %8s   non-2xx %s\n' "$name" "$rps" "$p99" "${non2xx:-0}"
  echo "$rps" >"$work/rps.$name"
}
measure health "$url/health"
measure get-run -H "Authorization: Bearer $TOKEN" "$url/v1/workspaces/$WS/runs/$RUN"
measure create-promptpack -s "$work/post.lua" -H "Authorization: Bearer $TOKEN" \
  -H "Content-Type: application/json" "$url/v1/workspaces/$WS/promptpacks"
python3 -c "import sys; h=float(open(sys.argv[1]).read()); g=float(open(sys.argv[2]).read()); print(f'GET a run = {100*g/h:.0f}% of /health throughput')" \
  "$work/rps.health" "$work/rps.get-run"
