"""Migrations: policy files and migrations never drift, and `supabase db push` into an empty
database (with only the compat layer) gives the same policies, tables and grants as `make db`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.harness import databases

ROOT = Path(__file__).resolve().parents[1]

SNAPSHOT_QUERIES = {
    "policies": """
        select schemaname, tablename, policyname, permissive, roles::text, cmd, qual, with_check
        from pg_policies where schemaname in ('public', 'private') order by 1, 2, 3""",
    "columns": """
        select table_schema, table_name, column_name, data_type, is_nullable, column_default
        from information_schema.columns where table_schema in ('public', 'private')
        order by 1, 2, 3""",
    "table_grants": """
        select grantee, table_schema, table_name, privilege_type
        from information_schema.role_table_grants
        where table_schema in ('public', 'private') order by 1, 2, 3, 4""",
    "column_grants": """
        select grantee, table_schema, table_name, column_name, privilege_type
        from information_schema.column_privileges
        where table_schema in ('public', 'private') order by 1, 2, 3, 4, 5""",
    "function_grants": """
        select n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
               coalesce(p.proacl::text, ''), p.prosecdef
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('public', 'private') order by 1, 2, 3""",
    "rls": """
        select n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('public', 'private') and c.relkind in ('r', 'p') order by 1, 2""",
}


def snapshot(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {k: conn.execute(q).fetchall() for k, q in SNAPSHOT_QUERIES.items()}


def test_policy_files_and_migrations_are_in_step() -> None:
    result = subprocess.run([sys.executable, "scripts/policies.py", "check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_policy_check_fails_on_drift(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    for part in ("scripts", "sql", "supabase/migrations"):
        shutil.copytree(ROOT / part, copy / part)
    policy = copy / "sql" / "policies" / "trips.sql"
    policy.write_text(policy.read_text() + "\n-- an unreviewed change\n")
    result = subprocess.run([sys.executable, str(copy / "scripts" / "policies.py"), "check"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "trips.sql differs" in result.stderr
    subprocess.run([sys.executable, str(copy / "scripts" / "policies.py"), "sync"], check=True,
                   capture_output=True)
    result = subprocess.run([sys.executable, str(copy / "scripts" / "policies.py"), "check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_db_push_into_empty_database_matches_make_db(template_db: str) -> None:
    """The template was made by compat + `supabase db push`; the server's main database by
    `make db` (run before the tests). They must agree on policies, tables and grants."""
    main = snapshot(databases.server_url())
    pushed = snapshot(template_db)
    for key in SNAPSHOT_QUERIES:
        assert pushed[key] == main[key], f"{key} differ"
    assert pushed["policies"], "no policies at all"


def test_migrations_are_recorded_by_the_cli(template_db: str) -> None:
    files = sorted(p.name.split("_", 1)[0] for p in (ROOT / "supabase/migrations").glob("*.sql"))
    with psycopg.connect(template_db) as conn:
        versions = [r[0] for r in conn.execute(
            "select version from supabase_migrations.schema_migrations order by 1")]
    assert versions == files


def test_compat_script_is_idempotent(fresh_db_url: str) -> None:
    before = snapshot(fresh_db_url)
    for _ in range(2):
        subprocess.run(["psql", fresh_db_url, "-q", "-v", "ON_ERROR_STOP=1", "-f",
                        str(ROOT / "scripts/supabase_compat.sql")], check=True,
                       capture_output=True)
    assert snapshot(fresh_db_url) == before


def test_compat_script_leaves_a_real_supabase_alone(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("create role supabase_auth_admin nologin")
        conn.execute("create or replace function auth.uid() returns uuid language sql "
                     "as $$ select '00000000-0000-0000-0000-000000000001'::uuid $$")
        try:
            subprocess.run(["psql", fresh_db_url, "-q", "-v", "ON_ERROR_STOP=1", "-f",
                            str(ROOT / "scripts/supabase_compat.sql")],
                           check=True, capture_output=True)
            uid = conn.execute("select auth.uid()").fetchone()[0]
        finally:
            conn.execute("drop role supabase_auth_admin")
    assert str(uid) == "00000000-0000-0000-0000-000000000001"
