"""create_trip and create_activity: status, body, temp ids, validation, errors, request ids."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.harness.postgrest import PostgREST, Response
from tests.harness.users import User

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def assert_error(response: Response, status: int, code: str, field: str | None = None) -> dict:
    """The error of docs/errors.md: status, code, four strings, details a JSON object string."""
    assert response.status == status, response.body
    assert set(response.body) == {"code", "message", "details", "hint"}
    assert response.code == code
    assert isinstance(response.body["message"], str) and response.body["message"]
    details = json.loads(response.body["details"])
    assert set(details) == {"type", "field", "retryable", "requestId"}
    assert details["field"] == field
    assert details["requestId"] == response.header("X-Request-ID")
    return details


def new_trip(api: PostgREST, user: User, **args: object) -> Response:
    return api.rpc("create_trip", {"title": "Lisbon long weekend", **args}, token=user.token)


# --------------------------------------------------------------------------- create_trip
def test_create_trip_returns_201_with_the_row(api: PostgREST, alice: User) -> None:
    response = new_trip(api, alice, destination="Lisbon", start_date="2027-05-01",
                        end_date="2027-05-04", client_temp_id="temp_abc-123")
    assert response.status == 201
    trip = response.body
    assert UUID.match(trip["id"]) and trip["user_id"] == alice.id
    assert trip["client_temp_id"] == "temp_abc-123"
    assert (trip["title"], trip["destination"]) == ("Lisbon long weekend", "Lisbon")
    assert (trip["start_date"], trip["end_date"]) == ("2027-05-01", "2027-05-04")
    assert UUID.match(response.header("X-Request-ID"))
    rows = api.select("trips", filters={"id": trip["id"]}, token=alice.token).body
    assert rows == [trip]


def test_create_trip_trims_title(api: PostgREST, alice: User) -> None:
    assert new_trip(api, alice, title="  Porto  ").body["title"] == "Porto"


def test_anon_gets_401_unauthorized(api: PostgREST) -> None:
    details = assert_error(api.rpc("create_trip", {"title": "x"}), 401, "UNAUTHORIZED")
    assert details["type"] == "auth" and details["retryable"] is False


def test_service_role_without_a_user_gets_401(api: PostgREST) -> None:
    from tests.harness.tokens import service_role_token

    assert_error(api.rpc("create_trip", {"title": "x"}, token=service_role_token()), 401,
                 "UNAUTHORIZED")


@pytest.mark.parametrize(("args", "field"), [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "bell\x07"}, "title"),
    ({"destination": "d" * 201}, "destination"),
    ({"start_date": "2027-05-04", "end_date": "2027-05-01"}, "end_date"),
    ({"start_date": "infinity"}, "start_date"),
    ({"end_date": "1800-01-01"}, "end_date"),
    ({"client_temp_id": "abc"}, "client_temp_id"),
    ({"client_temp_id": "temp_"}, "client_temp_id"),
    ({"client_temp_id": "temp_" + "a" * 65}, "client_temp_id"),
    ({"client_temp_id": "temp_has space"}, "client_temp_id"),
    ({"client_temp_id": str(uuid.uuid4())}, "client_temp_id"),
])
def test_create_trip_validation(api: PostgREST, alice: User, args: dict, field: str) -> None:
    details = assert_error(new_trip(api, alice, **args), 400, "VALIDATION_FAILED", field)
    assert details["type"] == "validation" and details["retryable"] is False
    assert api.select("trips", token=alice.token).body == []


def test_title_of_exactly_200_characters_is_fine(api: PostgREST, alice: User) -> None:
    assert new_trip(api, alice, title="t" * 200).status == 201


def test_malformed_date_is_400(api: PostgREST, alice: User) -> None:
    response = new_trip(api, alice, start_date="2027-13-45")
    assert response.status == 400  # PostgREST's own cast error, before the function runs


def test_missing_title_is_400_naming_it(api: PostgREST, alice: User) -> None:
    # every argument has a default, so PostgREST finds the function and it names the field
    response = api.rpc("create_trip", {"destination": "x"}, token=alice.token)
    assert_error(response, 400, "VALIDATION_FAILED", "title")


# --------------------------------------------------------------------------- temp ids
def test_same_temp_id_again_returns_the_existing_row_with_200(api: PostgREST,
                                                              alice: User) -> None:
    first = new_trip(api, alice, client_temp_id="temp_lost-response")
    again = new_trip(api, alice, client_temp_id="temp_lost-response")
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert len(api.select("trips", token=alice.token).body) == 1


def test_temp_id_is_per_user(api: PostgREST, alice: User, bob: User) -> None:
    mine = new_trip(api, alice, client_temp_id="temp_shared")
    theirs = new_trip(api, bob, client_temp_id="temp_shared")
    assert (mine.status, theirs.status) == (201, 201)
    assert mine.body["id"] != theirs.body["id"]
    assert theirs.body["user_id"] == bob.id


def test_no_id_is_ever_a_temp_id(api: PostgREST, alice: User, db) -> None:
    new_trip(api, alice, client_temp_id="temp_x1")
    rows = db.execute("select count(*) from public.trips where id::text like 'temp_%'")
    assert rows.fetchone()[0] == 0


# --------------------------------------------------------------------------- create_activity
def test_create_activity(api: PostgREST, alice: User) -> None:
    trip = new_trip(api, alice).body
    response = api.rpc("create_activity", {
        "trip_id": trip["id"], "title": "Tram 28", "starts_at": "2027-05-02T09:00:00Z",
        "ends_at": "2027-05-02T10:30:00Z", "location": "Martim Moniz", "notes": "Go early",
        "client_temp_id": "temp_act-1"}, token=alice.token)
    assert response.status == 201, response.body
    activity = response.body
    assert activity["trip_id"] == trip["id"] and activity["user_id"] == alice.id
    assert activity["client_temp_id"] == "temp_act-1" and UUID.match(activity["id"])
    again = api.rpc("create_activity", {"trip_id": trip["id"], "title": "Tram 28",
                                         "client_temp_id": "temp_act-1"}, token=alice.token)
    assert again.status == 200 and again.body["id"] == activity["id"]


def test_activity_on_another_users_trip_is_not_found(api: PostgREST, alice: User,
                                                     bob: User) -> None:
    trip = new_trip(api, alice).body
    response = api.rpc("create_activity", {"trip_id": trip["id"], "title": "x"},
                       token=bob.token)
    assert_error(response, 404, "NOT_FOUND", "trip_id")
    missing = api.rpc("create_activity", {"trip_id": str(uuid.uuid4()), "title": "x"},
                      token=bob.token)
    assert missing.status == 404 and missing.body["message"] == response.body["message"]


@pytest.mark.parametrize(("args", "field"), [
    ({"title": ""}, "title"),
    ({"starts_at": "2027-05-02T10:00:00Z", "ends_at": "2027-05-02T09:00:00Z"}, "ends_at"),
    ({"location": "l" * 501}, "location"),
    ({"notes": "n" * 5001}, "notes"),
    ({"client_temp_id": "tmp_1"}, "client_temp_id"),
    ({"starts_at": "-infinity"}, "starts_at"),
])
def test_create_activity_validation(api: PostgREST, alice: User, args: dict, field: str) -> None:
    trip = new_trip(api, alice).body
    response = api.rpc("create_activity", {"trip_id": trip["id"], "title": "ok", **args},
                       token=alice.token)
    assert_error(response, 400, "VALIDATION_FAILED", field)


def test_create_activity_requires_trip_id(api: PostgREST, alice: User) -> None:
    response = api.rpc("create_activity", {"trip_id": None, "title": "x"}, token=alice.token)
    assert_error(response, 400, "VALIDATION_FAILED", "trip_id")


# --------------------------------------------------------------------------- request ids
def test_request_id_is_taken_from_the_request_when_valid(api: PostgREST, alice: User) -> None:
    response = api.rpc("create_trip", {"title": "x"}, token=alice.token,
                       headers={"X-Request-ID": "req.abc-123_X"})
    assert response.header("X-Request-ID") == "req.abc-123_X"


@pytest.mark.parametrize("bad", ["short", "x" * 129, "has space in it", "semi;colon!!", ""])
def test_invalid_request_id_is_replaced(api: PostgREST, alice: User, bad: str) -> None:
    response = api.rpc("create_trip", {"title": "x"}, token=alice.token,
                       headers={"X-Request-ID": bad})
    assert UUID.match(response.header("X-Request-ID"))


def test_error_carries_the_request_id_in_header_and_details(api: PostgREST,
                                                           alice: User) -> None:
    response = api.rpc("create_trip", {"title": ""}, token=alice.token,
                       headers={"x-request-id": "trace-0001"})
    details = assert_error(response, 400, "VALIDATION_FAILED", "title")
    assert details["requestId"] == "trace-0001"


def test_request_id_reaches_the_stored_idempotency_row(api: PostgREST, alice: User, db) -> None:
    api.rpc("create_trip", {"title": "x"}, token=alice.token,
            headers={"X-Request-ID": "trace-stored-1", "Idempotency-Key": "k-req-1"})
    row = db.execute("select request_id from private.idempotency_keys where user_id = %s",
                     (alice.id,)).fetchone()
    assert row == ("trace-stored-1",)
