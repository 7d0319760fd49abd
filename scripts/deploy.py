"""`make deploy`: bring a hosted Supabase project's database to this checkout's migrations.

    .venv/bin/python scripts/deploy.py --db-url URL [--supabase-url URL] [--dry-run]

1. Checks what Wayfare needs from the project (read-only): Postgres 15+, Supabase's roles
   (anon, authenticated, service_role, authenticator and the owner role supabase_auth_admin,
   so scripts/supabase_compat.sql is never needed), auth.users and auth.uid(), pg_cron
   available and preloaded for this database, the JWT secret (SUPABASE_JWT_SECRET, not the
   local one) or the project's JWKS reachable, and which migrations are pending (a version
   the project has that this checkout lacks stops the deploy).
2. Runs the pinned Supabase CLI (node_modules/.bin/supabase, package.json) `db push`: the
   migrations only; supabase/seed.sql (development data) is never pushed.
3. Verifies the result: every migration recorded, RLS on and the policies of sql/policies/
   present, the API roles' and Wayfare roles' grants, the pg_cron schedules, and the
   pre-request setting on the authenticator role.
4. Prints what to set where (each process's variables, the Stripe endpoint, operators).

`--dry-run` only connects and reads: it prints the checks and the plan and changes nothing.
Exit status: 0 done (or a clean plan), 1 a check or the verification failed, 2 usage.
The URL is never printed with its password.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ROOT / "supabase" / "migrations"
POLICIES = ROOT / "sql" / "policies"
SUPABASE = ROOT / "node_modules" / ".bin" / "supabase"
SUPABASE_VERSION = "2.117.0"  # package.json pins it
SUPABASE_ROLES = ("anon", "authenticated", "service_role", "authenticator")
OWNER_ROLE = "supabase_auth_admin"  # present on every Supabase project; absent on plain Postgres
WAYFARE_ROLES = ("wayfare_worker", "wayfare_web")
PRE_REQUEST = "pgrst.db_pre_request=private.check_request"
# Supabase's local stack signs with this public value: a project must never use it
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"  # noqa: S105
STRIPE_EVENTS = ("payment_intent.processing", "payment_intent.succeeded",
                 "payment_intent.payment_failed", "payment_intent.canceled", "charge.refunded")


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failures: int = 0

    def ok(self, what: str) -> None:
        self.lines.append(f"  ok    {what}")

    def fail(self, what: str, fix: str = "") -> None:
        self.failures += 1
        self.lines.append(f"  FAIL  {what}" + (f"\n        fix: {fix}" if fix else ""))

    def note(self, what: str) -> None:
        self.lines.append(f"  note  {what}")

    def flush(self) -> None:
        for line in self.lines:
            print(line)
        self.lines.clear()


def local_versions() -> list[str]:
    return sorted(p.name.split("_", 1)[0] for p in MIGRATIONS.glob("*.sql"))


def expected_schedules() -> list[str]:
    text = "\n".join(p.read_text() for p in sorted(MIGRATIONS.glob("*.sql")))
    return sorted(set(re.findall(r"private\.schedule\(\s*'([^']+)'", text)))


def expected_policies() -> dict[str, list[str]]:
    """table -> the policy names its sql/policies file creates."""
    return {p.stem: re.findall(r'create policy "([^"]+)"', p.read_text())
            for p in sorted(POLICIES.glob("*.sql"))}


def scalar(conn: psycopg.Connection, query: str, *params: object) -> object:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


# ---------------------------------------------------------------------------- checks
def check_project(conn: psycopg.Connection, report: Report) -> list[str]:
    """The read-only checks; returns the pending migration versions."""
    version = int(str(scalar(conn, "show server_version_num")))
    if version >= 150000:
        report.ok(f"Postgres {version // 10000}")
    else:
        report.fail(f"Postgres {version // 10000}: Wayfare needs 15 or later")
    roles = {r[0] for r in conn.execute("select rolname from pg_roles").fetchall()}
    missing = [r for r in (*SUPABASE_ROLES, OWNER_ROLE) if r not in roles]
    if missing:
        report.fail("Supabase roles missing: " + ", ".join(missing),
                    "this is not a Supabase project; for plain Postgres use `make db`")
    else:
        report.ok("Supabase roles present (" + ", ".join((*SUPABASE_ROLES, OWNER_ROLE)) + ")")
    if scalar(conn, "select to_regclass('auth.users') is not null "
                    "and to_regprocedure('auth.uid()') is not null"):
        report.ok("auth.users and auth.uid() present")
    else:
        report.fail("auth.users or auth.uid() missing", "a Supabase project has both")
    cron_db = scalar(conn, "select current_setting('cron.database_name', true)")
    available = scalar(conn, "select count(*) from pg_available_extensions "
                             "where name = 'pg_cron'")
    database = scalar(conn, "select current_database()")
    if not available or cron_db is None:
        report.fail("pg_cron is not available or not preloaded",
                    "Dashboard > Database > Extensions: enable pg_cron")
    elif cron_db != database:
        report.fail(f"pg_cron serves database {cron_db}, not {database}",
                    "deploy into the database pg_cron serves (postgres on Supabase)")
    else:
        installed = scalar(conn, "select extversion from pg_extension where extname = 'pg_cron'")
        report.ok(f"pg_cron preloaded for {database} "
                  + (f"(installed, {installed})" if installed else
                     "(the migrations create the extension)"))
    if scalar(conn, "select count(*) from pg_available_extensions "
                    "where name = 'pg_stat_statements'"):
        report.ok("pg_stat_statements available (query times per RPC on /ops)")
    else:
        report.note("pg_stat_statements is not available: /ops shows no query times per RPC")
    applied = set()
    if scalar(conn, "select to_regclass('supabase_migrations.schema_migrations') is not null"):
        applied = {r[0] for r in conn.execute(
            "select version from supabase_migrations.schema_migrations").fetchall()}
    local = local_versions()
    unknown = sorted(applied - set(local))
    if unknown:
        report.fail("the project has migrations this checkout lacks: " + ", ".join(unknown),
                    "deploy from the checkout that made them (git pull)")
    pending = [v for v in local if v not in applied]
    report.ok(f"{len(applied & set(local))} migrations applied, {len(pending)} pending")
    return pending


def check_jwt(supabase_url: str | None, report: Report) -> None:
    secret = os.environ.get("SUPABASE_JWT_SECRET") or ""
    jwks_url = os.environ.get("SUPABASE_JWKS_URL") or (
        f"{supabase_url.rstrip('/')}/auth/v1/.well-known/jwks.json" if supabase_url else None)
    jwks_ok = False
    if jwks_url:
        try:
            with urllib.request.urlopen(jwks_url, timeout=10) as response:  # noqa: S310
                keys = json.load(response).get("keys") or []
            jwks_ok = True
            report.ok(f"JWKS reachable at {jwks_url} ({len(keys)} keys)")
        except (OSError, ValueError, urllib.error.URLError) as exc:
            report.note(f"JWKS not reachable at {jwks_url}: {type(exc).__name__}")
    if secret == LOCAL_JWT_SECRET:
        report.fail("SUPABASE_JWT_SECRET is the local stack's public secret",
                    "use the project's (Dashboard > Project Settings > API)")
    elif len(secret) >= 32:
        report.ok("SUPABASE_JWT_SECRET set (HS256 tokens)")
    elif secret:
        report.fail("SUPABASE_JWT_SECRET is shorter than 32 characters")
    elif not jwks_ok:
        report.fail("neither SUPABASE_JWT_SECRET nor the project's JWKS",
                    "export SUPABASE_JWT_SECRET, or pass --supabase-url https://<ref>.supabase.co")


def check_cli(report: Report) -> bool:
    try:
        out = subprocess.run([str(SUPABASE), "--version"], capture_output=True, text=True,
                             timeout=60, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        report.fail(f"the Supabase CLI is missing ({SUPABASE})", "make deps (npm ci)")
        return False
    if out != SUPABASE_VERSION:
        report.fail(f"Supabase CLI {out}, package.json pins {SUPABASE_VERSION}", "make deps")
        return False
    report.ok(f"Supabase CLI {out} (pinned, node_modules/.bin/supabase)")
    return True


# ---------------------------------------------------------------------------- push + verify
def push(db_url: str) -> None:
    # as given: a hosted project wants TLS (the CLI's default); a local one ?sslmode=disable
    result = subprocess.run([str(SUPABASE), "db", "push", "--db-url", db_url, "--include-all",
                             "--yes"], cwd=ROOT, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=900)
    output = (result.stdout + result.stderr).replace(db_url, redact(db_url))
    if result.returncode != 0:
        print(output, file=sys.stderr)
        raise SystemExit("deploy: supabase db push failed (nothing after the failed migration "
                         "was applied; fix and run make deploy again)")
    applied = [line.strip() for line in output.splitlines() if line.startswith("Applying")]
    print(f"  pushed {len(applied)} migrations")


def verify(conn: psycopg.Connection, db_url: str, report: Report) -> None:
    applied = {r[0] for r in conn.execute(
        "select version from supabase_migrations.schema_migrations").fetchall()}
    missing = [v for v in local_versions() if v not in applied]
    if missing:
        report.fail("migrations not recorded: " + ", ".join(missing))
    else:
        report.ok(f"all {len(applied)} migrations recorded")
    no_rls = [r[0] for r in conn.execute(
        "select c.relname from pg_class c where c.relnamespace = 'public'::regnamespace "
        "and c.relkind = 'r' and not c.relrowsecurity").fetchall()]
    if no_rls:
        report.fail("tables without RLS: " + ", ".join(no_rls))
    have = {(r[0], r[1]) for r in conn.execute(
        "select tablename, policyname from pg_policies where schemaname = 'public'").fetchall()}
    want = [(t, p) for t, names in expected_policies().items() for p in names]
    absent = [f"{t}: {p}" for t, p in want if (t, p) not in have]
    if absent:
        report.fail("policies missing: " + "; ".join(absent))
    elif not no_rls:
        report.ok(f"RLS on every public table; {len(want)} policies as in sql/policies/")
    rpcs = [r[0] for r in conn.execute(
        "select p.oid::regprocedure::text from pg_proc p "
        "where p.pronamespace = 'public'::regnamespace and p.prokind = 'f'").fetchall()]
    not_granted = [f for f in rpcs if not scalar(
        conn, "select has_function_privilege('authenticated', %s, 'execute')", f)]
    private_open = scalar(conn, "select count(*) from pg_class c where c.relnamespace = "
                                "'private'::regnamespace and c.relkind in ('r', 'v') and ("
                                "has_table_privilege('anon', c.oid, 'select') or "
                                "has_table_privilege('authenticated', c.oid, 'select'))")
    roles = {r[0] for r in conn.execute("select rolname from pg_roles").fetchall()}
    if not_granted:
        report.fail("RPCs authenticated cannot execute: " + ", ".join(not_granted))
    if private_open:
        report.fail(f"{private_open} private tables readable by anon or authenticated")
    if [r for r in WAYFARE_ROLES if r not in roles]:
        report.fail("Wayfare's roles missing: " + ", ".join(r for r in WAYFARE_ROLES
                                                             if r not in roles))
    if not not_granted and not private_open and all(r in roles for r in WAYFARE_ROLES):
        report.ok(f"grants: {len(rpcs)} RPCs for authenticated, no private table for the API "
                  "roles, roles " + ", ".join(WAYFARE_ROLES))
    try:  # the security advisor of `make lint` (scripts/advisor.sql), on the project itself
        sys.path.insert(0, str(ROOT / "scripts"))
        from advisor import findings  # type: ignore[import-not-found]

        found = findings(db_url)
    except (ImportError, psycopg.Error) as exc:
        report.note(f"the security advisor did not run: {type(exc).__name__}")
    else:
        if found:
            report.fail("security advisor: " + "; ".join(
                f"{f['lint']} {f['object']}" for f in found[:10]))
        else:
            report.ok("security advisor: no findings")
    setting = scalar(conn, "select array_to_string(setconfig, ',') from pg_db_role_setting "
                           "where setrole = 'authenticator'::regrole and setdatabase = 0")
    if PRE_REQUEST in str(setting or ""):
        report.ok("pre-request function set on authenticator (private.check_request)")
    else:
        report.fail("pgrst.db_pre_request is not set on authenticator")
    if scalar(conn, "select to_regclass('cron.job') is not null"):
        scheduled = {r[0] for r in conn.execute("select jobname from cron.job").fetchall()}
        lacking = [s for s in expected_schedules() if s not in scheduled]
        if lacking:
            report.fail("pg_cron schedules missing: " + ", ".join(lacking))
        else:
            report.ok(f"{len(expected_schedules())} pg_cron schedules")
    else:
        report.fail("pg_cron is not installed after the push")
    if scalar(conn, "select to_regclass('private.settings') is not null") and scalar(
            conn, "select count(*) from private.settings where key = 'environment' "
                  "and value = 'development'"):
        report.fail("private.settings says environment = development (demo job types open)",
                    "delete from private.settings where key = 'environment'")


def where_to_set(db_url: str, supabase_url: str | None) -> str:
    host = supabase_url or "https://<ref>.supabase.co"
    session_url = redact(db_url)
    return f"""
