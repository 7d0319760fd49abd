"""The local Supabase Auth stand-in (devstack/auth), driven by supabase-py's own auth client.

The service runs as a real process against the run's database; supabase_auth talks to it over
HTTP exactly as it talks to GoTrue, so what these tests accept is what the client parses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from supabase import ClientOptions, create_client
from supabase_auth import SyncGoTrueAdminAPI, SyncGoTrueClient
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from devstack import tokens
from devstack.auth.harness import AuthHandle, run_auth_standin
from tests.harness import databases
from tests.harness.postgrest import PostgREST

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

SITE_URL = "http://127.0.0.1:54321"
ISSUER = f"{SITE_URL}/auth/v1"
PASSWORD = "correct horse battery"
ANON_KEY = jwt.encode({"iss": "supabase-demo", "role": "anon", "exp": int(time.time()) + 86400},
                      tokens.TEST_JWT_SECRET, algorithm="HS256")
SERVICE_KEY = tokens.service_role_token()


@pytest.fixture(scope="module")
def auth(db_url: str) -> Iterator[AuthHandle]:
    """Strict rotation: a rotated refresh token is refused at once (no reuse interval)."""
    with run_auth_standin(db_url, site_url=SITE_URL, refresh_token_reuse_interval=0) as handle:
        yield handle


def client(auth: AuthHandle) -> SyncGoTrueClient:
    return SyncGoTrueClient(url=auth.url, headers={"apikey": ANON_KEY},
                            auto_refresh_token=False, persist_session=False)


def admin(auth: AuthHandle, key: str = SERVICE_KEY) -> SyncGoTrueAdminAPI:
    return SyncGoTrueAdminAPI(url=auth.url,
                              headers={"apikey": key, "Authorization": f"Bearer {key}"})


def new_email() -> str:
    return f"standin-{uuid.uuid4().hex[:12]}@example.test"


def signed_up(auth: AuthHandle, **data: Any) -> tuple[SyncGoTrueClient, Any]:
    c = client(auth)
    response = c.sign_up({"email": new_email(), "password": PASSWORD,
                          "options": {"data": data}})
    assert response.session is not None
    return c, response.session


def api_error(excinfo: pytest.ExceptionInfo[BaseException]) -> tuple[int, str | None]:
    error = excinfo.value
    assert isinstance(error, AuthApiError)
    return error.status, error.code


# --- sign-up and sign-in ------------------------------------------------------------------


def test_sign_up_returns_a_session_and_stores_a_bcrypt_hash(auth: AuthHandle,
                                                            db: psycopg.Connection) -> None:
    email = new_email()
    response = client(auth).sign_up({"email": email.upper(), "password": PASSWORD,
                                     "options": {"data": {"name": "Ada"}}})
    session, user = response.session, response.user
    assert session is not None and user is not None
    assert session.token_type == "bearer" and session.expires_in == 3600
    assert session.expires_at is not None and abs(session.expires_at - time.time() - 3600) < 5
    assert session.refresh_token and session.access_token
    assert user.email == email  # lower-cased, as GoTrue stores it
    assert user.user_metadata == {"name": "Ada"}
    assert user.app_metadata == {"provider": "email", "providers": ["email"]}
    assert user.email_confirmed_at is not None and user.last_sign_in_at is not None
    assert user.identities and user.identities[0].provider == "email"
    row = db.execute("select encrypted_password, email_confirmed_at from auth.users"
                     " where id = %s", (user.id,)).fetchone()
    assert row is not None and row[1] is not None
    assert row[0].startswith("$2b$10$") and PASSWORD not in row[0]
    # the foundation's trigger made the user's profile, as it does for GoTrue's inserts
    assert db.execute("select 1 from public.profiles where id = %s", (user.id,)).fetchone()


def test_sign_in_with_password(auth: AuthHandle, db: psycopg.Connection) -> None:
    _, first = signed_up(auth)
    response = client(auth).sign_in_with_password({"email": first.user.email,
                                                    "password": PASSWORD})
    assert response.session is not None and response.user is not None
    assert response.user.id == first.user.id
    assert response.session.refresh_token != first.refresh_token
    sessions = db.execute("select count(*) from auth.sessions where user_id = %s",
                          (first.user.id,)).fetchone()
    assert sessions == (2,)


@pytest.mark.parametrize("who", ["wrong password", "unknown email"])
def test_wrong_credentials_are_invalid_credentials(auth: AuthHandle, who: str) -> None:
    _, session = signed_up(auth)
    email = session.user.email if who == "wrong password" else new_email()
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).sign_in_with_password({"email": email, "password": "not the password"})
    assert api_error(excinfo) == (400, "invalid_credentials")
    assert excinfo.value.message == "Invalid login credentials"


def test_duplicate_sign_up_is_refused(auth: AuthHandle) -> None:
    _, session = signed_up(auth)
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).sign_up({"email": session.user.email, "password": "another password"})
    assert api_error(excinfo) == (422, "user_already_exists")
    assert excinfo.value.message == "User already registered"


def test_weak_password_is_refused_with_reasons(auth: AuthHandle) -> None:
    with pytest.raises(AuthWeakPasswordError) as excinfo:
        client(auth).sign_up({"email": new_email(), "password": "12345"})
    assert excinfo.value.status == 422 and excinfo.value.code == "weak_password"
    assert excinfo.value.reasons == ["length"]


def test_errors_in_both_shapes_and_both_paths(auth: AuthHandle) -> None:
    body = {"email": new_email(), "password": "wrong"}
    new = httpx.post(f"{auth.url}/auth/v1/token?grant_type=password", json=body,
                     headers={"X-Supabase-Api-Version": "2024-01-01"})
    old = httpx.post(f"{auth.url}/token?grant_type=password", json=body)
    assert (new.status_code, new.json()) == (
        400, {"code": "invalid_credentials", "message": "Invalid login credentials"})
    assert (old.status_code, old.json()) == (
        400, {"code": 400, "error_code": "invalid_credentials",
              "msg": "Invalid login credentials"})
    assert new.headers["X-Supabase-Api-Version"] == "2024-01-01"
    assert httpx.get(f"{auth.url}/auth/v1/health").status_code == 200
    assert httpx.get(f"{auth.url}/settings").json()["mailer_autoconfirm"] is True
    unknown = httpx.post(f"{auth.url}/token?grant_type=magic", json={})
    assert unknown.status_code == 400 and unknown.json()["error_code"] == "validation_failed"


# --- refresh tokens -----------------------------------------------------------------------


def test_refresh_rotates_and_a_reused_token_revokes_the_session(
        auth: AuthHandle, db: psycopg.Connection) -> None:
    c, first = signed_up(auth)
    second = c.refresh_session(first.refresh_token).session
    assert second is not None and second.refresh_token != first.refresh_token
    assert claims(second.access_token)["session_id"] == claims(first.access_token)["session_id"]
    rows = db.execute("select token, revoked, parent from auth.refresh_tokens"
                      " where session_id = %s order by id",
                      (claims(first.access_token)["session_id"],)).fetchall()
    assert rows == [(first.refresh_token, True, None),
                    (second.refresh_token, False, first.refresh_token)]

    with pytest.raises(AuthApiError) as excinfo:
        client(auth).refresh_session(first.refresh_token)
    assert api_error(excinfo) == (400, "refresh_token_already_used")
    assert excinfo.value.message == "Invalid Refresh Token: Already Used"
    # reuse is taken as theft: the whole session's tokens are revoked, the newest too
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).refresh_session(second.refresh_token)
    assert api_error(excinfo) == (400, "refresh_token_already_used")


def test_within_the_reuse_interval_a_rotated_token_answers_the_current_one(
        db_url: str) -> None:
    with run_auth_standin(db_url, site_url=SITE_URL, refresh_token_reuse_interval=30) as auth:
        c, first = signed_up(auth)
        second = c.refresh_session(first.refresh_token).session
        again = client(auth).refresh_session(first.refresh_token).session
        assert second is not None and again is not None
        assert again.refresh_token == second.refresh_token
        third = client(auth).refresh_session(second.refresh_token).session
        assert third is not None and third.refresh_token not in (
            first.refresh_token, second.refresh_token)
        # two tabs refreshing the same token at once both get the one child token
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(
                lambda _: client(auth).refresh_session(third.refresh_token).session, range(2)))
        assert len({a.refresh_token for a in answers if a is not None}) == 1
        assert answers[0] is not None and answers[0].refresh_token != third.refresh_token


def test_unknown_refresh_token(auth: AuthHandle) -> None:
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).refresh_session("no-such-token")
    assert api_error(excinfo) == (400, "refresh_token_not_found")


# --- the user and sign-out ----------------------------------------------------------------


def test_get_user_and_bad_tokens(auth: AuthHandle) -> None:
    c, session = signed_up(auth, name="Grace")
    got = c.get_user(session.access_token)
    assert got is not None and got.user.id == session.user.id
    assert got.user.user_metadata == {"name": "Grace"}

    forged = jwt.encode(claims(session.access_token), "another secret at least 32 bytes long",
                        algorithm="HS256")
    expired = tokens.mint(session.user.id, email=session.user.email, expires_in=-60)
    for bad in (forged, expired, ANON_KEY):
        with pytest.raises(AuthApiError) as excinfo:
            c.get_user(bad)
        assert api_error(excinfo) == (403, "bad_jwt"), bad
    missing = httpx.get(f"{auth.url}/user", headers={"X-Supabase-Api-Version": "2024-01-01"})
    assert (missing.status_code, missing.json()["code"]) == (401, "no_authorization")


def test_update_user_metadata_and_password(auth: AuthHandle) -> None:
    c, session = signed_up(auth, name="Ada", city="London")
    c.set_session(session.access_token, session.refresh_token)
    updated = c.update_user({"data": {"city": None, "lang": "en"}, "password": "a new password"})
    assert updated.user.user_metadata == {"name": "Ada", "lang": "en"}
    again = client(auth).sign_in_with_password({"email": session.user.email,
                                                 "password": "a new password"})
    assert again.user is not None and again.user.id == session.user.id


def test_sign_out_revokes_the_refresh_tokens(auth: AuthHandle, db: psycopg.Connection) -> None:
    c, session = signed_up(auth)
    c.set_session(session.access_token, session.refresh_token)
    c.sign_out()
    assert c.get_session() is None
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).refresh_session(session.refresh_token)
    assert api_error(excinfo) == (400, "refresh_token_not_found")
    # the access token is a valid JWT until it expires, but its session is gone
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).get_user(session.access_token)
    assert api_error(excinfo) == (403, "session_not_found")
    assert db.execute("select count(*) from auth.sessions where user_id = %s",
                      (session.user.id,)).fetchone() == (0,)


def test_local_sign_out_keeps_the_other_sessions(auth: AuthHandle) -> None:
    phone, laptop = signed_up(auth)
    other = client(auth).sign_in_with_password({"email": laptop.user.email,
                                                "password": PASSWORD}).session
    assert other is not None
    phone.set_session(laptop.access_token, laptop.refresh_token)
    phone.sign_out({"scope": "local"})
    with pytest.raises(AuthApiError):
        client(auth).refresh_session(laptop.refresh_token)
    kept = client(auth).refresh_session(other.refresh_token).session
    assert kept is not None


# --- admin --------------------------------------------------------------------------------


def test_admin_creates_updates_and_reads_users_with_the_service_key(auth: AuthHandle) -> None:
    email = new_email()
    created = admin(auth).create_user({
        "email": email, "password": PASSWORD, "email_confirm": True,
        "user_metadata": {"name": "Op"}, "app_metadata": {"plan": "pro"},
    }).user
    assert created.email == email and created.email_confirmed_at is not None
    assert created.app_metadata == {"provider": "email", "providers": ["email"], "plan": "pro"}
    assert admin(auth).get_user_by_id(created.id).user.id == created.id

    operator = admin(auth).update_user_by_id(created.id, {"app_metadata": {"role": "admin"}})
    assert operator.user.app_metadata["role"] == "admin"
    assert operator.user.app_metadata["plan"] == "pro"
    session = client(auth).sign_in_with_password({"email": email, "password": PASSWORD}).session
    assert session is not None
    assert claims(session.access_token)["app_metadata"]["role"] == "admin"

    with pytest.raises(AuthApiError) as excinfo:
        admin(auth).create_user({"email": email, "password": PASSWORD, "email_confirm": True})
    assert api_error(excinfo) == (422, "email_exists")
    assert any(u.id == created.id for u in admin(auth).list_users(per_page=1000))


def test_admin_created_user_without_email_confirm_cannot_sign_in(auth: AuthHandle) -> None:
    email = new_email()
    admin(auth).create_user({"email": email, "password": PASSWORD})
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).sign_in_with_password({"email": email, "password": PASSWORD})
    assert api_error(excinfo) == (400, "email_not_confirmed")


def test_admin_routes_refuse_other_keys(auth: AuthHandle) -> None:
    _, session = signed_up(auth)
    attributes = {"email": new_email(), "password": PASSWORD}
    for key in (ANON_KEY, session.access_token):
        with pytest.raises(AuthApiError) as excinfo:
            admin(auth, key).create_user(attributes)  # type: ignore[arg-type]
        assert api_error(excinfo) == (403, "not_admin")
    forged = tokens.service_role_token(secret="another secret at least 32 bytes long!")
    with pytest.raises(AuthApiError) as excinfo:
        admin(auth, forged).get_user_by_id(session.user.id)
    assert api_error(excinfo) == (403, "bad_jwt")
    no_key = httpx.get(f"{auth.url}/admin/users/{session.user.id}")
    assert (no_key.status_code, no_key.json()["error_code"]) == (401, "no_authorization")


def test_a_deleted_user_is_signed_out_everywhere(auth: AuthHandle,
                                                 db: psycopg.Connection) -> None:
    _, session = signed_up(auth)
    admin(auth).delete_user(session.user.id)
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).refresh_session(session.refresh_token)
    assert api_error(excinfo) == (400, "refresh_token_not_found")
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).get_user(session.access_token)
    assert api_error(excinfo) == (403, "user_not_found")
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).sign_in_with_password({"email": session.user.email, "password": PASSWORD})
    assert api_error(excinfo) == (400, "invalid_credentials")
    with pytest.raises(AuthApiError) as excinfo:
        admin(auth).get_user_by_id(session.user.id)
    assert api_error(excinfo) == (404, "user_not_found")
    assert db.execute("select count(*) from auth.refresh_tokens where user_id = %s",
                      (session.user.id,)).fetchone() == (0,)


# --- the access token ---------------------------------------------------------------------


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, tokens.TEST_JWT_SECRET, algorithms=["HS256"],
                      audience="authenticated", issuer=ISSUER)


def test_access_token_claims_are_supabase_shaped(auth: AuthHandle,
                                                 db: psycopg.Connection) -> None:
    _, session = signed_up(auth, name="Ada")
    assert jwt.get_unverified_header(session.access_token) == {"alg": "HS256", "typ": "JWT"}
    got = claims(session.access_token)
    assert set(got) == {"iss", "sub", "aud", "exp", "iat", "email", "phone", "role", "aal",
                        "amr", "session_id", "is_anonymous", "app_metadata", "user_metadata"}
    assert got["iss"] == ISSUER
    assert got["sub"] == session.user.id
    assert got["aud"] == "authenticated" and got["role"] == "authenticated"
    assert got["email"] == session.user.email and got["phone"] == ""
    assert got["aal"] == "aal1" and got["is_anonymous"] is False
    assert got["exp"] - got["iat"] == 3600 and abs(got["iat"] - time.time()) < 10
    assert got["exp"] == session.expires_at
    assert got["amr"] == [{"method": "password", "timestamp": got["amr"][0]["timestamp"]}]
    assert abs(got["amr"][0]["timestamp"] - got["iat"]) < 10
    assert got["app_metadata"] == {"provider": "email", "providers": ["email"]}
    assert got["user_metadata"] == {"name": "Ada"}
    assert db.execute("select user_id::text, aal::text from auth.sessions where id = %s",
                      (got["session_id"],)).fetchone() == (session.user.id, "aal1")


def test_the_access_token_works_in_the_database(auth: AuthHandle, db_url: str,
                                                api: PostgREST) -> None:
    _, session = signed_up(auth)
    with psycopg.connect(db_url) as conn:
        conn.execute("set local role authenticated")
        conn.execute("select set_config('request.jwt.claims', %s, true)",
                     (json.dumps(claims(session.access_token)),))
        row = conn.execute("select auth.uid()::text, auth.role(), auth.email()").fetchone()
        assert row == (session.user.id, "authenticated", session.user.email)
        trip = conn.execute("insert into public.trips (title) values ('Lisbon')"
                            " returning user_id::text").fetchone()
        assert trip == (session.user.id,)
        conn.rollback()
    response = api.insert("trips", {"title": "Porto"}, token=session.access_token)
    assert response.status == 201, response.body
    assert response.body[0]["user_id"] == session.user.id


# --- the command line ---------------------------------------------------------------------


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devstack.auth", *args, "--database-url", db_url,
                           "--site-url", SITE_URL], capture_output=True, text=True, timeout=60)


def test_cli_creates_users_and_operators(auth: AuthHandle, db_url: str) -> None:
    email = new_email()
    made = cli(db_url, "create-user", email, "--password", PASSWORD)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert claims(token)["email"] == email and "role" not in claims(token)["app_metadata"]
    signed_in = client(auth).sign_in_with_password({"email": email, "password": PASSWORD})
    assert signed_in.user is not None and signed_in.user.id == claims(token)["sub"]

    again = cli(db_url, "create-user", email)
    assert again.returncode == 1 and "already been registered" in again.stderr

    operator = cli(db_url, "make-operator", email)
    assert operator.returncode == 0, operator.stderr
    assert claims(operator.stdout.strip())["app_metadata"]["role"] == "admin"
    assert client(auth).get_user(operator.stdout.strip()).user.app_metadata["role"] == "admin"

    admin_user = cli(db_url, "create-user", new_email(), "--admin")
    assert admin_user.returncode == 0, admin_user.stderr
    assert claims(admin_user.stdout.strip())["app_metadata"]["role"] == "admin"
    assert cli(db_url, "make-operator", new_email()).returncode == 1


def test_supabase_create_client_signs_in_under_the_auth_v1_prefix(auth: AuthHandle) -> None:
    """`create_client(url, key)` calls `<url>/auth/v1/...`, as it would through the gateway."""
    _, session = signed_up(auth)
    supabase = create_client(auth.url, ANON_KEY,
                             options=ClientOptions(auto_refresh_token=False))
    signed_in = supabase.auth.sign_in_with_password({"email": session.user.email,
                                                      "password": PASSWORD})
    assert signed_in.user is not None and signed_in.user.id == session.user.id
    got = supabase.auth.get_user()
    assert got is not None and got.user.email == session.user.email
    supabase.auth.sign_out()
    with pytest.raises(AuthApiError) as excinfo:
        client(auth).refresh_session(signed_in.session.refresh_token)  # type: ignore[union-attr]
    assert api_error(excinfo) == (400, "refresh_token_not_found")


def test_refuses_a_database_without_the_compat_auth_tables() -> None:
    name = f"wayfare_auth_empty_{os.getpid()}"
    databases.drop(name)
    with databases.admin() as conn:
        conn.execute(f'create database "{name}"')
    try:
        url = databases.url_for(name)
        for args in (("--port", "0"), ("create-user", new_email())):
            result = cli(url, *args)
            assert result.returncode != 0
            assert "auth.users, auth.sessions, auth.refresh_tokens missing" in result.stderr
    finally:
        databases.drop(name)
