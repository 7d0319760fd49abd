"""Idempotency (docs/api.md#conventions), every rule, through the PostgREST harness."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import psycopg
import pytest

from tests.harness.postgrest import PostgREST, Response
from tests.harness.users import User


def create(api: PostgREST, user: User, key: str | None, *, title: str = "Seville",
           via: str = "header", **extra: object) -> Response:
    args: dict[str, object] = {"title": title, **extra}
    headers = {}
    if key is not None and via == "header":
        headers["Idempotency-Key"] = key
    elif key is not None:
        args["idempotency_key"] = key
    return api.rpc("create_trip", args, token=user.token, headers=headers)


def count_trips(api: PostgREST, user: User) -> int:
    return len(api.select("trips", token=user.token).body)


def test_same_key_same_request_replays_exactly(api: PostgREST, alice: User) -> None:
    first = create(api, alice, "key-1")
    second = create(api, alice, "key-1")
    assert first.status == second.status == 201
    assert second.body == first.body
    assert first.header("Idempotent-Replayed") is None
    assert second.header("Idempotent-Replayed") == "true"
    assert count_trips(api, alice) == 1


@pytest.mark.parametrize("via", ["header", "argument"])
def test_key_from_header_or_argument(api: PostgREST, alice: User, via: str) -> None:
    first = create(api, alice, f"key-{via}", via=via)
    second = create(api, alice, f"key-{via}", via=via)
    assert second.header("Idempotent-Replayed") == "true" and second.body == first.body


def test_quoted_header_is_the_same_key(api: PostgREST, alice: User) -> None:
    first = create(api, alice, "key-q")
    second = create(api, alice, '"key-q"')
    assert second.header("Idempotent-Replayed") == "true" and second.body == first.body


def test_header_wins_over_argument(api: PostgREST, alice: User) -> None:
    first = api.rpc("create_trip", {"title": "a", "idempotency_key": "arg-key"},
                    token=alice.token, headers={"Idempotency-Key": "header-key"})
    replay = create(api, alice, "header-key", title="a")
    assert replay.header("Idempotent-Replayed") == "true" and replay.body == first.body
    fresh = create(api, alice, "arg-key", via="argument", title="a")
    assert fresh.header("Idempotent-Replayed") is None  # the argument was never used


def test_same_key_different_request_is_422(api: PostgREST, alice: User) -> None:
    create(api, alice, "key-2", title="Seville")
    response = create(api, alice, "key-2", title="Granada")
    assert response.status == 422 and response.code == "IDEMPOTENCY_KEY_REUSED"
    assert response.body["hint"] == "Use a new key for a new request."
    details = json.loads(response.body["details"])
    assert details == {"type": "validation", "field": "idempotency_key", "retryable": False,
                       "requestId": response.header("X-Request-ID")}
    assert count_trips(api, alice) == 1


def test_keys_are_scoped_by_action(api: PostgREST, alice: User) -> None:
    trip = create(api, alice, "shared-key").body
    activity = api.rpc("create_activity", {"trip_id": trip["id"], "title": "Alcazar"},
                       token=alice.token, headers={"Idempotency-Key": "shared-key"})
    assert activity.status == 201 and activity.header("Idempotent-Replayed") is None


def test_keys_are_scoped_by_user(api: PostgREST, alice: User, bob: User) -> None:
    mine = create(api, alice, "same-key")
    theirs = create(api, bob, "same-key")
    assert theirs.status == 201 and theirs.header("Idempotent-Replayed") is None
    assert theirs.body["id"] != mine.body["id"] and theirs.body["user_id"] == bob.id
    # and bob's different request with the key is not "reused": it is his own key
    assert create(api, bob, "same-key").body == theirs.body


def test_validation_failure_stores_nothing(api: PostgREST, alice: User) -> None:
    bad = create(api, alice, "key-3", title="")
    assert bad.status == 400
    good = create(api, alice, "key-3", title="Cordoba")
    assert good.status == 201 and good.header("Idempotent-Replayed") is None


def test_expired_key_runs_again(api: PostgREST, alice: User, db: psycopg.Connection) -> None:
    first = create(api, alice, "key-4")
    db.execute("update private.idempotency_keys set expires_at = now() - interval '1 second' "
               "where user_id = %s", (alice.id,))
    second = create(api, alice, "key-4")
    assert second.status == 201 and second.header("Idempotent-Replayed") is None
    assert second.body["id"] != first.body["id"]
    assert count_trips(api, alice) == 2


def test_keys_live_24_hours(api: PostgREST, alice: User, db: psycopg.Connection) -> None:
    create(api, alice, "key-ttl")
    ttl = db.execute("select expires_at - created_at from private.idempotency_keys "
                     "where user_id = %s", (alice.id,)).fetchone()[0]
    assert ttl.total_seconds() == 24 * 3600


def test_purge_removes_only_expired_keys(api: PostgREST, alice: User,
                                         db: psycopg.Connection) -> None:
    create(api, alice, "old")
    create(api, alice, "new", title="other")
    db.execute("update private.idempotency_keys set expires_at = now() - interval '1 minute' "
               "where user_id = %s and idempotency_key = 'old'", (alice.id,))
    db.execute("select private.purge_expired_idempotency_keys()")
    keys = db.execute("select idempotency_key from private.idempotency_keys where user_id = %s",
                      (alice.id,)).fetchall()
    assert keys == [("new",)]


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "ünïcode", "new\nline"])
def test_invalid_keys(api: PostgREST, alice: User, key: str) -> None:
    response = create(api, alice, key, via="argument")
    assert response.status == 400 and response.code == "IDEMPOTENCY_KEY_INVALID"
    assert json.loads(response.body["details"])["field"] == "idempotency_key"
    assert count_trips(api, alice) == 0


def test_key_of_255_printable_characters_is_fine(api: PostgREST, alice: User) -> None:
    assert create(api, alice, "~" * 255).status == 201


def test_users_cannot_read_stored_responses(api: PostgREST, alice: User, db) -> None:
    create(api, alice, "secret-key")
    with psycopg.connect(db.info.dsn.replace("user=postgres", "user=authenticator")) as conn:
        conn.execute("set role authenticated")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from private.idempotency_keys")


def test_in_use_while_the_first_is_running(api_factory: Callable[[], PostgREST],
                                           alice: User, db: psycopg.Connection) -> None:
    """Hold the first request open (a test transaction locks trips against inserts): a
    duplicate gets 409 at once, retryable, and an unrelated write by the same user does not
    wait for the first either (the rate limiter takes no row locks)."""
    first_api, second_api = api_factory(), api_factory()
    trip = create(second_api, alice, None, title="Before the lock").body
    outcome: list[Response] = []
    with psycopg.connect(db.info.dsn) as locker:
        locker.execute("lock table public.trips in share mode")
        first = threading.Thread(target=lambda: outcome.append(
            create(first_api, alice, "busy-key")))
        first.start()
        wait_for_lock_waiter(db)
        started = time.monotonic()
        response = create(second_api, alice, "busy-key")
        in_use_after = time.monotonic() - started
        started = time.monotonic()
        activity = second_api.rpc("create_activity", {"trip_id": trip["id"], "title": "Tapas"},
                                  token=alice.token)
        unrelated_after = time.monotonic() - started
        assert first.is_alive()  # the first request is still held
    first.join(timeout=30)
    assert response.status == 409 and response.code == "IDEMPOTENCY_KEY_IN_USE"
    assert json.loads(response.body["details"])["retryable"] is True
    assert in_use_after < 0.1, in_use_after
    assert activity.status == 201 and unrelated_after < 0.1, unrelated_after
    assert outcome and outcome[0].status == 201
    replay = create(second_api, alice, "busy-key")
    assert replay.status == 201 and replay.header("Idempotent-Replayed") == "true"
    assert replay.body == outcome[0].body


def wait_for_lock_waiter(db: psycopg.Connection, timeout: float = 10.0) -> None:
    """Until a backend of this database waits for a lock (the held request)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = db.execute(
            "select count(*) from pg_stat_activity where datname = current_database() "
            "and wait_event_type = 'Lock'").fetchone()[0]
        if waiting:
            return
        time.sleep(0.01)
    raise TimeoutError("no request is waiting for the lock")


def test_twenty_concurrent_calls_make_one_trip(api_factory: Callable[[], PostgREST],
                                              alice: User) -> None:
    apis = [api_factory() for _ in range(20)]
    barrier = threading.Barrier(len(apis))
    results: list[Response] = []
    lock = threading.Lock()

    def call(client: PostgREST) -> None:
        barrier.wait()
        response = create(client, alice, "stampede", title="Malaga")
        with lock:
            results.append(response)

    threads = [threading.Thread(target=call, args=(a,)) for a in apis]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 20
    created = [r for r in results if r.status == 201]
    assert created, [r.body for r in results]
    assert all(r.status in (201, 409) for r in results), [r.status for r in results]
    assert all(r.body == created[0].body for r in created)
    assert all(r.code == "IDEMPOTENCY_KEY_IN_USE" for r in results if r.status == 409)
    assert count_trips(apis[0], alice) == 1
