#!/usr/bin/env bash
# Benchmark of relative-gate verdicts (NOT a test, not run in CI): A/A and A/B experiments through
# the real `edgegate run` binary.
#
# 1. `edgegate hub-sim` with seeded noise (per-run log-normal CV $NOISE_CV, 2 % per-sample
#    jitter, 2 % slow drift), a 10 % relative latency gate, default settings in paired mode
#    (`--baseline-model`: 5 paired runs, up to 5 extra when inconclusive, 95 % interval):
#      - A/A: $AA_RUNS runs of an unchanged model          -> false-fail rate
#      - A/B: $AB_RUNS runs each of a true +10 % and +20 %  -> detection rates
#    and, for comparison, the old rule (one run against one stored baseline run).
# 2. The `host` device (this CPU): a smaller A/A and A/B with a generated MLP and a copy whose
#    hidden layer is zero-padded by 20 % (bit-identical outputs, about 20 % more work).
#
# "caught" = the run did not pass (exit 1 failed, or exit 3 inconclusive/not measured);
# "failed" = exit 1. Extra device minutes are AI Hub profile jobs beyond the one a single
# unpaired run uses, at the planner's estimate of 1 device minute per profile job.
#
# Usage: scripts/bench-verdicts.sh   (env: EDGEGATE_BIN, AA_RUNS=200, AB_RUNS=100,
#        OLD_RUNS=100, HOST_RUNS=15, NOISE_CV=0.05, SEED=1, MAX_EXTRA_RUNS=<run_policy default 5>;
#        a count of 0 skips that experiment)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
AA_RUNS=${AA_RUNS:-200}
AB_RUNS=${AB_RUNS:-100}
OLD_RUNS=${OLD_RUNS:-100}
HOST_RUNS=${HOST_RUNS:-15}
NOISE_CV=${NOISE_CV:-0.05}
SEED=${SEED:-1}
EXTRA_POLICY=""
if [ -n "${MAX_EXTRA_RUNS:-}" ]; then EXTRA_POLICY=", max_extra_runs: $MAX_EXTRA_RUNS"; fi
BIN=${EDGEGATE_BIN:-}
if [ -z "$BIN" ]; then
  if [ -x target/release/edgegate ]; then BIN=target/release/edgegate; else
    cargo build -q && BIN=target/debug/edgegate
  fi
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
WORK=$(mktemp -d)
SIM_PID=""
cleanup() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export QAIHUB_API_TOKEN=edgegate-sim-token
unset QAIHUB_API_URL QAIHUB_CLIENT_INI GITHUB_ACTIONS GITLAB_CI CI || true
echo "edgegate: $BIN ($("$BIN" --version))"
echo "work dir: $WORK"

# ---------------------------------------------------------------- hub-sim project
SIMDIR=$WORK/sim
mkdir -p "$SIMDIR"
cd "$SIMDIR"
git init -q .
printf 'baseline model' > base.onnx
printf 'candidate model' > cand.onnx
CAND_SHA=$(sha256sum cand.onnx | cut -d' ' -f1)
cat > edgegate.yaml <<EOF
version: 1
name: bench verdicts
model: { path: cand.onnx }
promptpack:
  content: { promptpack_id: bench, version: 1.0.0, name: bench, cases: [ { case_id: c, prompt: x, expected: { type: none } } ] }
device_matrix:
  - { name: s24, runtime: tflite }
gates:
  - { metric: inference_time_ms, max_regression_pct: 10 }
run_policy: { warmup_runs: 1, measurement_repeats: 10$EXTRA_POLICY }
EOF

start_sim() { # factor seed
  rm -rf .edgegate
  cat > scenario.yaml <<EOF
devices:
  "Samsung Galaxy S24": { latency_ms: 5.0 }
noise: { seed: $2, latency_cv: $NOISE_CV, sample_cv: 0.02, drift_pct: 2, drift_period_runs: 40 }
models:
  "$CAND_SHA": { latency_factor: $1 }
EOF
  "$BIN" hub-sim --scenario scenario.yaml > sim.out 2>&1 &
  SIM_PID=$!
  for _ in $(seq 50); do
    if grep -q "listening on" sim.out 2>/dev/null; then break; fi
    sleep 0.1
  done
  URL=$(awk '/listening on/ {print $3; exit}' sim.out)
}

