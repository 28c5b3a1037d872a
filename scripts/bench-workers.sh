#!/usr/bin/env bash
# Do workers scale? (A benchmark, not a test: prints numbers.) Starts a throwaway PostgreSQL
# (scripts/postgres-throwaway.sh) and `edgegate hub-sim` with fixed job durations (compile 1 s,
# device provisioning 0.5 s, profile 2 s, no queueing), then for 1, 2 and 4 workers: a fresh
# database, one `serve --role api` and N `serve --role worker` processes (one run at a time each,
# one shared artifact/job-cache directory), RUNS runs queued at once, each on its own model so
# the job cache cannot serve one run from another. Prints runs completed per minute per worker
# count, from the first run queued to the last run ended, and the speed-up over one worker.
# Usage: scripts/bench-workers.sh [runs per worker count (default 16)] [worker counts (default "1 2 4")]
# Env:   EDGEGATE_BIN  binary to use (default: target/release/edgegate, built first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-16}
counts=${2:-"1 2 4"}
if [ -z "${EDGEGATE_BIN:-}" ]; then
  cargo build --release --quiet --bin edgegate
  EDGEGATE_BIN=./target/release/edgegate
fi
bin=$EDGEGATE_BIN
# shellcheck disable=SC1091
source scripts/postgres-throwaway.sh
work=$(mktemp -d)
pids=()
stop_all() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() { stop_all; pg_throwaway_stop; rm -rf "$work"; }
trap cleanup EXIT
pg_throwaway_start >/dev/null

# Starts a process in the background; its URL (first stdout line) goes to $work/url.$1.
start() { # name, command...
  local name=$1; shift
  "$@" >"$work/out.$name" 2>"$work/err.$name" &
  pids+=($!)
  local pid=$! url=""
  for _ in $(seq 1 300); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/out.$name" 2>/dev/null | head -n 1 || true)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/err.$name" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { echo "$name did not announce its URL" >&2; exit 1; }
  echo "$url" >"$work/url.$name"
}

cat >"$work/scenario.yaml" <<'YAML'
durations: { queue_s: 0, compile_s: 1, provision_s: 0.5, run_s: 2 }
YAML
start sim "$bin" hub-sim --bind 127.0.0.1:0 --token bench-hub-token --scenario "$work/scenario.yaml"
hub=$(cat "$work/url.sim")
sim_pid=${pids[0]}

export EDGEGENAI_MASTER_KEY
EDGEGENAI_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
export EDGEGATE_JWT_SECRET=bench-secret QAIHUB_API_URL=$hub EDGEGATE_LOG=warn
admin=$EDGEGATE_TEST_POSTGRES_URL
printf '%-8s %6s %10s %10s %9s\n' workers runs seconds runs/min speed-up
base=""
for n in $counts; do
  db="bench_$n"
  PGOPTIONS="-c client_min_messages=warning" psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" </dev/null >/dev/null
  url="${admin%/postgres}/$db"
  mkdir -p "$work/shared.$n"
  common=(--bind 127.0.0.1:0 --database-url "$url" --shared-dir "$work/shared.$n" --max-concurrent-runs 1)
  start "api.$n" "$bin" serve --role api --data-dir "$work/api.$n" "${common[@]}"
  for w in $(seq 1 "$n"); do
    start "worker.$n.$w" "$bin" serve --role worker --data-dir "$work/worker.$n.$w" "${common[@]}"
  done
  python3 - "$(cat "$work/url.api.$n")" "$runs" "$work/result.$n" <<'PY'
import json, sys, time, urllib.request, uuid
url, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
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
call("POST", f"/v1/workspaces/{ws}/integrations/qaihub", {"token": "bench-hub-token"}, tok)
pack = {"promptpack_id": "bench", "version": "1.0.0", "name": "bench",
        "cases": [{"case_id": "c1", "prompt": "hello", "expected": {"type": "exact", "text": "x"}}]}
call("POST", f"/v1/workspaces/{ws}/promptpacks", {"promptpack_id": "bench", "version": "1.0.0", "content": pack}, tok)
call("PUT", f"/v1/workspaces/{ws}/promptpacks/bench/1.0.0/publish", None, tok)
pipe = call("POST", f"/v1/workspaces/{ws}/pipelines", {
    "name": "bench", "promptpack_ref": {"promptpack_id": "bench", "version": "1.0.0"},
    "device_matrix": [{"name": "RB5", "enabled": True}],
    "gates": [{"metric": "inference_time_ms", "operator": "lte", "threshold": 1000}]}, tok)["id"]
model = open("examples/aihub/model.onnx", "rb").read()
arts = []
for i in range(runs):
    doc = f"bench run {i}".encode()
    data = model + bytes([0x32, len(doc)]) + doc  # ModelProto.doc_string: a model of its own
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nonnx\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model.onnx\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    arts.append(call("POST", f"/v1/workspaces/{ws}/artifacts", token=tok, raw=body,
                     ctype=f"multipart/form-data; boundary={boundary}")["id"])
start = time.monotonic()
ids = [call("POST", f"/v1/workspaces/{ws}/runs", {"pipeline_id": pipe, "model_artifact_id": a}, tok)["id"] for a in arts]
statuses = {}
while len(statuses) < len(ids) and time.monotonic() - start < 1800:
    for r in ids:
        if r in statuses: continue
        s = call("GET", f"/v1/workspaces/{ws}/runs/{r}", token=tok)["status"]
        if s not in ("queued", "running"): statuses[r] = s
    time.sleep(0.2)
elapsed = time.monotonic() - start
bad = {s for s in statuses.values() if s != "passed"}
if len(statuses) < len(ids) or bad:
    sys.exit(f"not every run passed: {len(statuses)}/{len(ids)} ended, other statuses: {bad}")
open(out, "w").write(f"{elapsed:.1f}\n")
PY
  secs=$(cat "$work/result.$n")
  per_min=$(python3 -c "print(f'{$runs * 60 / $secs:.1f}')")
  [ -n "$base" ] || base=$per_min
  speedup=$(python3 -c "print(f'{$per_min / $base:.2f}x')")
  printf '%-8s %6s %10s %10s %9s\n' "$n" "$runs" "$secs" "$per_min" "$speedup"
  # Stop this round's servers, keep the simulator.
  rest=()
  for p in "${pids[@]}"; do
    if [ "$p" = "$sim_pid" ]; then rest+=("$p"); else kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  pids=("${rest[@]}")
done
echo "hub-sim job durations: compile 1 s, provisioning 0.5 s, profile 2 s; one run at a time per worker"