What to set where (docs/deploy.md has every variable, one table per process):
  worker (python -m worker):      DATABASE_URL={session_url}  (session mode, port 5432)
                                  STRIPE_API_KEY, AI_BASE_URL/AI_API_KEY/AI_MODEL, SMTP_URL,
                                  WAYFARE_ENV=production
  web (python -m webhook):         DATABASE_URL (same), SUPABASE_URL={host},
                                  SUPABASE_JWT_SECRET (or the JWKS), STRIPE_WEBHOOK_SECRET,
                                  METRICS_TOKEN, WAYFARE_ENV=production
  Stripe (Dashboard > Developers > Webhooks): endpoint https://<web service>/webhooks/stripe,
                                  events {", ".join(STRIPE_EVENTS)};
                                  its signing secret -> STRIPE_WEBHOOK_SECRET
  frontend:                       SUPABASE_URL={host}, SUPABASE_ANON_KEY (never service_role)
  an operator (SQL editor):       update auth.users set raw_app_meta_data =
                                  raw_app_meta_data || '{{"role": "admin"}}' where email = '...';
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", default=os.environ.get("SUPABASE_DB_URL"),
                        help="the project's session connection (or SUPABASE_DB_URL)")
    parser.add_argument("--supabase-url", default=os.environ.get("SUPABASE_URL"),
                        help="https://<ref>.supabase.co, for the JWKS check")
    parser.add_argument("--dry-run", action="store_true", help="check and plan; change nothing")
    args = parser.parse_args(argv)
    if not args.db_url:
        parser.error("--db-url (or SUPABASE_DB_URL) is required: the project's session "
                     "connection, Dashboard > Connect")
    print(f"deploy: {redact(args.db_url)}" + (" (dry run: nothing changes)" if args.dry_run
                                               else ""))
    report = Report()
    print("checks:")
    try:
        conn = psycopg.connect(args.db_url, autocommit=True, connect_timeout=15)
    except psycopg.OperationalError as exc:
        print(f"  FAIL  cannot connect: {str(exc).splitlines()[0]}")
        return 1
    with conn:
        conn.execute("set default_transaction_read_only = on")
        pending = check_project(conn, report)
        check_jwt(args.supabase_url, report)
        cli = check_cli(report)
        report.flush()
        print("plan:")
        if pending:
            print(f"  supabase db push (Supabase CLI {SUPABASE_VERSION}) applies "
                  f"{len(pending)} migrations:")
            for version in pending:
                name = next(MIGRATIONS.glob(f"{version}_*.sql")).name
                print(f"    {name}")
        else:
            print("  no pending migrations: supabase db push has nothing to do")
        print("  supabase/seed.sql is NOT pushed (local development data)")
        print("  then verify: migrations, RLS and policies, grants, pg_cron schedules, "
              "pre-request setting")
        if report.failures or not cli:
            print(f"deploy: {report.failures} check(s) failed; nothing was changed")
            return 1
        if args.dry_run:
            print("deploy: dry run clean; run without --dry-run to apply")
            return 0
        conn.execute("set default_transaction_read_only = off")
        print("push:")
        push(args.db_url)
        print("verify:")
        verify(conn, args.db_url, report)
        report.flush()
    print(where_to_set(args.db_url, args.supabase_url))
    if report.failures:
        print(f"deploy: pushed, but {report.failures} verification(s) failed (see above)")
        return 1
    print("deploy: done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
