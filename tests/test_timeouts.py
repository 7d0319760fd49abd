"""Timeouts (issue 15, SQL side): an RPC held up past its role's statement_timeout answers 408
TIMEOUT with the envelope, Retry-After and a hint, within the limit plus a second; nothing of
it remains (no row, no idempotency record, no rate-limit hit), and a retry with the same
Idempotency-Key after the hold is released runs once and answers 201."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.users import User, create_user
from tests.test_core_api import assert_error

LIMIT_S = 1.0


@pytest.fixture
def short_limit(fresh_db_url: str) -> Iterator[tuple[str, PostgREST, str]]:
    """A database of its own, its PostgREST, and a role that is `authenticated` with a 1 s
    statement_timeout. PostgREST 12.0.2 applies the settings of the role a token names
    (`alter role ... set`, read when it loads its config) but not per-database ones
    (`alter role ... in database ...`), and roles are cluster-wide: a role of this test's own
    leaves `authenticated` (and every other test) alone."""
    role = f"wayfare_slow_{os.getpid()}"
    with databases.admin() as conn:
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("create role {} nologin in role authenticated").format(
            sql.Identifier(role)))
        conn.execute(sql.SQL("grant {} to authenticator").format(sql.Identifier(role)))
        conn.execute(sql.SQL("alter role {} set statement_timeout = {}").format(
            sql.Identifier(role), sql.Literal(f"{int(LIMIT_S * 1000)}ms")))
    client = PostgREST(databases.url_for(fresh_db_url.rsplit("/", 1)[-1], user="authenticator"))
    try:
        yield fresh_db_url, client, role
    finally:
        client.close()
        with databases.admin() as conn:
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def slow_user(url: str, role: str) -> User:
    user = create_user(url)
    return User(user.id, user.email, user.token_with(role=role))


def leftovers(url: str, user: User) -> tuple[int, int, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "select (select count(*) from public.trips where user_id = %(u)s),"
            " (select count(*) from private.idempotency_keys where user_id = %(u)s),"
            " (select coalesce(sum(units), 0) from private.rate_limit_hits"
            "   where subject = 'user:' || %(u)s)",
            {"u": user.id},
        ).fetchone()


def test_rpc_past_its_limit_is_408_and_a_retry_runs_once(
        short_limit: tuple[str, PostgREST, str]) -> None:
    url, api, role = short_limit
    user = slow_user(url, role)
    args = {"title": "Lisbon", "client_temp_id": "temp_held"}
    key = {"Idempotency-Key": "k-timeout-1"}
    # another transaction holds the row create_trip must wait for (same user, same temp id)
    with psycopg.connect(url) as holder:
        holder.execute("insert into public.trips (user_id, title, client_temp_id) "
                       "values (%s, 'held', 'temp_held')", (user.id,))
        started = time.monotonic()
        response = api.rpc("create_trip", args, token=user.token, headers=key)
        elapsed = time.monotonic() - started
        details = assert_error(response, 408, "TIMEOUT")
        assert details["type"] == "timeout" and details["retryable"] is True
        assert response.header("Retry-After") == "1"
        assert "again" in response.body["hint"]
        assert LIMIT_S <= elapsed < LIMIT_S + 1.0, elapsed
        holder.rollback()
    assert leftovers(url, user) == (0, 0, 0)

    retry = api.rpc("create_trip", args, token=user.token, headers=key)
    assert retry.status == 201, retry.body
    replay = api.rpc("create_trip", args, token=user.token, headers=key)
    assert (replay.status, replay.header("Idempotent-Replayed")) == (201, "true")
    assert replay.body == retry.body
    trips, keys, hits = leftovers(url, user)
    assert (trips, keys) == (1, 1)
    assert hits >= 2  # the two committed requests count: the timed-out one did not


@pytest.mark.slow  # waits for a statement timeout per RPC
def test_every_rpc_answers_408_when_cancelled(short_limit: tuple[str, PostgREST, str]) -> None:
    """cancel_booking waits on the booking's row lock; cancel_job on the job's."""
    url, api, role = short_limit
    user = slow_user(url, role)
    with psycopg.connect(url, autocommit=True) as conn:
        booking = conn.execute(
            "insert into public.bookings (user_id, hotel_id, check_in, check_out, amount, "
            "currency) values (%s, '985c87ec-1d28-4b09-ac8c-3484ea1965c4', current_date + 5, "
            "current_date + 7, 43000, 'EUR') returning id", (user.id,)).fetchone()[0]
    job = api.rpc("start_research", {"query": "Lisbon"}, token=user.token).body["jobId"]
    with psycopg.connect(url) as holder:
        holder.execute("select 1 from public.bookings where id = %s for update", (booking,))
        holder.execute("select 1 from public.jobs where id = %s for update", (job,))
        for name, call in [("cancel_booking", {"booking_id": str(booking)}),
                           ("cancel_job", {"job_id": job})]:
            response = api.rpc(name, call, token=user.token,
                               headers={"Idempotency-Key": f"k-{name}"})
            assert_error(response, 408, "TIMEOUT")
            assert response.header("Retry-After") == "1"
        holder.rollback()
    assert api.rpc("cancel_booking", {"booking_id": str(booking)}, token=user.token,
                   headers={"Idempotency-Key": "k-cancel_booking"}).status == 202


def test_role_limits_are_supabases(db: psycopg.Connection) -> None:
    rows = dict(db.execute(
        "select r.rolname, s.setconfig from pg_db_role_setting as s"
        " join pg_roles as r on r.oid = s.setrole where s.setdatabase = 0"
        " and r.rolname in ('anon', 'authenticated')").fetchall())
    assert "statement_timeout=3s" in rows["anon"]
    assert "statement_timeout=8s" in rows["authenticated"]


def test_plain_table_write_past_its_limit_is_postgrests_own_500(
        short_limit: tuple[str, PostgREST, str]) -> None:
    """No function of ours runs around a plain `POST /trips`, so PostgREST 12.0.2 answers a
    cancelled statement itself (docs/errors.md says so): 500, code 57014, no envelope. The
    transaction still rolls back and nothing remains."""
    url, api, role = short_limit
    user = slow_user(url, role)
    row = {"user_id": user.id, "title": "Lisbon", "client_temp_id": "temp_held"}
    with psycopg.connect(url) as holder:
        holder.execute("insert into public.trips (user_id, title, client_temp_id) "
                       "values (%s, 'held', 'temp_held')", (user.id,))
        started = time.monotonic()
        response = api.insert("trips", row, token=user.token)
        assert time.monotonic() - started < LIMIT_S + 1.0
        holder.rollback()
    assert (response.status, response.code) == (500, "57014")
    assert response.body["message"] == "canceling statement due to statement timeout"
    assert leftovers(url, user) == (0, 0, 0)
