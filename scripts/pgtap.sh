#!/usr/bin/env bash
# pgTAP: a fresh database made by compat + `supabase db push`, the helpers, then pg_prove.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${DATABASE_URL:=postgresql://postgres:postgres@127.0.0.1:${WAYFARE_PG_PORT:-54322}/postgres}"
db="wayfare_pgtap_$$"
url="${DATABASE_URL%/*}/$db"
PGOPTIONS="-c client_min_messages=warning" psql "$DATABASE_URL" -qX -v ON_ERROR_STOP=1 \
  -c "drop database if exists $db with (force)" \
  -c "create database $db"
scripts/stack.sh migrate "$url"
PGOPTIONS="-c client_min_messages=warning" psql "$url" -qX -v ON_ERROR_STOP=1 \
  -f supabase/tests/helpers/setup.sql
PGOPTIONS='-c search_path=public,extensions' pg_prove -d "$url" --ext .sql -r "$@" \
  supabase/tests/database/
PGOPTIONS="-c client_min_messages=warning" psql "$DATABASE_URL" -qX -c "drop database if exists $db with (force)"