stop_sim() {
  kill "$SIM_PID" 2>/dev/null || true
  wait "$SIM_PID" 2>/dev/null || true
  SIM_PID=""
}

# Prints: label n passed failed notmeasured other mean_profile_jobs mean_runs
tally() { # label file_of_lines("code jobs runs")
  python3 - "$1" "$2" <<'EOF'
import sys
label, path = sys.argv[1], sys.argv[2]
rows = [l.split() for l in open(path) if l.strip()]
n = len(rows)
if n == 0:
    print(f"{label:<34} n=0 (skipped)"); sys.exit()
c = lambda k: sum(1 for r in rows if r[0] == k)
other = n - c("0") - c("1") - c("3")
jobs = sum(float(r[1]) for r in rows) / max(n, 1)
runs = sum(float(r[2]) for r in rows) / max(n, 1)
print(f"{label:<34} n={n:<4} passed {100*c('0')/n:5.1f}%  failed {100*c('1')/n:5.1f}%  "
      f"inconclusive {100*c('3')/n:5.1f}%  other {other}  caught {100*(n-c('0'))/n:5.1f}%  "
      f"profile jobs/run {jobs:5.2f}  extra device min/run {jobs-1:5.2f}  runs/model {runs:4.1f}")
EOF
}

record() { # results file -> "jobs runs"
  python3 - "$1" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    print("0 0"); sys.exit()
jobs = sum(1 for d in r["devices"] for j in d["jobs"] if j["kind"] == "profile" and not j.get("reused"))
m = r["devices"][0]["metrics"].get("inference_time_ms", {})
print(jobs, len(m.get("runs", [])) or 1)
EOF
}

paired_experiment() { # label factor n seed
  if [ "$3" = 0 ]; then return; fi
  start_sim "$2" "$4"
  : > lines.txt
  for _ in $(seq "$3"); do
    set +e
    "$BIN" run -q --hub-url "$URL" --baseline-model base.onnx --json r.json >/dev/null 2>&1
    code=$?
    set -e
    echo "$code $(record r.json)" >> lines.txt
  done
  stop_sim
  tally "$1" lines.txt
}

old_rule_experiment() { # label factor n seed: one run vs one stored run of the baseline model
  if [ "$3" = 0 ]; then return; fi
  start_sim "$2" "$4"
  : > lines.txt
  for _ in $(seq "$3"); do
    set +e
    "$BIN" run -q --hub-url "$URL" --no-cache --model base.onnx --json base.json >/dev/null 2>&1
    "$BIN" run -q --hub-url "$URL" --no-cache --baseline base.json --json r.json >/dev/null 2>&1
    code=$?
    set -e
    echo "$code $(record r.json)" >> lines.txt
  done
  stop_sim
  tally "$1" lines.txt
}

echo
echo "== hub-sim: noise CV $NOISE_CV per run, 10% relative gate, default paired settings${EXTRA_POLICY:+ (run_policy$EXTRA_POLICY)} =="
paired_experiment "A/A (unchanged)" 1.0 "$AA_RUNS" "$SEED"
paired_experiment "A/B true +10%" 1.1 "$AB_RUNS" "$((SEED + 1))"
paired_experiment "A/B true +20%" 1.2 "$AB_RUNS" "$((SEED + 2))"
echo
echo "== hub-sim, for comparison: the old rule (1 run vs 1 stored baseline run) =="
old_rule_experiment "old rule A/A" 1.0 "$OLD_RUNS" "$((SEED + 3))"
old_rule_experiment "old rule A/B +10%" 1.1 "$OLD_RUNS" "$((SEED + 4))"
old_rule_experiment "old rule A/B +20%" 1.2 "$OLD_RUNS" "$((SEED + 5))"

