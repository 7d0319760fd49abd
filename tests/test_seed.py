"""Seed data out of migrations: the demo hotels and the development environment come from
supabase/seed.sql, which the local stack loads after each push and `supabase db push` never
runs. The migrations insert no hotel, so a hosted project (migrations only) starts with an
empty catalogue and is 'production'."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg

from tests.harness import databases

ROOT = Path(__file__).resolve().parents[1]
PARIS = "985c87ec-1d28-4b09-ac8c-3484ea1965c4"
PORTO_CLOSED = "6c38523d-8145-405d-8711-310a8d448acc"


def hotels(conn: psycopg.Connection) -> dict[str, bool]:
    return {str(r[0]): r[1] for r in conn.execute("select id, active from public.hotels")}


def test_the_local_stack_has_the_demo_hotels_from_the_seed(db: psycopg.Connection) -> None:
    found = hotels(db)
    assert len(found) == 8 and found[PARIS] is True and found[PORTO_CLOSED] is False
    assert db.execute("select private.environment()").fetchone() == ("development",)
    seed = (ROOT / "supabase" / "seed.sql").read_text()
    assert PARIS in seed
    # the seed is the only place that inserts them, or any hotel
    for migration in (ROOT / "supabase" / "migrations").glob("*.sql"):
        text = migration.read_text()
        assert PARIS not in text and "insert into public.hotels" not in text, migration.name


def test_the_migrations_alone_leave_no_hotel_and_production() -> None:
    """What `supabase db push` gives a hosted project: the compat layer stands in for
    Supabase's roles and auth schema, then the migrations, and no seed."""
    name = f"wayfare_noseed_{os.getpid()}"
    databases.drop(name)
    with databases.admin() as conn:
        conn.execute(f'create database "{name}"')
    url = databases.url_for(name)
    try:
        subprocess.run(["psql", url, "-qX", "-v", "ON_ERROR_STOP=1", "-f",
                        str(ROOT / "scripts" / "supabase_compat.sql")],
                       check=True, capture_output=True)
        sep = "&" if "?" in url else "?"
        subprocess.run([str(ROOT / "node_modules" / ".bin" / "supabase"), "db", "push",
                        "--db-url", f"{url}{sep}sslmode=disable", "--include-all", "--yes"],
                       check=True, capture_output=True, cwd=ROOT, stdin=subprocess.DEVNULL)
        with psycopg.connect(url) as conn:
            assert hotels(conn) == {}
            assert conn.execute("select private.environment()").fetchone() == ("production",)
    finally:
        databases.drop(name)
