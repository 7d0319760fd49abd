#!/usr/bin/env bash
# Lint everything: Python (ruff, import layers via lint-imports), SQL (sqlfluff), policy
# drift, generated types, plpgsql (supabase db lint), the security advisor (scripts/advisor.sql).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${DATABASE_URL:=postgresql://postgres:postgres@127.0.0.1:${WAYFARE_PG_PORT:-54322}/postgres}"
echo "== ruff"
.venv/bin/ruff check .
echo "== import layers (lint-imports, [tool.importlinter] in pyproject.toml)"
.venv/bin/lint-imports --no-cache
echo "== sqlfluff"
.venv/bin/sqlfluff lint --processes 2 supabase/migrations sql/policies scripts/supabase_compat.sql \
  scripts/advisor.sql
echo "== policy drift"
.venv/bin/python scripts/policies.py check
echo "== generated types"
scripts/types.sh check
echo "== generated schema (supabase/schema.sql)"
scripts/schema.sh check
echo "== supabase db lint (plpgsql_check)"
sep='?'; case "$DATABASE_URL" in *\?*) sep='&' ;; esac
node_modules/.bin/supabase db lint --db-url "${DATABASE_URL}${sep}sslmode=disable" \
  --schema public,private --level warning --fail-on error </dev/null
echo "== security advisor (scripts/advisor.sql)"
.venv/bin/python scripts/advisor.py "$DATABASE_URL"
