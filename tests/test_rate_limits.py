"""Rate limits (docs/api.md#rate-limits): per user or per client IP, writes only, 429 with
Retry-After, a rejected request consumes nothing, limits live in a table operators can change."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.users import User, create_user


@pytest.fixture
def limited(fresh_db_url: str) -> Iterator[tuple[PostgREST, str]]:
    client = PostgREST(databases.url_for(fresh_db_url.rsplit("/", 1)[-1], user="authenticator"))
    yield client, fresh_db_url
    client.close()


def trips(api: PostgREST, user: User) -> int:
    return len(api.select("trips", token=user.token).body)


def test_eleventh_trip_in_a_minute_is_429(limited: tuple[PostgREST, str]) -> None:
    api, url = limited
    user = create_user(url)
    for i in range(10):
        assert api.rpc("create_trip", {"title": f"t{i}"}, token=user.token).status == 201
    response = api.rpc("create_trip", {"title": "one too many"}, token=user.token)
    assert response.status == 429 and response.code == "RATE_LIMITED"
    retry_after = int(response.header("Retry-After"))
    assert 1 <= retry_after <= 60
    details = json.loads(response.body["details"])
    assert details["type"] == "rate_limit" and details["retryable"] is True
    assert details["requestId"] == response.header("X-Request-ID")
    assert trips(api, user) == 10


def test_limits_are_per_user(limited: tuple[PostgREST, str]) -> None:
    api, url = limited
    alice, bob = create_user(url), create_user(url)
    for i in range(10):
        api.rpc("create_trip", {"title": f"t{i}"}, token=alice.token)
    assert api.rpc("create_trip", {"title": "x"}, token=alice.token).status == 429
    assert api.rpc("create_trip", {"title": "x"}, token=bob.token).status == 201


def test_reads_are_not_limited(limited: tuple[PostgREST, str]) -> None:
    api, url = limited
    user = create_user(url)
    for _ in range(120):
        assert api.select("trips", token=user.token).status == 200


def test_a_rejected_request_consumes_nothing(limited: tuple[PostgREST, str]) -> None:
    api, url = limited
    user = create_user(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update private.rate_limits set max_requests = 3 where name = 'trips'")
        for i in range(3):
            api.rpc("create_trip", {"title": f"t{i}"}, token=user.token)
        for _ in range(5):
            assert api.rpc("create_trip", {"title": "x"}, token=user.token).status == 429
        hits = conn.execute(
            "select sum(units) from private.rate_limit_hits where limit_name = 'trips'"
        ).fetchone()[0]
    assert hits == 3


def test_operators_change_limits_in_a_table(limited: tuple[PostgREST, str]) -> None:
    api, url = limited
    user = create_user(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update private.rate_limits set max_requests = 1 where name = 'trips'")
    assert api.rpc("create_trip", {"title": "a"}, token=user.token).status == 201
    assert api.rpc("create_trip", {"title": "b"}, token=user.token).status == 429


def test_all_writes_together_are_limited(limited: tuple[PostgREST, str]) -> None:
    api, url = limited
    user = create_user(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update private.rate_limits set max_requests = 1000 where name = 'trips'")
        conn.execute("update private.rate_limits set max_requests = 5 "
                     "where name = 'all_writes'")
    trip = api.rpc("create_trip", {"title": "base"}, token=user.token).body
    for i in range(4):
        assert api.rpc("create_activity", {"trip_id": trip["id"], "title": f"a{i}"},
                       token=user.token).status == 201
    assert api.rpc("create_activity", {"trip_id": trip["id"], "title": "x"},
                   token=user.token).status == 429


def test_anon_is_limited_per_client_ip(limited: tuple[PostgREST, str]) -> None:
    """The client's address is what the gateway sees (two loopback addresses here); an
    X-Forwarded-For the client sends is not believed."""
    api, url = limited
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update private.rate_limits set max_requests = 2 where name = 'all_writes'")
        # Wayfare has no anon write that succeeds (a failed one consumes nothing), so the test
        # adds one: a function anon may POST to.
        conn.execute("create function public.ping() returns int language sql as 'select 1'")
        conn.execute("grant execute on function public.ping() to anon")
    api.reload_schema(expect_rpc="ping")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from private.rate_limit_hits")  # the reload's probes

    def ping(source: str, headers: dict[str, str] | None = None) -> int:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=source)) as client:
            return client.post(f"{api.base_url}/rpc/ping", json={}, headers={
                "apikey": api.anon_key, **(headers or {})}).status_code

    spoof = {"X-Forwarded-For": "198.51.100.9"}
    assert ping("127.0.0.7") == 200
    assert ping("127.0.0.7", spoof) == 200
    assert ping("127.0.0.7", {"X-Forwarded-For": "203.0.113.1"}) == 429
    assert ping("127.0.0.8") == 200


ROUTE_SPELLINGS = ["/rpc/create_trip", "/rpc/create%5Ftrip", "/rpc/create%5ftrip",
                   "/%72pc/create_trip", "/rpc/%63reate_trip"]


def test_a_limit_holds_however_the_path_is_spelled(limited: tuple[PostgREST, str]) -> None:
    """PostgREST routes on the decoded path: every spelling that runs create_trip counts
    against the trips limit; spellings PostgREST does not route (%2F, a trailing or doubled
    slash) run nothing and count nothing."""
    api, url = limited
    user = create_user(url)
    statuses = []
    for i in range(10):
        path = ROUTE_SPELLINGS[i % len(ROUTE_SPELLINGS)]
        statuses.append(api.request("POST", path, token=user.token,
                                    json_body={"title": f"t{i}"}).status)
    assert statuses == [201] * 10
    for path in ["/rpc%2Fcreate_trip", "/rpc/create_trip/", "//rpc/create_trip"]:
        assert api.request("POST", path, token=user.token,
                           json_body={"title": "x"}).status == 404
    for path in ROUTE_SPELLINGS:
        over = api.request("POST", path, token=user.token, json_body={"title": "over"})
        assert over.status == 429 and over.code == "RATE_LIMITED", (path, over.body)
    assert trips(api, user) == 10


def test_a_table_write_counts_each_row(limited: tuple[PostgREST, str]) -> None:
    """POST /trips with many rows counts every row against the trips limit (10/min)."""
    api, url = limited
    user = create_user(url)
    rows = [{"user_id": user.id, "title": f"bulk {i}"} for i in range(8)]
    assert api.insert("trips", rows, token=user.token).status == 201
    too_many = api.insert("trips", rows[:3], token=user.token)
    assert too_many.status == 429 and too_many.code == "RATE_LIMITED"
    assert api.insert("trips", rows[:2], token=user.token).status == 201
    assert trips(api, user) == 10
    other = create_user(url)
    huge = [{"user_id": other.id, "title": f"t{i}"} for i in range(5000)]
    answer = api.insert("trips", huge, token=other.token, headers={"Prefer": "return=minimal"})
    assert answer.status == 429 and trips(api, other) == 0