# ---------------------------------------------------------------- host device
HOSTDIR=$WORK/host
mkdir -p "$HOSTDIR"
cd "$HOSTDIR"
git init -q .
cat > mk.py <<'EOF'
# A 256-1024-10 MLP as ONNX protobuf, written by hand (no onnx package needed); `pad` adds
# zero hidden units: identical outputs, proportionally more work.
import random, struct, sys
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f; n >>= 7
        if n: out.append(b | 0x80)
        else: out.append(b); return bytes(out)
key = lambda f, w: varint((f << 3) | w)
ld = lambda f, b: key(f, 2) + varint(len(b)) + b
vi = lambda f, n: key(f, 0) + varint(n)
st = lambda f, t: ld(f, t.encode())
def tensor(name, dims, vals):
    return b"".join(vi(1, d) for d in dims) + vi(2, 1) + st(8, name) + ld(9, struct.pack("<%df" % len(vals), *vals))
def vinfo(name, dims):
    shape = b"".join(ld(1, vi(1, d)) for d in dims)
    return st(1, name) + ld(2, ld(1, vi(1, 1) + ld(2, shape)))
def node(op, ins, outs, name):
    return b"".join(st(1, i) for i in ins) + b"".join(st(2, o) for o in outs) + st(3, name) + st(4, op)
path, n_in, hidden, pad = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = random.Random(1)
h = hidden + pad
w1 = [r.uniform(-0.1, 0.1) if j < hidden else 0.0 for i in range(n_in) for j in range(h)]
w2 = [r.uniform(-0.1, 0.1) if j < hidden else 0.0 for j in range(h) for k in range(10)]
g = (ld(1, node("MatMul", ["x", "W1"], ["h"], "mm1")) + ld(1, node("Relu", ["h"], ["hr"], "relu"))
     + ld(1, node("MatMul", ["hr", "W2"], ["y"], "mm2")) + st(2, "bench")
     + ld(5, tensor("W1", [n_in, h], w1)) + ld(5, tensor("W2", [h, 10], w2))
     + ld(11, vinfo("x", [1, n_in])) + ld(12, vinfo("y", [1, 10])))
open(path, "wb").write(vi(1, 7) + ld(8, st(1, "") + vi(2, 13)) + st(2, "edgegate-bench") + ld(7, g))
EOF
python3 mk.py a.onnx 256 1024 0
cp a.onnx a_copy.onnx
python3 mk.py slow20.onnx 256 1024 205
cat > edgegate.yaml <<EOF
version: 1
name: host bench
model: { path: a.onnx }
promptpack:
  content: { promptpack_id: b, version: 1.0.0, name: b, cases: [ { case_id: c, prompt: x, expected: { type: none } } ] }
device_matrix:
  - { name: host, provider: local }
gates:
  - { metric: inference_time_ms, max_regression_pct: 10 }
run_policy: { warmup_runs: 5, measurement_repeats: 50$EXTRA_POLICY }
EOF
host_experiment() { # label model n
  if [ "$3" = 0 ]; then return; fi
  : > lines.txt
  for _ in $(seq "$3"); do
    set +e
    "$BIN" run -q --model "$2" --baseline-model a_copy.onnx --json r.json >/dev/null 2>&1
    code=$?
    set -e
    echo "$code 1 $(python3 -c "import json;r=json.load(open('r.json'));print(len(r['devices'][0]['metrics']['inference_time_ms'].get('runs',[])) or 1)" 2>/dev/null || echo 0)" >> lines.txt
  done
  tally "$1" lines.txt | sed 's/profile jobs.*runs\/model/runs\/model/'
  python3 - <<'EOF'
import json
r = json.load(open("r.json"))
g = r["devices"][0]["gates"][0]
print("   last run:", g["message"][:220])
EOF
}
echo
echo "== host device ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)): 10% gate, paired default settings =="
host_experiment "host A/A (same model)" a.onnx "$HOST_RUNS"
host_experiment "host A/B +20% work (padded)" slow20.onnx "$HOST_RUNS"
cd "$ROOT"
