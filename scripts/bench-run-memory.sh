#!/usr/bin/env bash
# Benchmark of `edgegate run` on a large model against a local hub-sim. Not a test: prints
#   - the peak resident memory of the `edgegate run` client (GNU time's "Maximum resident set
#     size"; the simulator keeps uploads in its own files and is not counted); target <= 64 MiB;
#   - the throughput of our model hashing (the sha256 `run` computes before it uploads, for the
#     job cache keys and results.json) as a ratio to `sha256sum` on the same file; target >= 0.9.
#     Our hashing is timed through `run --dry-run`, which hashes the model to look up the cache
#     and does nothing else of weight (so the ratio slightly understates ours).
#
# Usage: scripts/bench-run-memory.sh [SIZE_MIB] [RUNS]     (default 2048 3)
# Env:   EDGEGATE_BIN  binary to measure (default: target/release/edgegate, built first)
#        KEEP=1        keep the temporary folder (under /tmp; it holds the model and the sim's copy)
# Needs: GNU time at /usr/bin/time (apt-get install time), sha256sum, python3; openssl, when
#        present, is timed too for reference (it uses the CPU's SHA instructions).
set -euo pipefail

size_mib="${1:-2048}"
runs="${2:-3}"
cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/time ]]; then
  echo "error: /usr/bin/time (GNU time) is missing; install it with: apt-get install -y time" >&2
  exit 2
fi
if [[ -z "${EDGEGATE_BIN:-}" ]]; then
  cargo build --release --quiet --bin edgegate
  EDGEGATE_BIN=target/release/edgegate
fi
bin="$(realpath "$EDGEGATE_BIN")"

work="$(mktemp -d /tmp/edgegate-bench-run-memory.XXXXXX)"
sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  [[ "${KEEP:-0}" == "1" ]] || rm -rf "$work"
}
trap cleanup EXIT

echo "writing a ${size_mib} MiB model under $work ..." >&2
head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$work/model.onnx"
python3 - "$work" <<'PY'
import struct, sys
work = sys.argv[1]
def npy(path, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, %d), }" % len(values)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % len(values), *values))
cases = ""
for i in range(3):
    npy(f"{work}/c{i}.npy", [float(i == j) for j in range(10)])
    cases += f"  - {{ case_id: c{i}, inputs: {{ x: {{ npy: c{i}.npy }} }}, expected: {{ type: none }} }}\n"
open(f"{work}/pack.yaml", "w").write(
    "promptpack_id: big\nversion: 1.0.0\nname: Big model\ncases:\n" + cases)
open(f"{work}/edgegate.yaml", "w").write(
    "version: 1\nname: Big model\nmodel: { path: model.onnx }\npromptpack: { path: pack.yaml }\n"
    "device_matrix:\n  - { name: s24, runtime: tflite }\n  - { name: RB5, runtime: tflite }\n"
    "gates:\n  - { metric: inference_time_ms, operator: lte, threshold: 1000 }\n"
    "run_policy: { warmup_runs: 1, measurement_repeats: 3, timeout_minutes: 30 }\n")
PY

mkdir -p "$work/sim-tmp"
TMPDIR="$work/sim-tmp" "$bin" hub-sim --bind 127.0.0.1:0 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
url=""
for _ in $(seq 100); do
  url="$(sed -n 's/^listening on //p' "$work/sim.out" | head -n1)"
  [[ -n "$url" ]] && break
  sleep 0.1
done
[[ -n "$url" ]] || { echo "error: hub-sim did not start: $(cat "$work/sim.err")" >&2; exit 3; }

export QAIHUB_API_TOKEN=edgegate-sim-token QAIHUB_CLIENT_INI=/dev/null
unset QAIHUB_API_URL
code=0
(cd "$work" && /usr/bin/time -v "$bin" run edgegate.yaml --hub-url "$url" -q --json results.json \
  >"$work/run.out" 2>"$work/run.time") || code=$?
if [[ "$code" -ne 0 ]]; then
  echo "error: edgegate run exited $code" >&2
  cat "$work/run.out" "$work/run.time" >&2
  exit 1
fi
rss_kib="$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$work/run.time")"
wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$work/run.time")"

python3 - "$bin" "$work" "$url" "$runs" "$size_mib" "$rss_kib" "$wall" <<'PY'
import json, shutil, statistics, subprocess, sys, time
bin, work, url, runs, size_mib, rss_kib, wall = sys.argv[1:]
runs, size_mib, rss_kib = int(runs), int(size_mib), int(rss_kib)
model = f"{work}/model.onnx"
dry = [bin, "run", "edgegate.yaml", "--hub-url", url, "--dry-run", "--format", "json"]

def timed(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=work, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t, out

expected = timed(["sha256sum", model])[1].split()[0]
results = json.load(open(f"{work}/results.json"))
assert results["model"]["sha256"] == expected, "run's model sha256 differs from sha256sum"
plan = json.loads(timed(dry)[1])
assert any(r["kind"] == "upload_model" for r in plan["devices"][0].get("reused", [])), \
    "the dry run did not hash the model (no cached upload found)"
ours, theirs = [], []
for _ in range(runs):
    theirs.append(timed(["sha256sum", model])[0])
    ours.append(timed(dry)[0])
ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
ssl = []
if shutil.which("openssl"):
    for _ in range(runs):
        ssl.append(timed(["openssl", "dgst", "-sha256", model])[0])
mib = size_mib
rss_mib = rss_kib / 1024
ratio = theirs_s / ours_s
print(f"model: {mib} MiB, 2 AI Hub devices on hub-sim ({url})")
print(f"edgegate run: wall {wall}, peak RSS {rss_mib:.1f} MiB ({rss_kib} KiB); target <= 64 MiB: "
      f"{'met' if rss_mib <= 64 else 'MISSED'}")
print(f"hashing: ours {mib / ours_s:.0f} MiB/s ({ours_s:.2f} s, median of {runs} via run --dry-run), "
      f"sha256sum {mib / theirs_s:.0f} MiB/s ({theirs_s:.2f} s)")
print(f"hashing throughput ratio (ours / sha256sum): {ratio:.2f}; target >= 0.9: "
      f"{'met' if ratio >= 0.9 else 'MISSED'}")
if ssl:
    ssl_s = statistics.median(ssl)
    print(f"for reference, openssl dgst -sha256: {mib / ssl_s:.0f} MiB/s ({ssl_s:.2f} s); "
          f"ours / openssl: {ssl_s / ours_s:.2f}")
PY
