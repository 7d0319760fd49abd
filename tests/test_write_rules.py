"""One set of rules for RPCs and direct table writes (issue 10 #6): POST and PATCH on /trips
and /activities answer 400 VALIDATION_FAILED (docs/errors.md) naming the field, never a bare
23514; dates past timestamp's range and infinite booking dates answer 400, not 500."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

from tests.harness.postgrest import PostgREST
from tests.harness.users import User
from tests.test_core_api import assert_error
from tests.webhook_helpers import PARIS_HOTEL

BAD_TRIPS = [
    ({"title": "bell\x07"}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "ok", "destination": "d" * 201}, "destination"),
    ({"title": "ok", "start_date": "-infinity"}, "start_date"),
    ({"title": "ok", "end_date": "1800-01-01"}, "end_date"),
    ({"title": "ok", "start_date": "5874897-01-01"}, "start_date"),
    ({"title": "ok", "start_date": "2027-05-04", "end_date": "2027-05-01"}, "end_date"),
    ({"title": "ok", "client_temp_id": "not-a-temp-id"}, "client_temp_id"),
]


@pytest.mark.parametrize(("row", "field"), BAD_TRIPS)
def test_post_trips_follows_the_rpc_rules(api: PostgREST, alice: User, row: dict,
                                          field: str) -> None:
    response = api.insert("trips", {"user_id": alice.id, **row}, token=alice.token)
    details = assert_error(response, 400, "VALIDATION_FAILED", field)
    assert details["type"] == "validation"
    assert api.select("trips", token=alice.token).body == []


@pytest.mark.parametrize(("row", "field"), BAD_TRIPS)
def test_create_trip_answers_the_same(api: PostgREST, alice: User, row: dict,
                                      field: str) -> None:
    assert_error(api.rpc("create_trip", row, token=alice.token), 400, "VALIDATION_FAILED", field)


def test_post_trips_trims_the_title(api: PostgREST, alice: User) -> None:
    response = api.insert("trips", {"user_id": alice.id, "title": "  Porto \n"},
                          token=alice.token)
    assert response.status == 201, response.body
    assert response.body[0]["title"] == "Porto"


@pytest.mark.parametrize(("values", "field"), [
    ({"title": "tab\x01"}, "title"),
    ({"title": ""}, "title"),
    ({"start_date": "infinity"}, "start_date"),
    ({"start_date": "2027-06-01"}, "end_date"),  # after the stored end_date
])
def test_patch_trips_follows_the_rpc_rules(api: PostgREST, alice: User, values: dict,
                                           field: str) -> None:
    trip = api.rpc("create_trip", {"title": "Lisbon", "start_date": "2027-05-01",
                                   "end_date": "2027-05-04"}, token=alice.token).body
    response = api.update("trips", values, filters={"id": trip["id"]}, token=alice.token)
    assert_error(response, 400, "VALIDATION_FAILED", field)
    assert api.select("trips", filters={"id": trip["id"]}, token=alice.token).body == [trip]


@pytest.mark.parametrize(("row", "field"), [
    ({"title": "esc\x1b"}, "title"),
    ({"title": "ok", "location": "l" * 501}, "location"),
    ({"title": "ok", "notes": "n" * 5001}, "notes"),
    ({"title": "ok", "starts_at": "1850-01-01T00:00:00Z"}, "starts_at"),
    ({"title": "ok", "starts_at": "2027-05-02T10:00:00Z", "ends_at": "2027-05-02T09:00:00Z"},
     "ends_at"),
])
def test_post_activities_follows_the_rpc_rules(api: PostgREST, alice: User, row: dict,
                                               field: str) -> None:
    trip = api.rpc("create_trip", {"title": "Lisbon"}, token=alice.token).body
    response = api.insert("activities", {"trip_id": trip["id"], "user_id": alice.id, **row},
                          token=alice.token)
    assert_error(response, 400, "VALIDATION_FAILED", field)


def test_post_activity_on_someone_elses_trip_is_not_found(api: PostgREST, alice: User,
                                                          bob: User) -> None:
    trip = api.rpc("create_trip", {"title": "Lisbon"}, token=alice.token).body
    for trip_id in (trip["id"], str(uuid.uuid4())):
        response = api.insert("activities", {"trip_id": trip_id, "user_id": bob.id,
                                             "title": "x"}, token=bob.token)
        assert_error(response, 404, "NOT_FOUND", "trip_id")


def test_patch_activities_follows_the_rpc_rules(api: PostgREST, alice: User) -> None:
    trip = api.rpc("create_trip", {"title": "Lisbon"}, token=alice.token).body
    activity = api.rpc("create_activity", {"trip_id": trip["id"], "title": "Tram"},
                       token=alice.token).body
    response = api.update("activities", {"notes": "del\x7f"}, filters={"id": activity["id"]},
                          token=alice.token)
    assert_error(response, 400, "VALIDATION_FAILED", "notes")


def test_create_booking_with_infinite_check_out_is_400(api: PostgREST, alice: User,
                                                       db: psycopg.Connection) -> None:
    today: dt.date = db.execute("select current_date").fetchone()[0]
    for check_in, check_out, field in [
        (today + dt.timedelta(days=1), "infinity", "check_out"),
        ("infinity", "infinity", "check_in"),
        ("-infinity", today.isoformat(), "check_in"),
    ]:
        response = api.rpc("create_booking", {
            "hotel_id": PARIS_HOTEL, "check_in": str(check_in), "check_out": str(check_out),
        }, token=alice.token)
        assert_error(response, 400, "VALIDATION_FAILED", field)
