#!/usr/bin/env bash
# `make run`: the database is up and migrated (make db ran first); start Wayfare's processes
# and stay in the foreground until Ctrl-C, which stops them (the database keeps running).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${DATABASE_URL:=postgresql://postgres:postgres@127.0.0.1:54322/postgres}"
export DATABASE_URL
cat <<MSG

Wayfare is up.
  database   $DATABASE_URL
             psql "$DATABASE_URL"
  stop it    make db-stop

MSG
