#!/usr/bin/env bash
# The generated `Database` TypeScript type (what `supabase gen types typescript` prints), made
# offline by @supabase/postgres-meta from a scratch database built by the migrations alone.
#   scripts/types.sh write   regenerate supabase/types/database.types.ts
#   scripts/types.sh check   fail when the checked-in file differs from the migrations
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${DATABASE_URL:=postgresql://postgres:postgres@127.0.0.1:${WAYFARE_PG_PORT:-54322}/postgres}"
OUT=supabase/types/database.types.ts
db="wayfare_types_$$"
url="${DATABASE_URL%/*}/$db"
admin() { PGOPTIONS="-c client_min_messages=warning" psql "$DATABASE_URL" -qX -v ON_ERROR_STOP=1 "$@"; }
trap 'admin -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true' EXIT
admin -c "drop database if exists $db with (force)" -c "create database $db"
scripts/stack.sh migrate "$url"
generated="$(mktemp)"
PG_META_DB_URL="$url" PG_META_GENERATE_TYPES=typescript \
  PG_META_GENERATE_TYPES_INCLUDED_SCHEMAS=public \
  node node_modules/@supabase/postgres-meta/dist/server/server.js >"$generated" 2>/dev/null
[ -s "$generated" ] || { echo "types: postgres-meta printed nothing" >&2; exit 1; }
case "${1:-check}" in
  write)
    mkdir -p "$(dirname "$OUT")"
    mv "$generated" "$OUT"
    echo "wrote $OUT"
    scripts/frontend.sh types  # the kit ships its own copy (npm-installable on its own)
    ;;
  check)
    if ! diff -u "$OUT" "$generated" >/tmp/wayfare-types.diff; then
      head -40 /tmp/wayfare-types.diff >&2
      echo "types: $OUT differs from the migrations: run \`make types\` and commit it" >&2
      rm -f "$generated"; exit 1
    fi
    rm -f "$generated"
    echo "types: $OUT matches the migrations"
    ;;
  *) echo "usage: $0 {write|check}" >&2; exit 2 ;;
esac
