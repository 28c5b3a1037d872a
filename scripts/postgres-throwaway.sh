#!/usr/bin/env bash
# Sourced by scripts/test.sh and scripts/bench-workers.sh: `pg_throwaway_start` starts a throwaway
# PostgreSQL cluster (Debian's `postgresql` package; scripts/setup.sh installs it) in a temporary
# directory, listening on 127.0.0.1 on a free port only, and exports its admin URL as
# EDGEGATE_TEST_POSTGRES_URL; `pg_throwaway_stop` stops it and deletes the directory (callers trap
# it on EXIT). initdb refuses to run as root, so as root the cluster runs as the `postgres` user.
# Works without stdin and with CI=true.

pg_throwaway_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

pg_throwaway_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_throwaway_start() {
  local bin port pw
  bin="$(pg_throwaway_bin)" || {
    echo "postgres: initdb not found under /usr/lib/postgresql/*/bin; run scripts/setup.sh" >&2
    return 1
  }
  PG_THROWAWAY_DIR="$(mktemp -d "${TMPDIR:-/tmp}/edgegate-pg.XXXXXX")"
  export PG_THROWAWAY_DIR PG_THROWAWAY_BIN="$bin"
  pw="throwaway-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s\n' "$pw" >"$PG_THROWAWAY_DIR/pw"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$PG_THROWAWAY_DIR"; fi
  pg_throwaway_as_owner "$bin/initdb" -D "$PG_THROWAWAY_DIR/data" -U edgegate \
    --pwfile="$PG_THROWAWAY_DIR/pw" --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$PG_THROWAWAY_DIR/initdb.log" 2>&1 || {
    cat "$PG_THROWAWAY_DIR/initdb.log" >&2
    return 1
  }
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  pg_throwaway_as_owner "$bin/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -l "$PG_THROWAWAY_DIR/server.log" \
    -w -t 60 -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PG_THROWAWAY_DIR -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || {
    cat "$PG_THROWAWAY_DIR/server.log" >&2
    return 1
  }
  export EDGEGATE_TEST_POSTGRES_URL="postgres://edgegate:$pw@127.0.0.1:$port/postgres"
  echo "postgres: throwaway cluster on 127.0.0.1:$port ($PG_THROWAWAY_DIR)"
}

pg_throwaway_stop() {
  if [ -n "${PG_THROWAWAY_DIR:-}" ] && [ -d "$PG_THROWAWAY_DIR/data" ]; then
    pg_throwaway_as_owner "$PG_THROWAWAY_BIN/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "${PG_THROWAWAY_DIR:-}" ]; then rm -rf "$PG_THROWAWAY_DIR"; fi
  PG_THROWAWAY_DIR=""
}
