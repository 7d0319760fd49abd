"""The security advisor (scripts/advisor.sql, run by `make lint`): the migrated schema has no
finding, and one planted violation of each of Supabase's database advisor lints is caught
(and its compliant twin is not)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

ROOT = Path(__file__).resolve().parents[1]

# (lint, object the finding names, SQL that plants it); each runs in the scratch database
PLANTED = [
    ("rls_disabled_in_public", "public.adv_open",
     "create table public.adv_open (id int primary key)"),
    ("policy_exists_rls_disabled", "private.adv_policy_off",
     "create table private.adv_policy_off (id int primary key);"
     " create policy \"everyone\" on private.adv_policy_off for select using (true)"),
    ("security_definer_view", "public.adv_definer_view",
     "create view public.adv_definer_view as select h.name from public.hotels as h"),
    ("auth_users_exposed", "public.adv_users",
     "create view public.adv_users with (security_invoker = true) as"
     " select u.id, u.email from auth.users as u;"
     " grant select on public.adv_users to authenticated"),
    ("sensitive_columns_exposed", "public.adv_keys.api_key",
     "create table public.adv_keys (id int primary key, api_key text);"
     " grant select on public.adv_keys to anon"),
    ("rls_references_user_metadata", "public.adv_meta policy \"by metadata\"",
     "create table public.adv_meta (id int primary key);"
     " alter table public.adv_meta enable row level security;"
     " create policy \"by metadata\" on public.adv_meta for select to authenticated"
     " using (((select auth.jwt()) -> 'user_metadata' ->> 'role') = 'admin')"),
    ("function_search_path_mutable", "public.adv_no_path()",
     "create function public.adv_no_path() returns int language sql as 'select 1'"),
    ("anon_security_definer_function_executable", "private.adv_definer()",
     "create function private.adv_definer() returns int language sql security definer"
     " set search_path = '' as 'select 1';"
     " grant execute on function private.adv_definer() to anon"),
    ("authenticated_security_definer_function_executable", "public.adv_public_definer()",
     "create function public.adv_public_definer() returns int language sql security definer"
     " set search_path = '' as 'select 1';"
     " grant execute on function public.adv_public_definer() to authenticated"),
    ("auth_rls_initplan", "public.adv_rows policy \"own rows\"",
     "create table public.adv_rows (id int primary key, user_id uuid);"
     " alter table public.adv_rows enable row level security;"
     " create policy \"own rows\" on public.adv_rows for select to authenticated"
     " using (user_id = auth.uid())"),
    ("unindexed_foreign_keys", "private.adv_child adv_child_parent_id_fkey",
     "create table private.adv_parent (id int primary key);"
     " create table private.adv_child (id int primary key,"
     " parent_id int references private.adv_parent (id))"),
    ("duplicate_index", "private.adv_dup_a = private.adv_dup_b",
     "create table private.adv_dups (id int primary key, a int);"
     " create index adv_dup_a on private.adv_dups (a);"
     " create index adv_dup_b on private.adv_dups (a)"),
    ("multiple_permissive_policies", "public.adv_multi authenticated SELECT",
     "create table public.adv_multi (id int primary key);"
     " alter table public.adv_multi enable row level security;"
     " create policy \"one\" on public.adv_multi for select to authenticated using (true);"
     " create policy \"two\" on public.adv_multi for all to authenticated using (true)"),
    ("reg_type_column_blocks_pg_upgrade", "private.adv_reg.fn",
     "create table private.adv_reg (id int primary key, fn regprocedure)"),
]

# compliant twins of the planted violations: none of these may be reported
COMPLIANT = [
    "create table public.adv_ok (id int primary key, user_id uuid, api_key text);"
    " alter table public.adv_ok enable row level security;"
    " create policy \"own rows ok\" on public.adv_ok for select to authenticated"
    " using (user_id = (select auth.uid()))",
    "create view public.adv_ok_view with (security_invoker = true) as"
    " select h.name from public.hotels as h",
    "create function public.adv_ok_fn() returns int language sql set search_path = ''"
    " as 'select 1'",
    "create table private.adv_ok_parent (id int primary key);"
    " create table private.adv_ok_child (id int primary key, parent_id int"
    " references private.adv_ok_parent (id), other int);"
    " create index adv_ok_child_idx on private.adv_ok_child (parent_id, other);"
    " create index adv_ok_other_idx on private.adv_ok_child (other, parent_id)",
    "create table private.adv_ok_text (id int primary key, fn text)",
]


def advise(url: str) -> list[dict[str, str]]:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "advisor.py"), "--json", url],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 1), done.stderr
    found = json.loads(done.stdout)
    assert (done.returncode == 1) == bool(found)
    return found


def test_the_schema_has_no_findings(fresh_db_url: str) -> None:
    assert advise(fresh_db_url) == []


@pytest.mark.parametrize("planted", COMPLIANT)
def test_compliant_objects_are_not_reported(fresh_db_url: str, planted: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(planted)
    assert advise(fresh_db_url) == []


def test_each_planted_violation_is_caught(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        for _lint, _name, sql in PLANTED:
            conn.execute(sql)
    found = {(f["lint"], f["object"]) for f in advise(fresh_db_url)}
    missed = [(lint, name) for lint, name, _ in PLANTED if (lint, name) not in found]
    assert missed == [], sorted(found)
    lints = {lint for lint, _ in found}
    assert lints == {lint for lint, _, _ in PLANTED}


def test_make_lint_runs_the_advisor() -> None:
    lint = (ROOT / "scripts" / "lint.sh").read_text()
    assert "scripts/advisor.py" in lint and "scripts/advisor.sql" in lint
