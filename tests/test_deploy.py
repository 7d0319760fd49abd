"""`make deploy` (issue 13) against a second local cluster made to look like a hosted Supabase
project: Supabase's roles (the owner role supabase_auth_admin included, so the compat layer
stays out), the auth schema with auth.users, pg_cron preloaded. A dry run prints a clean plan
and changes nothing; the deploy brings it to the same schema as `make db` (here: the test
template, made by scripts/stack.sh migrate) without the development seed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.cluster_helpers import Cluster, need_cluster_tools, postgres_home
from tests.harness import databases
from tests.harness.http import QuietHandler, Served

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

ROOT = Path(__file__).resolve().parents[1]
SECRET = "a-hosted-projects-own-jwt-secret-0123456789abcdef"
MIGRATIONS = sorted((ROOT / "supabase" / "migrations").glob("*.sql"))

FINGERPRINT = """
select 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text
       || ' rls=' || c.relrowsecurity || ' acl=' || coalesce(c.relacl::text, '')
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname in ('public', 'private') and c.relkind in ('r', 'v', 'm', 'S', 'p')
union all
select 'col ' || n.nspname || '.' || c.relname || '.' || a.attname || ' '
       || format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull
       || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
from pg_attribute a join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where n.nspname in ('public', 'private') and c.relkind in ('r', 'v', 'p') and a.attnum > 0
  and not a.attisdropped
union all
select 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' definer=' || p.prosecdef
       || ' acl=' || coalesce(p.proacl::text, '') || ' cfg=' || coalesce(p.proconfig::text, '')
from pg_proc p where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
union all
select 'policy ' || schemaname || '.' || tablename || ' ' || policyname || ' ' || cmd::text || ' '
       || coalesce(qual, '') || ' ' || coalesce(with_check, '')
