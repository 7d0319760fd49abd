"""The local Supabase API end to end, as a frontend uses it: supabase-py (and plain HTTP where
supabase-py hides headers) against the gateway, the real PostgREST and the Auth stand-in."""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import Client, create_client
from supabase_auth.errors import AuthApiError

import devstack.localapi as localapi
from devstack.localapi import LocalAPI
from tests.harness import tokens

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def local(db_url: str) -> Iterator[LocalAPI]:
    with LocalAPI(db_url, with_auth=True) as api:
        yield api


def signed_in(local: LocalAPI) -> tuple[Client, str]:
    """A new user, signed up and in through /auth/v1; (client, user id)."""
    client = create_client(local.url, local.anon_key)
    email = f"web-{uuid.uuid4().hex[:10]}@example.test"
    answer = client.auth.sign_up({"email": email, "password": PASSWORD})
    assert answer.session is not None and answer.user is not None
    return client, answer.user.id


def http(local: LocalAPI, method: str, path: str, *, token: str | None = None,
         apikey: str | None = "anon", **kwargs: object) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[arg-type]
    if apikey == "anon":
        headers["apikey"] = local.anon_key
    elif apikey == "service_role":
        headers["apikey"] = local.service_role_key
    elif apikey is not None:
        headers["apikey"] = apikey
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(method, f"{local.url}{path}", headers=headers, timeout=30,
                         **kwargs)  # type: ignore[arg-type]


def token_of(client: Client) -> str:
    session = client.auth.get_session()
    assert session is not None
    return session.access_token


# ---------------------------------------------------------------- auth through the gateway
def test_sign_up_sign_in_refresh_and_sign_out(local: LocalAPI) -> None:
    client = create_client(local.url, local.anon_key)
    email = f"flow-{uuid.uuid4().hex[:10]}@example.test"
    up = client.auth.sign_up({"email": email, "password": PASSWORD})
    assert up.user is not None and up.user.email == email
    client.auth.sign_out()
    with pytest.raises(AuthApiError):
        client.auth.sign_in_with_password({"email": email, "password": "wrong password!"})
    session = client.auth.sign_in_with_password({"email": email, "password": PASSWORD}).session
    assert session is not None
    claims = tokens.verify(session.access_token)
    assert claims["sub"] == up.user.id and claims["iss"] == f"{local.url}/auth/v1"
    trip = client.rpc("create_trip", {"title": "Through supabase-py"}).execute().data
    assert trip["user_id"] == up.user.id
    old_refresh = session.refresh_token
    refreshed = client.auth.refresh_session().session
    assert refreshed is not None and refreshed.refresh_token != old_refresh
    assert client.auth.get_user().user.id == up.user.id
    # the refreshed token reads the same rows through PostgREST
    rows = client.table("trips").select("id").eq("id", trip["id"]).execute().data
    assert rows == [{"id": trip["id"]}]
    refresh_token = refreshed.refresh_token
    client.auth.sign_out()
    stale = http(local, "POST", "/auth/v1/token?grant_type=refresh_token",
                 json={"refresh_token": refresh_token})
    assert stale.status_code == 400


def test_expired_badly_signed_and_missing_tokens(local: LocalAPI) -> None:
    client, user_id = signed_in(local)
    expired = tokens.mint(user_id, expires_in=-60)  # PostgREST allows 30 s of skew
    answer = http(local, "GET", "/rest/v1/trips", token=expired)
    assert answer.status_code == 401 and answer.json()["code"] == "PGRST301"
    assert answer.headers["X-Request-ID"]
    forged = tokens.mint(user_id, secret="another-secret-of-at-least-32-characters!")
    assert http(local, "GET", "/rest/v1/trips", token=forged).status_code == 401
    anon = http(local, "POST", "/rest/v1/rpc/create_trip", json={"title": "x"})
    body = anon.json()
    assert anon.status_code == 401 and body["code"] == "UNAUTHORIZED"
    assert json.loads(body["details"])["requestId"] == anon.headers["X-Request-ID"]
    assert token_of(client)


