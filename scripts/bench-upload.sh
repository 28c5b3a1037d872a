#!/usr/bin/env bash
# Uploads a 1 GiB model file to a local `edgegate hub-sim` and reports the client's wall time
# and peak RSS (target: peak RSS under 100 MiB, since parts are streamed from disk).
#
# Usage: scripts/bench-upload.sh [SIZE_MIB]        (default 1024)
# Env:   PROFILE=release|dev (default release), KEEP=1 keeps the temporary directory.
# Needs: GNU time at /usr/bin/time (Debian/Ubuntu: apt-get install time), python3.
set -euo pipefail

size_mib="${1:-1024}"
profile="${PROFILE:-release}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [[ ! -x /usr/bin/time ]]; then
  echo "error: /usr/bin/time (GNU time) is missing; install it with: apt-get install -y time" >&2
  exit 2
fi

profile_flag=()
[[ "$profile" == "release" ]] && profile_flag=(--release)

echo "building edgegate and the upload client ($profile)..." >&2
cargo build "${profile_flag[@]}" --bin edgegate >&2
client="$(cargo build "${profile_flag[@]}" --bench hub_upload --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "hub_upload" and m.get("executable"):
        print(m["executable"])')"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
edgegate="$target_dir/$([[ "$profile" == "release" ]] && echo release || echo debug)/edgegate"

work="$(mktemp -d)"
sim_pid=""
cleanup() {
  [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null || true
  [[ "${KEEP:-0}" == "1" ]] || rm -rf "$work"
}
trap cleanup EXIT

model="$work/bench.onnx"
echo "writing a ${size_mib} MiB model file..." >&2
head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$model"

token="bench-token"
"$edgegate" hub-sim --bind 127.0.0.1:0 --token "$token" >"$work/sim.log" 2>&1 &
sim_pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$work/sim.log" | head -n1)"
  [[ -n "$url" ]] && break
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "error: hub-sim did not print its address" >&2
  cat "$work/sim.log" >&2
  exit 3
fi
echo "hub-sim at $url" >&2

QAIHUB_API_URL="$url" QAIHUB_API_TOKEN="$token" QAIHUB_CLIENT_INI=/dev/null \
  /usr/bin/time -v "$client" "$model" >"$work/result.json" 2>"$work/time.txt"

rss_kib="$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$work/time.txt")"
wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$work/time.txt")"
echo "client: $(cat "$work/result.json")"
echo "wall clock: $wall"
echo "peak RSS: $((rss_kib / 1024)) MiB ($rss_kib KiB)"
if ((rss_kib < 100 * 1024)); then
  echo "target met: peak RSS under 100 MiB"
else
  echo "target missed: peak RSS is not under 100 MiB" >&2
  exit 1
fi
