#!/usr/bin/env bash
# Compares the `host` device's reported inference_time_ms with an independent onnxruntime
# measurement of the same model on the same cases, and shows how stable our figure is.
#
#   scripts/bench-local.sh [CONFIG]        (default: examples/quickstart/edgegate.yaml)
#   RUNS=10 ORT_THREADS=1 scripts/bench-local.sh
#
# Our side: `examples/local_profile.rs` (release build), the same LocalDevice `edgegate run` uses,
# with the config's run_policy (warm-up runs, then measurement_repeats timed runs per case); the
# figure is the median of all timed runs. It runs RUNS times as separate processes.
# Reference side: onnxruntime from PyPI, installed into a venv under target/ (nothing global),
# timed with the same protocol on the same .npy inputs, RUNS times, ORT_THREADS intra-op threads
# (default 1: tract runs on one thread). The onnxruntime figure includes the Python binding's
# per-call cost (a few microseconds), which dominates for models that run in microseconds: compare
# on a model that does real work (the regressed quickstart model) before reading much into a ratio.
set -euo pipefail

cd "$(dirname "$0")/.."
CONFIG=${1:-examples/quickstart/edgegate.yaml}
RUNS=${RUNS:-10}
ORT_THREADS=${ORT_THREADS:-1}
VENV=${BENCH_VENV:-target/bench-venv}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "building the local profiler (release)..." >&2
cargo build --release --quiet --example local_profile

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV with onnxruntime..." >&2
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check onnxruntime numpy pyyaml

for i in $(seq 1 "$RUNS"); do
    target/release/examples/local_profile "$CONFIG" >> "$OUT/ours.jsonl"
done

"$VENV/bin/python" - "$CONFIG" "$RUNS" "$ORT_THREADS" "$OUT/ours.jsonl" <<'PY'
import json, statistics, sys, time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import yaml

config_path, runs, threads, ours_path = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
config = yaml.safe_load(config_path.read_text())
base = config_path.parent
model = base / config["model"]["path"]
pack_path = base / config["promptpack"]["path"]
pack = yaml.safe_load(pack_path.read_text())
policy = config.get("run_policy", {})
warmup, repeats = policy.get("warmup_runs", 1), policy.get("measurement_repeats", 3)
cases = [{name: np.load(pack_path.parent / spec["npy"]) for name, spec in c["inputs"].items()}
         for c in pack["cases"]]

def ort_once():
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    samples = []
    for feed in cases:
        for _ in range(warmup):
            sess.run(None, feed)
        for _ in range(max(repeats, 1)):
            t = time.perf_counter()
            sess.run(None, feed)
            samples.append((time.perf_counter() - t) * 1e3)
    return float(np.percentile(samples, 50))

ours = [json.loads(line) for line in open(ours_path)]
our_ms = [o["inference_time_ms"] for o in ours]
ref_ms = [ort_once() for _ in range(runs)]

def spread(xs):
    return f"min {min(xs):.4g}  median {statistics.median(xs):.4g}  max {max(xs):.4g} ms"

o_med, r_med = statistics.median(our_ms), statistics.median(ref_ms)
print(f"model:             {model} ({len(cases)} cases x {repeats} repeats, {warmup} warm-up)")
print(f"edgegate host:     {spread(our_ms)}   over {runs} runs (tract, release build)")
print(f"onnxruntime {ort.__version__}: {spread(ref_ms)}   over {runs} runs ({threads} thread)")
print(f"ratio ours/ort:    {o_med / r_med:.2f}  (median of run medians)")
print(f"our spread:        (max - min) / median = {(max(our_ms) - min(our_ms)) / o_med * 100:.1f}%")
print(f"also reported:     load_time_ms {statistics.median(o['load_time_ms'] for o in ours):.2f}, "
      f"peak_memory_mb {statistics.median(o['peak_memory_mb'] or 0 for o in ours):.1f}, "
      f"model_size_mb {ours[0]['model_size_mb']:.4f}")
PY
