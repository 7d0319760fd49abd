#!/usr/bin/env bash
# The frontend (frontend/: the @wayfare/kit package, the travel app, their tests).
#
#   scripts/frontend.sh deps       install node packages (npm ci, pinned by frontend/package-lock.json)
#                                  and build the kit, when missing or stale
#   scripts/frontend.sh types      copy supabase/types/database.types.ts into the kit
#   scripts/frontend.sh unit       vitest unit tests of the kit (no backend)
#   scripts/frontend.sh typecheck  tsc --noEmit for the kit, the app and the e2e tests
#   scripts/frontend.sh build      the app's production bundle (frontend/app/dist)
#   scripts/frontend.sh e2e        HTTP tests (supabase-js, kit) and the chromium run, against a
#                                  whole Wayfare started for the run (frontend/e2e/stack.py)
#   scripts/frontend.sh test       all of the above; exits non-zero on any failure
#   scripts/frontend.sh serve      serve the app at http://127.0.0.1:5173 (make run), in the
#                                  foreground; SUPABASE_URL (default http://127.0.0.1:54321),
#                                  SUPABASE_ANON_KEY (default: the local key), STRIPE_API_BASE and
#                                  STRIPE_API_KEY (the Stripe double, for the test-mode pay step)
#
# FRONTEND_E2E=0 skips the e2e step of `test`. Needs the local Postgres (make db) for e2e.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FE="$ROOT/frontend"
PY="$ROOT/.venv/bin/python"
BIN="$FE/node_modules/.bin"
export VITE_CONFIG_NATIVE_IGNORE_WARNING=true

log() { printf 'frontend: %s\n' "$*" >&2; }

deps() {
  command -v npm >/dev/null || { log "npm is missing (scripts/stack.sh deps installs node)"; exit 1; }
  if [ ! -f "$FE/node_modules/.package-lock.json" ] || [ "$FE/package-lock.json" -nt "$FE/node_modules/.package-lock.json" ]; then
    log "npm ci"
    (cd "$FE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  if [ ! -f "$FE/kit/dist/index.js" ] || [ -n "$(find "$FE/kit/src" -newer "$FE/kit/dist/index.js" -print -quit)" ]; then
    (cd "$FE/kit" && "$BIN/tsc" -p tsconfig.build.json)
  fi
}

types() {
  local src="$ROOT/supabase/types/database.types.ts" dst="$FE/kit/src/database.types.ts"
  if [ -f "$src" ] && ! cmp -s "$src" "$dst"; then cp "$src" "$dst"; log "kit types updated from supabase/types"; fi
}

chromium_path() {
  command -v chromium || command -v chromium-browser || true
}

ensure_chromium() {
  if [ -z "$(chromium_path)" ]; then
    log "installing Debian's chromium"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
  fi
}

unit() { (cd "$FE/kit" && "$BIN/vitest" run --reporter=dot); }

typecheck() {
  "$BIN/tsc" -p "$FE/kit" --noEmit
  "$BIN/tsc" -p "$FE/app" --noEmit
  "$BIN/tsc" -p "$FE/e2e" --noEmit
}

build() {
  deps
  (cd "$FE/app" && "$BIN/vite" build --logLevel warn)
}

e2e() {
  ensure_chromium
  [ -x "$PY" ] || { log ".venv is missing (make deps)"; exit 1; }
  rm -rf "$FE/.build/e2e" "$FE/test-results"
  "$BIN/tsc" -p "$FE/e2e"
  local tests=("$FE"/.build/e2e/*.test.js)
  CHROMIUM_PATH="$(chromium_path)" "$PY" "$FE/e2e/stack.py" -- \
    node --test --test-force-exit --test-concurrency=3 --test-reporter=spec "${tests[@]}"
}

serve() {
  deps
  [ -f "$FE/app/dist/index.html" ] && [ -z "$(find "$FE/app/src" "$FE/kit/dist" -newer "$FE/app/dist/index.html" -print -quit)" ] || build
  export SUPABASE_URL="${SUPABASE_URL:-http://127.0.0.1:54321}"
  if [ -z "${SUPABASE_ANON_KEY:-}" ] && [ -x "$PY" ]; then
    SUPABASE_ANON_KEY="$(cd "$ROOT" && "$PY" -m devstack.localapi keys | sed -n 's/^SUPABASE_ANON_KEY=//p')"
    export SUPABASE_ANON_KEY
  fi
  cd "$FE/app" && exec "$BIN/vite" preview --host 127.0.0.1 --port "${FRONTEND_PORT:-5173}" --strictPort
}

case "${1:-test}" in
  deps) deps ;;
  types) types ;;
  unit) deps; unit ;;
  typecheck) deps; typecheck ;;
  build) build ;;
  e2e) build; e2e ;;
  serve) serve ;;
  test)
    start=$(date +%s)
    types
    deps
    unit
    typecheck
    build
    if [ "${FRONTEND_E2E:-1}" != "0" ]; then e2e; else log "e2e skipped (FRONTEND_E2E=0)"; fi
    log "all frontend tests passed in $(( $(date +%s) - start )) s"
    ;;
  *) echo "usage: $0 {deps|types|unit|typecheck|build|e2e|test|serve}" >&2; exit 2 ;;
esac
