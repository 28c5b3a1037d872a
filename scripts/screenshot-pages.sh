#!/usr/bin/env bash
# Opens the server's pages in headless Chromium (Debian package, installed if missing) and saves
# screenshots: a run's report page, its pipeline's history page and /docs. Not a test: it makes
# PNGs for a person to look at. Starts `edgegate hub-sim` and `edgegate serve` on 127.0.0.1, runs
# the consumer guide's flow (examples/quickstart.py) with six runs so the history has points.
# Usage: scripts/screenshot-pages.sh [OUT_DIR (default target/screenshots)]
# Env:   EDGEGATE_BIN (default target/debug/edgegate, built when unset)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-target/screenshots}
mkdir -p "$out"
if ! command -v chromium >/dev/null 2>&1 || [ ! -d /usr/share/fonts/truetype/noto ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fonts-noto-color-emoji
fi
if [ -z "${EDGEGATE_BIN:-}" ]; then
  cargo build --quiet --bin edgegate
  EDGEGATE_BIN=target/debug/edgegate
fi
bin=$EDGEGATE_BIN
venv=target/quickstart-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check httpx
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
url_of() {
  for _ in $(seq 1 300); do
    u=$(grep -ho 'http://127\.0\.0\.1:[0-9]*' "$1" 2>/dev/null | head -n 1 || true)
    [ -n "$u" ] && { echo "$u"; return 0; }
    sleep 0.1
  done
  echo "no URL in $1" >&2; return 1
}
token=screenshot-sim-token
"$bin" hub-sim --bind 127.0.0.1:0 --token "$token" >"$work/sim.log" 2>&1 &
pids+=($!)
sim=$(url_of "$work/sim.log")
EDGEGENAI_MASTER_KEY=$(head -c 32 /dev/urandom | base64) EDGEGATE_JWT_SECRET=screenshot-secret \
QAIHUB_API_URL="$sim" "$bin" serve --bind 127.0.0.1:0 --data-dir "$work/data" >"$work/serve.log" 2>&1 &
pids+=($!)
api=$(url_of "$work/serve.log")
QAIHUB_API_TOKEN=$token "$venv/bin/python" examples/quickstart.py --url "$api" --runs 6 >"$work/flow.log"
report=$(sed -n 's/^report: //p' "$work/flow.log")
history=$(sed -n 's/^history: //p' "$work/flow.log")
shot() { # name url
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1600 \
    --screenshot="$root/$out/$1.png" "$2" >/dev/null 2>&1
  echo "$out/$1.png  <- $2"
}
shot report "$report"
shot history "$history"
shot docs "$api/docs"
