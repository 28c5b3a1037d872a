#!/usr/bin/env bash
# Installs the system packages EdgeGate needs to build and test on Debian 12 (bookworm):
# libhdf5 (HDF5 datasets of AI Hub, linked dynamically by the hdf5-metno crate) and pkg-config
# (to find it), plus python3-venv for the official-client test and PostgreSQL's server binaries
# (scripts/test.sh runs the server's API tests on a throwaway PostgreSQL cluster too).
# Idempotent and non-interactive; safe to run before every build.
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install Rust (rustup or your package manager) first" >&2
  exit 1
fi

need=()
pkg-config --exists hdf5 2>/dev/null || need+=(libhdf5-dev pkg-config)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3 python3-venv)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)

if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null
fi
