#!/usr/bin/env bash
# Benchmark of `edgegate run` against a local hub-sim: a 10-device x 100-case plan with fixed job
# durations (tests/scenarios/bench.yaml). Prints
#   - wall time of the whole run divided by the longest single device chain (one device alone,
#     same durations): 1.0 means the devices ran fully in parallel; the target is <= 1.1;
#   - AI Hub API requests per job (uploads, submissions, polls and result reads over all jobs).
#
# Usage: scripts/bench-run.sh [DEVICES] [CASES]      (default 10 100)
# Env:   EDGEGATE_BIN   binary to use (default: target/release/edgegate, built if missing;
#                       PROFILE=debug uses target/debug/edgegate)
set -euo pipefail

cd "$(dirname "$0")/.."
DEVICES="${1:-10}"
CASES="${2:-100}"
PROFILE="${PROFILE:-release}"
if [[ -z "${EDGEGATE_BIN:-}" ]]; then
  if [[ "$PROFILE" == release ]]; then
    cargo build --release --quiet --bin edgegate
  else
    cargo build --quiet --bin edgegate
  fi
  EDGEGATE_BIN="target/$PROFILE/edgegate"
fi
EDGEGATE_BIN="$(realpath "$EDGEGATE_BIN")"
SCENARIO="$(realpath tests/scenarios/bench.yaml)"

WORK="$(mktemp -d)"
SIM_PID=""
cleanup() {
  if [[ -n "$SIM_PID" ]]; then kill "$SIM_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$EDGEGATE_BIN" hub-sim --bind 127.0.0.1:0 --scenario "$SCENARIO" >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
for _ in $(seq 100); do
  if grep -q "listening on" "$WORK/sim.out" 2>/dev/null; then break; fi
  sleep 0.1
done
URL="$(sed -n 's/^listening on //p' "$WORK/sim.out")"
[[ -n "$URL" ]] || { echo "hub-sim did not start: $(cat "$WORK/sim.err")" >&2; exit 1; }

python3 - "$WORK" "$DEVICES" "$CASES" <<'PY'
import os, struct, sys
work, ndev, ncases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = ["Samsung Galaxy S25", "Samsung Galaxy S24", "Samsung Galaxy S23", "Samsung Galaxy S22 5G",
         "Samsung Galaxy S21", "Samsung Galaxy A73 5G", "Samsung Galaxy Tab S8", "Google Pixel 5a 5G",
         "Google Pixel 4", "Xiaomi 12", "Snapdragon 7 Gen 4 QRD", "QCS8550 (Proxy)", "RB5 (Proxy)",
         "SA8775P ADP", "SA8295P ADP"]
if ndev > len(names):
    sys.exit(f"at most {len(names)} devices")
def npy(path, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, %d), }" % len(values)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % len(values), *values))
def project(folder, devices):
    os.makedirs(os.path.join(folder, "inputs"), exist_ok=True)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(b"edgegate benchmark model")
    with open(os.path.join(folder, "labels.txt"), "w") as f:
        f.write("\n".join(str(i) for i in range(10)) + "\n")
    cases = []
    for i in range(ncases):
        v = [0.0] * 10
        v[i % 10] = 1.0
        npy(os.path.join(folder, "inputs", f"c{i}.npy"), v)
        cases.append(f"  - {{ case_id: c{i}, inputs: {{ x: {{ npy: inputs/c{i}.npy }} }}, expected: {{ type: label, label: \"{i % 10}\" }} }}")
    with open(os.path.join(folder, "promptpack.yaml"), "w") as f:
        f.write("promptpack_id: bench\nversion: 1.0.0\nname: Bench\nlabels: labels.txt\ncases:\n" + "\n".join(cases) + "\n")
    devs = "\n".join(f"  - {{ name: \"{n}\", runtime: tflite }}" for n in devices)
    with open(os.path.join(folder, "edgegate.yaml"), "w") as f:
        f.write(f"version: 1\nname: Bench\nmodel: {{ path: model.onnx }}\npromptpack: {{ path: promptpack.yaml }}\n"
                f"device_matrix:\n{devs}\ngates:\n  - {{ metric: accuracy, operator: gte, threshold: 0.9 }}\n"
                f"run_policy: {{ warmup_runs: 1, measurement_repeats: 10, timeout_minutes: 30, max_concurrency: {len(devices)} }}\n")
project(os.path.join(work, "one"), names[:1])
project(os.path.join(work, "all"), names[:ndev])
PY

run_project() {
  local dir="$1"
  (cd "$dir" && QAIHUB_API_TOKEN=edgegate-sim-token HOME="$dir" CI=true \
    EDGEGATE_LOG="edgegate::hub=debug" \
    "$EDGEGATE_BIN" run edgegate.yaml --hub-url "$URL" --no-cache --json results.json -q \
    >"$dir/stdout" 2>"$dir/stderr") || { echo "run in $dir failed:"; cat "$dir/stdout" "$dir/stderr"; exit 1; }
}

now() { python3 -c 'import time; print(time.monotonic())'; }
t0=$(now); run_project "$WORK/one"; t1=$(now)
t2=$(now); run_project "$WORK/all"; t3=$(now)

python3 - "$WORK" "$t0" "$t1" "$t2" "$t3" "$DEVICES" "$CASES" <<'PY'
import json, sys
work = sys.argv[1]
t0, t1, t2, t3 = map(float, sys.argv[2:6])
ndev, ncases = sys.argv[6], sys.argv[7]
one, all_ = t1 - t0, t3 - t2
res = json.load(open(f"{work}/all/results.json"))
jobs = sum(len(d["jobs"]) for d in res["devices"])
requests = sum(1 for line in open(f"{work}/all/stderr") if "ai hub request" in line)
longest = max(d["duration_s"] for d in res["devices"])
print(f"plan: {ndev} devices x {ncases} cases, verdict {res['verdict']}")
print(f"single device chain (1 device alone): {one:.2f} s")
print(f"whole run ({ndev} devices):           {all_:.2f} s")
print(f"wall / longest single device chain:  {all_ / one:.3f}   (target <= 1.1)")
print(f"wall / longest device in this run:   {res['duration_s'] / longest:.3f}")
print(f"jobs: {jobs}, ai hub api requests: {requests}, requests per job: {requests / max(jobs, 1):.1f}")
PY
