"""A call without a required argument answers 400 VALIDATION_FAILED (docs/errors.md) naming the
field (issue 9), never PostgREST's 404 PGRST202; an unknown argument name still is 404."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from tests.harness.postgrest import PostgREST
from tests.harness.users import User
from tests.test_core_api import assert_error
from tests.webhook_helpers import PARIS_HOTEL

SOME_ID = "00000000-0000-4000-8000-000000000000"


def full_calls(today: dt.date) -> dict[str, dict[str, object]]:
    """Every RPC with all of its required arguments."""
    return {
        "create_trip": {"title": "Lisbon"},
        "create_activity": {"trip_id": SOME_ID, "title": "Tram 28"},
        "start_job": {"job_type": "ai.research", "input": {"query": "Lisbon"}},
        "start_research": {"query": "Lisbon"},
        "cancel_job": {"job_id": SOME_ID},
        "create_booking": {"hotel_id": PARIS_HOTEL,
                           "check_in": (today + dt.timedelta(days=5)).isoformat(),
                           "check_out": (today + dt.timedelta(days=7)).isoformat()},
        "cancel_booking": {"booking_id": SOME_ID},
    }


CASES = [(name, field) for name, args in full_calls(dt.date(2030, 1, 1)).items() for field in args]


@pytest.mark.parametrize(("name", "missing"), CASES)
def test_a_missing_argument_is_400_naming_it(api: PostgREST, alice: User,
                                             db: psycopg.Connection, name: str,
                                             missing: str) -> None:
    today: dt.date = db.execute("select current_date").fetchone()[0]
    args = {k: v for k, v in full_calls(today)[name].items() if k != missing}
    response = api.rpc(name, args, token=alice.token)
    details = assert_error(response, 400, "VALIDATION_FAILED", missing)
    assert details["retryable"] is False


@pytest.mark.parametrize("name", sorted(full_calls(dt.date(2030, 1, 1))))
def test_no_arguments_at_all_is_400(api: PostgREST, alice: User, name: str) -> None:
    response = api.rpc(name, {}, token=alice.token)
    first = next(iter(full_calls(dt.date(2030, 1, 1))[name]))
    assert_error(response, 400, "VALIDATION_FAILED", first)


def test_anon_without_arguments_is_still_401(api: PostgREST) -> None:
    assert_error(api.rpc("create_trip", {}), 401, "UNAUTHORIZED")


def test_an_unknown_argument_name_is_still_pgrst202(api: PostgREST, alice: User) -> None:
    response = api.rpc("create_trip", {"title": "Lisbon", "titel": "typo"}, token=alice.token)
    assert (response.status, response.code) == (404, "PGRST202")
