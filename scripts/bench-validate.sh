#!/usr/bin/env bash
# Times `edgegate validate` on a generated promptpack of N cases (default 5,000). Not a test:
# prints numbers. Usage: scripts/bench-validate.sh [cases] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-5000}
runs=${2:-20}
cargo build --release --quiet
if [ -n "${BENCH_DIR:-}" ]; then dir=$BENCH_DIR; mkdir -p "$dir"; else dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT; fi
cp examples/quickstart/model.onnx examples/quickstart/labels.txt "$dir/"
mkdir -p "$dir/inputs"
for i in 0 1 2 3 4 5 6 7 8 9; do cp "examples/quickstart/inputs/case_00$i.npy" "$dir/inputs/"; done
python3 - "$dir" "$cases" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
kinds = [
    '{ type: label, label: "%d" }',
    '{ type: top_k, label: "%d", k: 3 }',
    '{ type: regex, pattern: "^digit [0-9]+$" }',
    '{ type: contains, text: "seven" }',
    '{ type: exact, text: "seven" }',
]
with open(f"{d}/pack.yaml", "w") as f:
    f.write("promptpack_id: bench\nversion: 1.0.0\nname: Bench\nlabels: labels.txt\ncases:\n")
    for i in range(n):
        k = kinds[i % len(kinds)]
        k = k % (i % 10) if "%d" in k else k
        f.write(f"  - case_id: case_{i:05d}\n    name: Case {i}\n    prompt: Which digit is this?\n"
                f"    inputs: {{ image: {{ npy: inputs/case_00{i % 10}.npy }} }}\n    expected: {k}\n")
with open(f"{d}/edgegate.yaml", "w") as f:
    f.write("version: 1\nname: Bench\nmodel: { path: model.onnx }\npromptpack: { path: pack.yaml }\n"
            "device_matrix:\n  - { name: host, provider: local }\n  - { name: s24 }\n"
            "gates:\n  - { metric: accuracy, operator: gte, threshold: 0.9 }\n")
PY
bin=./target/release/edgegate
$bin validate "$dir/edgegate.yaml"
echo "promptpack: $cases cases, $(wc -c < "$dir/pack.yaml") bytes"
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 3 --runs "$runs" "$bin validate $dir/edgegate.yaml"
else
  python3 - "$bin" "$dir/edgegate.yaml" "$runs" <<'PY'
import subprocess, sys, time, statistics
bin, cfg, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
for _ in range(3):
    subprocess.run([bin, "validate", cfg], check=True, capture_output=True)
t = []
for _ in range(runs):
    s = time.perf_counter(); subprocess.run([bin, "validate", cfg], check=True, capture_output=True); t.append((time.perf_counter() - s) * 1000)
t.sort()
print(f"validate: median {statistics.median(t):.1f} ms, min {t[0]:.1f} ms, max {t[-1]:.1f} ms over {runs} runs")
PY
fi
