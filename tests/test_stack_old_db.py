"""`make db` notices a development database built from the migrations before the 0.1.0
baseline: `scripts/stack.sh migrate` refuses a database whose migration history names a version
that supabase/migrations does not have, tells the developer to run `make db-reset`, and exits
78 before pushing anything. A database whose versions all exist locally migrates as before (and
an empty one, with no history yet, is how every test run builds its template)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "scripts" / "stack.sh"
OLD_VERSION = "20261125210000"  # the first migration folded into the baseline


def migrate(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STACK), "migrate", url], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def versions(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "select version from supabase_migrations.schema_migrations order by version")]


def test_a_database_built_from_the_old_migrations_is_refused(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("insert into supabase_migrations.schema_migrations (version, name) "
                     "values (%s, 'foundation')", (OLD_VERSION,))
        conn.execute("create table public.pushed_marker ()")
    result = migrate(fresh_db_url)
    assert result.returncode == 78, result.stderr
    assert OLD_VERSION in result.stderr
    assert "built from the migrations before the 0.1.0 baseline" in result.stderr
    assert "make db-reset" in result.stderr
    # stopped before the compat layer, the push and the seed: nothing was touched
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("select to_regclass('public.pushed_marker') is not null"
                            ).fetchone() == (True,)
    assert versions(fresh_db_url)[0] == OLD_VERSION


@pytest.mark.slow
def test_a_database_whose_versions_all_exist_locally_migrates(fresh_db_url: str) -> None:
    files = (ROOT / "supabase" / "migrations").glob("*.sql")
    local = sorted(p.name.split("_", 1)[0] for p in files)
    assert versions(fresh_db_url) == local
    result = migrate(fresh_db_url)
    assert result.returncode == 0, result.stderr
    assert versions(fresh_db_url) == local

