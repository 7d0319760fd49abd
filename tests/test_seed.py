"""Seed data out of migrations (issue 13): the demo hotels come from supabase/seed.sql, which
the local stack loads after each push and `supabase db push` never runs; the migration
20261201104000_demo_hotels_out.sql removes them from a database that is not development
(deactivates the ones with bookings, which cannot be deleted) and leaves development alone."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg

from tests.harness.users import create_user
from tests.webhook_helpers import insert_booking

ROOT = Path(__file__).resolve().parents[1]
MIGRATION = ROOT / "supabase" / "migrations" / "20261201104000_demo_hotels_out.sql"
PARIS = "985c87ec-1d28-4b09-ac8c-3484ea1965c4"
PORTO_CLOSED = "6c38523d-8145-405d-8711-310a8d448acc"


def hotels(conn: psycopg.Connection) -> dict[str, bool]:
    return {str(r[0]): r[1] for r in conn.execute("select id, active from public.hotels")}


def apply_migration(url: str) -> None:
    subprocess.run(["psql", url, "-qX", "-v", "ON_ERROR_STOP=1", "-f", str(MIGRATION)],
                   check=True, capture_output=True)


def test_the_local_stack_has_the_demo_hotels_from_the_seed(db: psycopg.Connection) -> None:
    found = hotels(db)
    assert len(found) == 8 and found[PARIS] is True and found[PORTO_CLOSED] is False
    assert db.execute("select private.environment()").fetchone() == ("development",)
    seed = (ROOT / "supabase" / "seed.sql").read_text()
    assert PARIS in seed
    # the seed is the only place that inserts them now (the old migration stays as landed)
    migrations = [p for p in (ROOT / "supabase" / "migrations").glob("*.sql")
                  if PARIS in p.read_text()]
    assert sorted(p.name for p in migrations) == ["20261125230000_payments.sql",
                                                  MIGRATION.name]


def test_outside_development_unbooked_demo_hotels_go_booked_ones_close(
        fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        user = create_user(fresh_db_url)
        booking = insert_booking(conn, user.id, hotel_id=PARIS)
        conn.execute("insert into public.hotels (name, city, nightly_rate_cents, currency) "
                     "values ('A real one', 'Faro', 10000, 'EUR')")
        # development: the migration changes nothing
        apply_migration(fresh_db_url)
        assert len(hotels(conn)) == 9
        # production (no environment row, as on a hosted project)
        conn.execute("delete from private.settings where key = 'environment'")
        apply_migration(fresh_db_url)
        left = hotels(conn)
        assert left.pop(PARIS) is False  # booked: kept for its booking, nobody books it again
        assert list(left.values()) == [True] and len(left) == 1  # only the real hotel
        assert conn.execute("select hotel_id::text from public.bookings where id = %s",
                            (booking.id,)).fetchone() == (PARIS,)
        apply_migration(fresh_db_url)  # idempotent
        assert len(hotels(conn)) == 2