def test_the_gateway_requires_a_known_apikey(local: LocalAPI) -> None:
    missing = http(local, "GET", "/rest/v1/hotels", apikey=None)
    assert missing.status_code == 401 and missing.json()["message"] == \
        "No API key found in request"
    wrong = http(local, "GET", "/rest/v1/hotels", apikey="not-a-key")
    assert wrong.status_code == 401
    assert http(local, "GET", "/auth/v1/settings", apikey=None).status_code == 401
    assert http(local, "GET", "/auth/v1/health", apikey=None).status_code == 200
    assert http(local, "GET", "/rest/v1/hotels").status_code == 200


def test_the_service_role_key_bypasses_rls(local: LocalAPI) -> None:
    client, user_id = signed_in(local)
    trip = client.rpc("create_trip", {"title": "Seen by the service role"}).execute().data
    admin = create_client(local.url, local.service_role_key)
    rows = admin.table("trips").select("id,user_id").eq("id", trip["id"]).execute().data
    assert rows == [{"id": trip["id"], "user_id": user_id}]


# ---------------------------------------------------------------- RLS over HTTP
def test_rls_matrix_for_trips_activities_jobs_and_bookings(local: LocalAPI, db_url: str) -> None:
    alice, _ = signed_in(local)
    bob, bob_id = signed_in(local)
    trip = alice.rpc("create_trip", {"title": "Alice's"}).execute().data
    activity = alice.rpc("create_activity", {"trip_id": trip["id"], "title": "Museum"}) \
        .execute().data
    job = alice.rpc("start_research", {"query": "Quiet beaches near Porto"}).execute().data
    with psycopg.connect(db_url) as conn:
        hotel = conn.execute("select id from public.hotels where active limit 1").fetchone()[0]
    check_in = dt.date.today() + dt.timedelta(days=20)
    booking = alice.rpc("create_booking", {
        "hotel_id": str(hotel), "check_in": str(check_in),
        "check_out": str(check_in + dt.timedelta(days=2))}).execute().data
    owned = {"trips": trip["id"], "activities": activity["id"], "jobs": job["jobId"],
             "bookings": booking["id"]}
    for table, row_id in owned.items():
        assert len(alice.table(table).select("id").eq("id", row_id).execute().data) == 1, table
        assert bob.table(table).select("id").eq("id", row_id).execute().data == [], table
    # bob's writes to alice's rows touch nothing
    assert bob.table("trips").update({"title": "Bob's now"}).eq("id", trip["id"]) \
        .execute().data == []
    assert bob.table("activities").delete().eq("id", activity["id"]).execute().data == []
    for table in ("jobs", "bookings"):  # nobody but the worker and webhooks write these
        with pytest.raises(APIError) as refused:
            bob.table(table).update({"status": "cancelled"}).eq("id", owned[table]).execute()
        assert refused.value.code == "42501", table
        with pytest.raises(APIError):
            bob.table(table).insert({"user_id": bob_id}).execute()
    assert alice.table("trips").select("title").eq("id", trip["id"]).execute().data == [
        {"title": "Alice's"}]
    assert len(alice.table("activities").select("id").eq("id", activity["id"])
               .execute().data) == 1
    # anon reads the hotel catalogue and nothing else
    anon = create_client(local.url, local.anon_key)
    assert anon.table("hotels").select("id").limit(1).execute().data
    for table in owned:
        try:
            rows = anon.table(table).select("id").execute().data
        except APIError as exc:
            assert exc.code == "42501", table
        else:
            assert rows == [], table


