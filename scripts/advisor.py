"""The security and performance advisor (`make lint`): runs scripts/advisor.sql, Supabase's
database advisor lints written for this schema, against a migrated database and fails on any
finding. Exceptions are documented next to their check in advisor.sql, nowhere else.

    .venv/bin/python scripts/advisor.py                 # $DATABASE_URL, or the local cluster
    .venv/bin/python scripts/advisor.py --json URL      # findings as JSON (tests)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import psycopg

SQL = Path(__file__).with_name("advisor.sql")
DEFAULT_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres"


def findings(url: str) -> list[dict[str, str]]:
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("set statement_timeout = '60s'")
        conn.execute("set search_path = ''")  # names print schema-qualified
        rows = conn.execute(SQL.read_text()).fetchall()
    return [{"lint": lint, "object": name, "detail": detail} for lint, name, detail in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", nargs="?",
                        default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    args = parser.parse_args(argv)
    found = findings(args.database_url)
    if args.json:
        print(json.dumps(found))
        return 1 if found else 0
    for item in found:
        print(f"{item['lint']}: {item['object']}: {item['detail']}")
    print(f"advisor: {len(found)} finding(s)" if found else "advisor: no findings")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
