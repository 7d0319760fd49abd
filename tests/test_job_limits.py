"""No user can starve the worker (issue 10 #1, SQL side; docs/jobs.md): demo job types are
development-only for users, and unfinished jobs per user are capped (private.job_caps, 429
RATE_LIMITED with Retry-After); booking and payment jobs are neither counted nor capped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.tokens import service_role_token
from tests.harness.users import User, create_user
from tests.test_core_api import assert_error
from tests.webhook_helpers import PARIS_HOTEL


def start(api: PostgREST, user: User, job_type: str = "demo.noop",
          job_input: dict | None = None) -> object:
    return api.rpc("start_job", {"job_type": job_type, "input": job_input or {}},
                   token=user.token)


def research(api: PostgREST, user: User, n: int) -> object:
    return api.rpc("start_research", {"query": f"Lisbon {n}"}, token=user.token)


# ------------------------------------------------------------------ development-only demo types
@pytest.fixture
def production(fresh_db_url: str) -> Iterator[tuple[str, PostgREST]]:
    """A database without the development marker (as every hosted project)."""
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("delete from private.settings where key = 'environment'")
    client = PostgREST(databases.url_for(fresh_db_url.rsplit("/", 1)[-1], user="authenticator"))
    yield fresh_db_url, client
    client.close()


@pytest.mark.parametrize("job_type", ["demo.noop", "demo.steps", "demo.fail"])
def test_users_cannot_start_demo_types_in_production(production: tuple[str, PostgREST],
                                                     job_type: str) -> None:
    url, api = production
    user = create_user(url)
    job_input = {"steps": 1} if job_type == "demo.steps" else {}
    details = assert_error(start(api, user, job_type, job_input), 403, "FORBIDDEN", "job_type")
    assert details["retryable"] is False
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from public.jobs").fetchone()[0] == 0
    # research is no demo
    assert research(api, user, 1).status == 202


def test_service_role_starts_demo_types_in_production(production: tuple[str, PostgREST]) -> None:
    url, api = production
    response = api.rpc("start_job", {"job_type": "demo.steps", "input": {"steps": 2}},
                       token=service_role_token())
    assert response.status == 202, response.body
    with psycopg.connect(url) as conn:
        row = conn.execute("select type, user_id from public.jobs where id = %s",
                           (response.body["jobId"],)).fetchone()
    assert row == ("demo.steps", None)
    not_startable = api.rpc("start_job", {"job_type": "payment.refund", "input": {}},
                            token=service_role_token())
    assert_error(not_startable, 400, "VALIDATION_FAILED", "job_type")


def test_users_start_demo_types_in_development(production: tuple[str, PostgREST]) -> None:
    url, api = production
    with psycopg.connect(url, autocommit=True) as conn:  # what supabase/seed.sql writes
        conn.execute("insert into private.settings (key, value) values ('environment', "
                     "'development')")
    assert start(api, create_user(url)).status == 202


# ------------------------------------------------------------------ caps
def test_ai_research_is_capped_at_three_unfinished(api: PostgREST, alice: User,
                                                   db: psycopg.Connection) -> None:
    jobs = [research(api, alice, n) for n in range(3)]
    assert [r.status for r in jobs] == [202, 202, 202]
    over = research(api, alice, 3)
    details = assert_error(over, 429, "RATE_LIMITED")
    assert details["retryable"] is True and int(over.header("Retry-After")) >= 1
    # nothing was stored, and other types still have room under the overall cap
    assert db.execute("select count(*) from public.jobs where user_id = %s",
                      (alice.id,)).fetchone()[0] == 3
    assert start(api, alice).status == 202
    # a finished job frees its place
    api.rpc("cancel_job", {"job_id": jobs[0].body["jobId"]}, token=alice.token)
    assert research(api, alice, 4).status == 202


def test_all_types_together_are_capped_at_five(api: PostgREST, alice: User, bob: User) -> None:
    assert [start(api, alice).status for _ in range(5)] == [202] * 5
    assert_error(start(api, alice), 429, "RATE_LIMITED")
    assert_error(research(api, alice, 1), 429, "RATE_LIMITED")
    assert start(api, bob).status == 202  # per user


def test_operators_change_the_caps(fresh_db_url: str) -> None:
    user = create_user(fresh_db_url)
    client = PostgREST(databases.url_for(fresh_db_url.rsplit("/", 1)[-1], user="authenticator"))
    try:
        with psycopg.connect(fresh_db_url, autocommit=True) as conn:
            conn.execute("update private.job_caps set max_unfinished = 1 where job_type = '*'")
        assert start(client, user).status == 202
        assert_error(start(client, user), 429, "RATE_LIMITED")
    finally:
        client.close()


def test_bookings_are_neither_counted_nor_blocked(api: PostgREST, alice: User,
                                                  db: psycopg.Connection) -> None:
    today: dt.date = db.execute("select current_date").fetchone()[0]
    assert [start(api, alice).status for _ in range(5)] == [202] * 5
    booking = api.rpc("create_booking", {
        "hotel_id": PARIS_HOTEL, "check_in": (today + dt.timedelta(days=9)).isoformat(),
        "check_out": (today + dt.timedelta(days=11)).isoformat()}, token=alice.token)
    assert booking.status == 201, booking.body
    cancelled = api.rpc("cancel_booking", {"booking_id": booking.body["id"]}, token=alice.token)
    assert cancelled.status == 202, cancelled.body
    # the booking's two payment jobs take no place of alice's five
    for job in api.select("jobs", token=alice.token).body:
        if job["type"].startswith("demo."):
            api.rpc("cancel_job", {"job_id": job["id"]}, token=alice.token)
            break
    assert start(api, alice).status == 202
    assert_error(start(api, alice), 429, "RATE_LIMITED")
