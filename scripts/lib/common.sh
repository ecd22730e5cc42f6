# Shared by scripts/test, scripts/demo and the benchmarks: install what is missing, find things.
# shellcheck shell=bash

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1
  fi
}

# System packages the build and the tests need, installed through apt only when missing.
ensure_system_packages() {
  local missing=()
  pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
  pkg-config --exists libgit2 2>/dev/null || missing+=(libgit2-dev)
  # libpg_query (PostgreSQL 15's parser) has no pkg-config file in Debian: look for its header.
  [ -f /usr/include/pg_query.h ] || missing+=(libpg-query-dev)
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
  command -v git >/dev/null 2>&1 || missing+=(git)
  command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# A headless browser for the dashboard's tests (Debian's chromium), installed when missing.
ensure_browser() {
  if ! command -v chromium >/dev/null 2>&1; then
    log "installing chromium (the dashboard's tests load its pages in a headless browser)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
  fi
}

# A private Python environment for test helpers (JSON Schema validation), made once.
ensure_python_tools() {
  local venv="$ROOT/.build/test-venv"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import jsonschema, yaml, helm_python, kubernetes_validate, migra, psycopg2, websocket' 2>/dev/null; then
    log "preparing $venv (jsonschema, pyyaml, helm-python-sdk, kubernetes-validate, migra, websocket-client)"
    python3 -m venv "$venv" 2>/dev/null || {
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    }
    "$venv/bin/pip" install --quiet --disable-pip-version-check jsonschema pyyaml helm-python-sdk kubernetes-validate \
      migra psycopg2-binary setuptools websocket-client
  fi
  export DRIFTLESS_TEST_PYTHON="$venv/bin/python"
}

# The server binaries (initdb, pg_ctl): Debian keeps them off PATH.
pg_bindir() {
  if [ -n "${DRIFTLESS_PG_BINDIR:-}" ]; then echo "$DRIFTLESS_PG_BINDIR"; return; fi
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then echo /usr/lib/postgresql/15/bin; return; fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] && echo "$dir" && return
  dirname "$(command -v initdb)"
}

# Starts a throwaway cluster (loopback, free port, private socket dir) with the Supabase
# emulation in database "postgres". Sets PG_BASE, PG_PORT, DATABASE_URL; stop_throwaway_pg stops it.
start_throwaway_pg() {
  local bindir run=()
  bindir=$(pg_bindir)
  PG_BASE=$(mktemp -d /tmp/driftless-demo-pg.XXXXXX)
  mkdir -p "$PG_BASE/sock"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$PG_BASE"
    run=(runuser -u postgres --)
  fi
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${run[@]}" "$bindir/initdb" -D "$PG_BASE/data" -A trust -U supabase_admin -E UTF8 --no-sync --locale=C >/dev/null
  "${run[@]}" "$bindir/pg_ctl" -D "$PG_BASE/data" -l "$PG_BASE/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_BASE/sock -c fsync=off ${PG_OPTIONS:-}" start >/dev/null
  DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
  export DATABASE_URL PG_BASE PG_PORT
  # As on Supabase: supabase_admin is the superuser, postgres owns the database and is not a
  # superuser; a project of today ("no auto-expose", see docs/engine.md, Testing).
  local admin="postgresql://supabase_admin@127.0.0.1:$PG_PORT/postgres"
  psql -q -X -v ON_ERROR_STOP=1 "$admin" -c "CREATE ROLE postgres LOGIN" -c "ALTER DATABASE postgres OWNER TO postgres" >/dev/null
  psql -q -X -v ON_ERROR_STOP=1 "$admin" -f "$ROOT/Sources/TestSupport/Resources/supabase-emulation.sql" >/dev/null
}

stop_throwaway_pg() {
  [ -n "${PG_BASE:-}" ] || return 0
  local run=()
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$(pg_bindir)/pg_ctl" -D "$PG_BASE/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_BASE"
}