from pg_policies where schemaname in ('public', 'private')
union all
select 'trigger ' || tgrelid::regclass::text || ' ' || tgname from pg_trigger
where not tgisinternal and tgrelid::regclass::text !~ '^(auth|cron)\\.'
union all
select 'migration ' || version from supabase_migrations.schema_migrations
order by 1
"""


def make_hosted_like(cluster: Cluster) -> None:
    """What a hosted project has before Wayfare: Supabase's roles and auth schema (the compat
    layer's copy of them, applied as a stand-in for the platform), then its owner roles, after
    which the compat layer does nothing."""
    subprocess.run(["psql", cluster.url(), "-qX", "-v", "ON_ERROR_STOP=1", "-f",
                    str(ROOT / "scripts" / "supabase_compat.sql")], check=True,
                   capture_output=True)
    cluster.execute("create role supabase_auth_admin noinherit createrole login; "
                    "create role supabase_admin superuser; "
                    "alter schema auth owner to supabase_auth_admin")


@pytest.fixture(scope="module")
def hosted() -> Iterator[Cluster]:
    need_cluster_tools()
    home = postgres_home("wayfare-hosted-")
    cluster = Cluster(home, preload="pg_cron").start()
    try:
        make_hosted_like(cluster)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


def deploy(*args: str, secret: str | None = SECRET,
           supabase_url: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SUPABASE_JWT_SECRET", "SUPABASE_URL", "SUPABASE_JWKS_URL",
                        "SUPABASE_DB_URL")}
    if secret is not None:
        env["SUPABASE_JWT_SECRET"] = secret
    if supabase_url is not None:
        env["SUPABASE_URL"] = supabase_url
    return subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "scripts/deploy.py", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def fingerprint(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(FINGERPRINT).fetchall()]


def schemas(cluster: Cluster, database: str = "postgres") -> set[str]:
    return {r[0] for r in cluster.execute("select nspname from pg_namespace", database)}


def test_dry_run_prints_a_clean_plan_and_changes_nothing(hosted: Cluster) -> None:
    out = deploy("--db-url", hosted.url(), "--dry-run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAIL" not in out.stdout
    assert "ok    Supabase roles present" in out.stdout
    assert "ok    pg_cron preloaded for postgres (the migrations create the extension)" \
        in out.stdout
    assert f"0 migrations applied, {len(MIGRATIONS)} pending" in out.stdout
    for migration in MIGRATIONS:
        assert f"    {migration.name}\n" in out.stdout
    assert "seed.sql is NOT pushed" in out.stdout
    assert "dry run clean" in out.stdout
    assert "supabase_migrations" not in schemas(hosted) and "private" not in schemas(hosted)
    assert hosted.execute("select count(*) from pg_extension where extname = 'pg_cron'") == [(0,)]


def test_checks_fail_without_a_jwt_secret_or_jwks_and_pass_with_the_jwks(
        hosted: Cluster) -> None:
    out = deploy("--db-url", hosted.url(), "--dry-run", secret=None,
                 supabase_url="http://127.0.0.1:9")
    assert out.returncode == 1
    assert "FAIL  neither SUPABASE_JWT_SECRET nor the project's JWKS" in out.stdout
    assert "nothing was changed" in out.stdout
    local = deploy("--db-url", hosted.url(), "--dry-run",
                   secret="super-secret-jwt-token-with-at-least-32-characters-long")
    assert local.returncode == 1 and "the local stack's public secret" in local.stdout

    class Jwks(QuietHandler):
        def do_GET(self) -> None:
            self.send_json({"keys": [{"kty": "EC", "kid": "k1"}]},
                           200 if self.path == "/auth/v1/.well-known/jwks.json" else 404)

    with Served(Jwks) as server:
        base = server.url
        ok = deploy("--db-url", hosted.url(), "--dry-run", secret=None, supabase_url=base)
    assert ok.returncode == 0, ok.stdout
    assert f"ok    JWKS reachable at {base}/auth/v1/.well-known/jwks.json (1 keys)" in ok.stdout


def test_a_plain_postgres_database_is_refused(template_db: str) -> None:
    name = f"wayfare_plain_{os.getpid()}"
    with databases.admin() as conn:
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')
    try:
        out = deploy("--db-url", databases.url_for(name))
        assert out.returncode == 1
        assert "FAIL  Supabase roles missing: supabase_auth_admin" in out.stdout
        assert "FAIL  auth.users or auth.uid() missing" in out.stdout
        with psycopg.connect(databases.url_for(name)) as conn:
            assert conn.execute("select to_regnamespace('supabase_migrations')").fetchone() \
                == (None,)
    finally:
        with databases.admin() as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def test_deploy_brings_the_project_to_the_schema_of_make_db(hosted: Cluster,
                                                           template_db: str) -> None:
    url = hosted.url() + "?sslmode=disable"  # the CLI wants TLS unless told; this one has none
    out = deploy("--db-url", url, "--supabase-url", "https://ref.supabase.co")
    assert out.returncode == 0, out.stdout + out.stderr
    for line in ("ok    all", "ok    RLS on every public table", "ok    grants:",
                 "ok    pre-request function set on authenticator", "pg_cron schedules",
                 "deploy: done", "/webhooks/stripe", "payment_intent.succeeded"):
        assert line in out.stdout, line
    assert "FAIL" not in out.stdout
    # the same schema as make db (the template is made by the same stack.sh migrate)
    assert fingerprint(hosted.url()) == fingerprint(template_db)
    # the compat layer stayed out (its local Auth stand-in tables are not in auth), the seed
    # was not pushed (no development marker), the schedules exist
    assert hosted.execute("select count(*) from private.settings "
                          "where key = 'environment'") == [(0,)]
    assert hosted.execute("select count(*) from public.hotels") == [(0,)]  # demo hotels: seed
    jobs = {r[0] for r in hosted.execute("select jobname from cron.job")}
    assert "wayfare-recover-job-leases" in jobs
    # a second deploy has nothing to do and verifies again
    again = deploy("--db-url", hosted.url(), "--dry-run")
    assert again.returncode == 0 and f"{len(MIGRATIONS)} migrations applied, 0 pending" \
        in again.stdout
    again = deploy("--db-url", url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "pushed 0 migrations" in again.stdout