# ---------------------------------------------------------------- headers and limits
def test_request_ids_replays_and_errors_over_http(local: LocalAPI) -> None:
    client, _ = signed_in(local)
    token = token_of(client)
    mine = http(local, "POST", "/rest/v1/rpc/create_trip", token=token,
                json={"title": "Ids"}, headers={"X-Request-ID": "frontend-req.0001"})
    assert mine.status_code == 201 and mine.headers["X-Request-ID"] == "frontend-req.0001"
    bad = http(local, "POST", "/rest/v1/rpc/create_trip", token=token,
               json={"title": "Ids"}, headers={"X-Request-ID": "no spaces allowed"})
    assert str(uuid.UUID(bad.headers["X-Request-ID"])) == bad.headers["X-Request-ID"]
    key = {"Idempotency-Key": f"web-{uuid.uuid4()}"}
    first = http(local, "POST", "/rest/v1/rpc/create_trip", token=token,
                 json={"title": "Once"}, headers=key)
    again = http(local, "POST", "/rest/v1/rpc/create_trip", token=token,
                 json={"title": "Once"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert "Idempotent-Replayed" not in first.headers
    reused = http(local, "POST", "/rest/v1/rpc/create_trip", token=token,
                  json={"title": "Other"}, headers=key)
    assert reused.status_code == 422 and reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    # supabase-py surfaces the error body of docs/errors.md
    with pytest.raises(APIError) as invalid:
        client.rpc("create_trip", {"title": "x" * 201}).execute()
    assert invalid.value.code == "VALIDATION_FAILED"
    assert json.loads(invalid.value.details)["field"] == "title"


def test_a_missing_argument_is_a_validation_error(local: LocalAPI) -> None:
    client, _ = signed_in(local)
    answer = http(local, "POST", "/rest/v1/rpc/create_trip", token=token_of(client), json={})
    body = answer.json()
    assert answer.status_code == 400 and body["code"] == "VALIDATION_FAILED", body
    assert json.loads(body["details"])["field"] == "title"


def test_never_more_than_1000_rows_in_one_response(local: LocalAPI, db_url: str) -> None:
    client, user_id = signed_in(local)
    with psycopg.connect(db_url) as conn:
        conn.execute("insert into public.trips (user_id, title) "
                     "select %s, 'bulk ' || g from generate_series(1, 1100) as g", (user_id,))
    answer = http(local, "GET", "/rest/v1/trips?select=id", token=token_of(client))
    assert answer.status_code == 200 and len(answer.json()) == 1000
    assert answer.headers["Content-Range"] == "0-999/*"
    rest = http(local, "GET", "/rest/v1/trips?select=id&offset=1000", token=token_of(client))
    assert len(rest.json()) == 100


def test_cors_as_supabase_answers(local: LocalAPI) -> None:
    preflight = http(local, "OPTIONS", "/rest/v1/rpc/create_trip", apikey=None, headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "apikey, authorization, content-type, "
                                          "idempotency-key, x-client-info"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "idempotency-key" in preflight.headers["Access-Control-Allow-Headers"]
    for path in ("/rest/v1/hotels", "/auth/v1/settings"):
        answer = http(local, "GET", path, headers={"Origin": "http://localhost:5173"})
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        exposed = answer.headers["Access-Control-Expose-Headers"]
        assert "X-Request-ID" in exposed and "Retry-After" in exposed


def test_a_picked_port_taken_before_the_bind_is_picked_again(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process may bind a free port between our pick and the gateway's bind: the
    stack starts again on newly picked ports instead of failing the run."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    real_free_port = localapi.free_port
    picks = iter([taken.getsockname()[1]])
    monkeypatch.setattr(localapi, "free_port", lambda: next(picks, None) or real_free_port())
    try:
        with LocalAPI(db_url, with_auth=False) as api:
            assert api.port != taken.getsockname()[1]
            response = httpx.get(f"{api.url}/rest/v1/", headers={"apikey": api.anon_key})
            assert response.status_code == 200
    finally:
        taken.close()


def test_a_port_the_caller_gave_is_never_changed(db_url: str) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        with pytest.raises(RuntimeError, match=r"(?i)in use"), \
                LocalAPI(db_url, with_auth=False, port=taken.getsockname()[1]):
            pass
    finally:
        taken.close()
