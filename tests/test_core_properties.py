"""Property-based: arbitrary text, numbers and dates sent to the create RPCs always get a 2xx
or a documented 4xx, never a 500; and unexpected database errors become INTERNAL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.users import User, create_user

DOCUMENTED = {"VALIDATION_FAILED", "NOT_FOUND", "IDEMPOTENCY_KEY_INVALID",
              "IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_KEY_IN_USE"}
# PostgREST itself answers 400 with a PostgreSQL code when a value cannot be cast to the
# argument's type (22007 bad date, 22008 out of range, 22P02 bad uuid, 22P05 NUL in text, ...).
CAST_ERRORS = {"22007", "22008", "22P02", "22P05", "22003", "22023", "22009"}

any_text = st.one_of(st.none(), st.text(max_size=300), st.text(max_size=3).map(lambda s: s * 90))
any_scalar = st.one_of(any_text, st.integers(), st.floats(allow_nan=True), st.booleans())
any_date = st.one_of(st.none(), st.dates().map(str), st.sampled_from(
    ["infinity", "-infinity", "2026-02-30", "0001-01-01", "9999-12-31", "epoch", "today"]),
    any_text)
any_timestamp = st.one_of(any_date, st.datetimes().map(lambda d: d.isoformat() + "Z"))


@pytest.fixture(scope="module")
def prop_api(clones: databases.Clones) -> Iterator[tuple[PostgREST, User]]:
    url = clones.make()
    databases.relax_rate_limits(url)
    user = create_user(url)
    client = PostgREST(databases.url_for(url.rsplit("/", 1)[-1], user="authenticator"))
    yield client, user
    client.close()


def assert_documented(status: int, body: object) -> None:
    assert status < 500, body
    if 200 <= status < 300:
        return
    assert isinstance(body, dict)
    if body["code"] in DOCUMENTED:
        assert json.loads(body["details"])["requestId"]
    elif body["code"] == "PGRST102":  # NaN/Infinity in the body: not JSON
        assert status == 400
    else:
        assert status == 400 and body["code"] in CAST_ERRORS, body


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(title=any_scalar, destination=any_scalar, start=any_date, end=any_date,
       temp=st.one_of(st.none(), st.text(max_size=80), st.from_regex(r"temp_[A-Za-z0-9-]{1,70}")),
       key=st.one_of(st.none(), st.text(max_size=300)))
def test_create_trip_never_500(prop_api: tuple[PostgREST, User], title: object,
                               destination: object, start: object, end: object, temp: object,
                               key: object) -> None:
    api, user = prop_api
    args = {"title": title, "destination": destination, "start_date": start, "end_date": end,
            "client_temp_id": temp, "idempotency_key": key}
    response = api.rpc("create_trip", args, token=user.token)
    assert_documented(response.status, response.body)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(trip=st.one_of(st.none(), st.uuids().map(str), any_text), title=any_scalar,
       starts=any_timestamp, ends=any_timestamp, location=any_text, notes=any_text,
       own_trip=st.booleans())
def test_create_activity_never_500(prop_api: tuple[PostgREST, User], trip: object,
                                   title: object, starts: object, ends: object,
                                   location: object, notes: object, own_trip: bool) -> None:
    api, user = prop_api
    if own_trip:
        trip = api.rpc("create_trip", {"title": "base"}, token=user.token).body["id"]
    args = {"trip_id": trip, "title": title, "starts_at": starts, "ends_at": ends,
            "location": location, "notes": notes}
    response = api.rpc("create_activity", args, token=user.token)
    assert_documented(response.status, response.body)


def test_unexpected_errors_become_internal_without_leaking(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("""
            create function public.boom() returns trigger language plpgsql as $$
            begin perform 1 / 0; return new; end $$;
            create trigger boom before insert on public.trips
            for each row execute function public.boom();
        """)
    user = create_user(fresh_db_url)
    api = PostgREST(databases.url_for(fresh_db_url.rsplit("/", 1)[-1], user="authenticator"))
    try:
        response = api.rpc("create_trip", {"title": "x"}, token=user.token,
                           headers={"Idempotency-Key": f"k-{uuid.uuid4()}"})
    finally:
        api.close()
    assert response.status == 500 and response.code == "INTERNAL"
    assert "division" not in json.dumps(response.body)
    details = json.loads(response.body["details"])
    assert details["type"] == "server" and details["retryable"] is True
    assert details["requestId"] == response.header("X-Request-ID")
