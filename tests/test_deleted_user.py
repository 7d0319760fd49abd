"""A well-signed token whose user was deleted is no identity (issue 10 #5,
docs/api.md#conventions): every
RPC and every direct write answers 401 UNAUTHORIZED, not retryable, never 500 INTERNAL."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from tests.harness.postgrest import PostgREST
from tests.harness.users import User
from tests.test_core_api import assert_error
from tests.webhook_helpers import PARIS_HOTEL


@pytest.fixture
def ghost(make_user, db: psycopg.Connection) -> User:
    """A user whose token is still valid but who no longer exists in auth.users."""
    user: User = make_user()
    db.execute("delete from auth.users where id = %s", (user.id,))
    return user


def test_rpcs_answer_401_for_a_deleted_user(api: PostgREST, ghost: User,
                                            db: psycopg.Connection) -> None:
    today: dt.date = db.execute("select current_date").fetchone()[0]
    calls = {
        "create_trip": {"title": "Lisbon"},
        "create_activity": {"trip_id": "00000000-0000-4000-8000-000000000000", "title": "x"},
        "start_research": {"query": "Lisbon in spring"},
        "start_job": {"job_type": "ai.research", "input": {"query": "x"}},
        "cancel_job": {"job_id": "00000000-0000-4000-8000-000000000000"},
        "create_booking": {"hotel_id": PARIS_HOTEL,
                           "check_in": (today + dt.timedelta(days=3)).isoformat(),
                           "check_out": (today + dt.timedelta(days=5)).isoformat()},
        "cancel_booking": {"booking_id": "00000000-0000-4000-8000-000000000000"},
    }
    for name, args in calls.items():
        for headers in ({}, {"Idempotency-Key": f"ghost-{name}"}):
            response = api.rpc(name, args, token=ghost.token, headers=headers)
            details = assert_error(response, 401, "UNAUTHORIZED")
            assert details["retryable"] is False, name


def test_soft_deleted_user_is_no_identity(api: PostgREST, make_user,
                                          db: psycopg.Connection) -> None:
    user: User = make_user()
    db.execute("update auth.users set deleted_at = now() where id = %s", (user.id,))
    assert_error(api.rpc("create_trip", {"title": "x"}, token=user.token), 401, "UNAUTHORIZED")


def test_direct_writes_answer_401_for_a_deleted_user(api: PostgREST, ghost: User) -> None:
    response = api.insert("trips", {"user_id": ghost.id, "title": "Lisbon"}, token=ghost.token)
    assert_error(response, 401, "UNAUTHORIZED")
    response = api.insert("activities", {"user_id": ghost.id, "title": "x",
                                         "trip_id": "00000000-0000-4000-8000-000000000000"},
                          token=ghost.token)
    assert_error(response, 401, "UNAUTHORIZED")


def test_a_user_deleted_after_writing_cannot_write_again(api: PostgREST, make_user,
                                                         db: psycopg.Connection) -> None:
    user: User = make_user()
    assert api.rpc("create_trip", {"title": "Lisbon"}, token=user.token).status == 201
    db.execute("delete from auth.users where id = %s", (user.id,))
    assert_error(api.rpc("create_trip", {"title": "Porto"}, token=user.token), 401,
                 "UNAUTHORIZED")
    assert db.execute("select count(*) from public.trips where user_id = %s",
                      (user.id,)).fetchone()[0] == 0
