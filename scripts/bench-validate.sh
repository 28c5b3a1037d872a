#!/usr/bin/env bash
# Times `edgegate validate` on generated promptpacks of N cases (default 5,000). Not a test:
# prints numbers. Variants (default: all three):
#   mixed  label, top_k, one repeated regex, contains and exact expectations in turn
#   exact  one `exact` expectation per case
#   regex  one distinct `regex` expectation per case (every pattern must be checked)
# Usage: scripts/bench-validate.sh [cases] [runs] [variant...]
# Env:   EDGEGATE_BIN  binary to time (default: target/release/edgegate, built first)
#        BENCH_DIR     keep the generated project there (default: a temporary folder)
# Wall-clock figures swing with machine load; to compare two binaries on a busy machine, count
# instructions instead: `valgrind --tool=callgrind BIN validate BENCH_DIR/edgegate-exact.yaml`.
# A large promptpack's cases are parsed in parts, one per core, its schema compiled and its regexes
# checked on other threads: wall time is what a user waits for.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-5000}
runs=${2:-20}
shift $(( $# < 2 ? $# : 2 ))
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(mixed exact regex)
if [ -z "${EDGEGATE_BIN:-}" ]; then
  cargo build --release --quiet --bin edgegate
  EDGEGATE_BIN=./target/release/edgegate
fi
bin=$EDGEGATE_BIN
if [ -n "${BENCH_DIR:-}" ]; then dir=$BENCH_DIR; mkdir -p "$dir"; else dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT; fi
cp examples/quickstart/model.onnx examples/quickstart/labels.txt "$dir/"
mkdir -p "$dir/inputs"
for i in 0 1 2 3 4 5 6 7 8 9; do cp "examples/quickstart/inputs/case_00$i.npy" "$dir/inputs/"; done

for variant in "${variants[@]}"; do
python3 - "$dir" "$cases" "$variant" <<'PY'
import sys
d, n, variant = sys.argv[1], int(sys.argv[2]), sys.argv[3]
mixed = [
    '{ type: label, label: "%d" }',
    '{ type: top_k, label: "%d", k: 3 }',
    '{ type: regex, pattern: "^digit [0-9]+$" }',
    '{ type: contains, text: "seven" }',
    '{ type: exact, text: "seven" }',
]
def expected(i):
    if variant == "mixed":
        k = mixed[i % len(mixed)]
        return k % (i % 10) if "%d" in k else k
    if variant == "exact":
        return '{ type: exact, text: "digit %d" }' % i
    if variant == "regex":
        return r"""{ type: regex, pattern: '(?i)^(?:digit|number)\s*%d\b[\w ]*$' }""" % i
    sys.exit(f"unknown variant {variant} (mixed, exact, regex)")
with open(f"{d}/pack-{variant}.yaml", "w") as f:
    f.write("promptpack_id: bench\nversion: 1.0.0\nname: Bench\nlabels: labels.txt\ncases:\n")
    for i in range(n):
        f.write(f"  - case_id: case_{i:05d}\n    name: Case {i}\n    prompt: Which digit is this?\n"
                f"    inputs: {{ image: {{ npy: inputs/case_00{i % 10}.npy }} }}\n    expected: {expected(i)}\n")
with open(f"{d}/edgegate-{variant}.yaml", "w") as f:
    f.write(f"version: 1\nname: Bench\nmodel: {{ path: model.onnx }}\npromptpack: {{ path: pack-{variant}.yaml }}\n"
            "device_matrix:\n  - { name: host, provider: local }\n  - { name: s24 }\n"
            "gates:\n  - { metric: accuracy, operator: gte, threshold: 0.9 }\n")
PY
cfg="$dir/edgegate-$variant.yaml"
"$bin" validate "$cfg" >/dev/null
echo "$variant: $cases cases, $(wc -c < "$dir/pack-$variant.yaml") bytes"
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 3 --runs "$runs" --export-json "$dir/hyperfine-$variant.json" "$bin validate $cfg"
  python3 - "$dir/hyperfine-$variant.json" "$variant" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"validate ({sys.argv[2]}): median {r['median'] * 1000:.1f} ms, min {r['min'] * 1000:.1f} ms, max {r['max'] * 1000:.1f} ms over {len(r['times'])} runs")
PY
else
  python3 - "$bin" "$cfg" "$runs" "$variant" <<'PY'
import subprocess, sys, time, statistics
bin, cfg, runs, variant = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
for _ in range(3):
    subprocess.run([bin, "validate", cfg], check=True, capture_output=True)
t = []
for _ in range(runs):
    s = time.perf_counter(); subprocess.run([bin, "validate", cfg], check=True, capture_output=True); t.append((time.perf_counter() - s) * 1000)
t.sort()
print(f"validate ({variant}): median {statistics.median(t):.1f} ms, min {t[0]:.1f} ms, max {t[-1]:.1f} ms over {runs} runs")
PY
fi
done
