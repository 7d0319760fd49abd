"""What only HTTP shows of trips' and activities' RLS: the answers PostgREST gives.

pgTAP owns the RLS matrix itself (supabase/tests/database/00_rls_enabled, 01_trips_rls,
02_activities_rls: which role may select, insert, update, delete which rows). Here: the same
rules as a client sees them through the gateway and PostgREST (status codes, empty bodies,
403/404 rather than rows, check constraints as 400), which SQL alone cannot show.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.harness.postgrest import PostgREST
from tests.harness.users import User


def make_trip(api: PostgREST, user: User, **extra: object) -> dict:
    response = api.insert("trips", {"title": "Kyoto in autumn", **extra}, token=user.token)
    assert response.status == 201, response.body
    return response.body[0]


def make_activity(api: PostgREST, user: User, trip_id: str) -> dict:
    response = api.insert("activities", {"trip_id": trip_id, "title": "Fushimi Inari"},
                          token=user.token)
    assert response.status == 201, response.body
    return response.body[0]


def test_owner_can_do_everything_with_trips(api: PostgREST, alice: User) -> None:
    trip = make_trip(api, alice)
    assert trip["user_id"] == alice.id
    assert api.select("trips", filters={"id": trip["id"]}, token=alice.token).body == [trip]
    updated = api.update("trips", {"title": "Kyoto in winter"}, filters={"id": trip["id"]},
                         token=alice.token)
    assert updated.status == 200 and updated.body[0]["title"] == "Kyoto in winter"
    deleted = api.delete("trips", filters={"id": trip["id"]}, token=alice.token)
    assert deleted.status == 200 and len(deleted.body) == 1
    assert api.select("trips", filters={"id": trip["id"]}, token=alice.token).body == []


@pytest.mark.parametrize("who", ["other", "anon"])
def test_others_cannot_touch_trips(api: PostgREST, alice: User, bob: User, who: str) -> None:
    trip = make_trip(api, alice)
    token = bob.token if who == "other" else None
    selected = api.select("trips", filters={"id": trip["id"]}, token=token)
    # another user sees nothing; anon has no privilege on trips at all
    assert (selected.status, selected.body) == (200, []) if who == "other" else (
        selected.status == 401)
    update = api.update("trips", {"title": "mine now"}, filters={"id": trip["id"]}, token=token)
    assert update.status in (200, 401) and not (update.status == 200 and update.body)
    delete = api.delete("trips", filters={"id": trip["id"]}, token=token)
    assert delete.status in (200, 401) and not (delete.status == 200 and delete.body)
    # the trip is untouched
    assert api.select("trips", filters={"id": trip["id"]}, token=alice.token).body == [trip]


def test_anon_reads_no_trips_at_all(api: PostgREST, alice: User) -> None:
    make_trip(api, alice)
    response = api.select("trips")
    assert response.status == 401 and response.code == "42501"


def test_nobody_inserts_a_trip_for_someone_else(api: PostgREST, alice: User, bob: User) -> None:
    response = api.insert("trips", {"title": "sneaky", "user_id": alice.id}, token=bob.token)
    assert response.status == 403 and response.code == "42501"
    assert api.insert("trips", {"title": "anon"}).status == 401


def test_owner_cannot_move_a_trip_to_another_user(api: PostgREST, alice: User,
                                                  bob: User) -> None:
    trip = make_trip(api, alice)
    response = api.update("trips", {"user_id": bob.id}, filters={"id": trip["id"]},
                          token=alice.token)
    assert response.status == 403  # no update privilege on user_id


def test_owner_can_do_everything_with_activities(api: PostgREST, alice: User) -> None:
    trip = make_trip(api, alice)
    activity = make_activity(api, alice, trip["id"])
    assert activity["user_id"] == alice.id
    assert api.select("activities", filters={"id": activity["id"]},
                      token=alice.token).body == [activity]
    updated = api.update("activities", {"notes": "go at dawn"}, filters={"id": activity["id"]},
                         token=alice.token)
    assert updated.body[0]["notes"] == "go at dawn"
    deleted = api.delete("activities", filters={"id": activity["id"]}, token=alice.token)
    assert len(deleted.body) == 1


@pytest.mark.parametrize("who", ["other", "anon"])
def test_others_cannot_touch_activities(api: PostgREST, alice: User, bob: User,
                                        who: str) -> None:
    trip = make_trip(api, alice)
    activity = make_activity(api, alice, trip["id"])
    token = bob.token if who == "other" else None
    selected = api.select("activities", filters={"id": activity["id"]}, token=token)
    assert (selected.status, selected.body) == (200, []) if who == "other" else (
        selected.status == 401)
    update = api.update("activities", {"title": "x"}, filters={"id": activity["id"]},
                        token=token)
    assert update.status in (200, 401) and not (update.status == 200 and update.body)
    delete = api.delete("activities", filters={"id": activity["id"]}, token=token)
    assert delete.status in (200, 401) and not (delete.status == 200 and delete.body)
    assert api.select("activities", filters={"id": activity["id"]},
                      token=alice.token).body == [activity]


def test_activity_cannot_go_on_another_users_trip(api: PostgREST, alice: User,
                                                  bob: User) -> None:
    trip = make_trip(api, alice)
    # the write rules' trigger answers first: another user's trip looks like a missing one
    response = api.insert("activities", {"trip_id": trip["id"], "title": "gatecrash"},
                          token=bob.token)
    assert (response.status, response.code) == (404, "NOT_FOUND")
    # not even by naming alice as the owner
    response = api.insert("activities", {"trip_id": trip["id"], "title": "gatecrash",
                                         "user_id": alice.id}, token=bob.token)
    assert (response.status, response.code) == (404, "NOT_FOUND")
    assert api.insert("activities", {"trip_id": trip["id"], "title": "anon"}).status == 401


def test_activity_cannot_be_moved_to_another_users_trip(api: PostgREST, alice: User,
                                                        bob: User) -> None:
    bobs_trip = make_trip(api, bob)
    trip = make_trip(api, alice)
    activity = make_activity(api, alice, trip["id"])
    response = api.update("activities", {"trip_id": bobs_trip["id"]},
                          filters={"id": activity["id"]}, token=alice.token)
    assert response.status == 403  # trip_id is not updatable


def test_composite_key_holds_even_for_service_role(db: psycopg.Connection, alice: User,
                                                   bob: User, api: PostgREST) -> None:
    trip = make_trip(api, alice)
    insert = "insert into public.activities (trip_id, user_id, title) values (%s, %s, 'x')"
    with pytest.raises(psycopg.Error, match="NOT_FOUND"):  # the write rules' trigger
        db.execute(insert, (trip["id"], bob.id))
    # and beneath it the composite key itself
    with pytest.raises(psycopg.errors.ForeignKeyViolation), db.transaction():
        db.execute("alter table public.activities disable trigger a_activities_check_write")
        db.execute(insert, (trip["id"], bob.id))


def test_check_constraints_answer_400(api: PostgREST, alice: User) -> None:
    # the write rules' trigger answers before any check constraint (never a bare 23514)
    response = api.insert("trips", {"title": "", "start_date": "2026-01-02"}, token=alice.token)
    assert (response.status, response.code) == (400, "VALIDATION_FAILED")
    assert response.details["field"] == "title"
    response = api.insert("trips", {"title": "x", "start_date": "2026-01-02",
                                    "end_date": "2026-01-01"}, token=alice.token)
    assert (response.status, response.code) == (400, "VALIDATION_FAILED")
    assert response.details["field"] == "end_date"


def test_profile_is_created_and_private(api: PostgREST, alice: User, bob: User) -> None:
    mine = api.select("profiles", token=alice.token)
    assert mine.status == 200 and [p["id"] for p in mine.body] == [alice.id]
    assert mine.body[0]["ai_consent"] == "usage_only"
    changed = api.update("profiles", {"ai_consent": "redacted"}, filters={"id": bob.id},
                         token=alice.token)
    assert changed.body == []
    changed = api.update("profiles", {"ai_consent": "redacted"}, filters={"id": alice.id},
                         token=alice.token)
    assert changed.body[0]["ai_consent"] == "redacted"
