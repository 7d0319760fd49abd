"""What the endpoints do, as GoTrue does it: users, sessions, rotated refresh tokens, and the
access tokens and JSON objects the clients parse. The HTTP layer (app.py) and the command line
(cli.py) both call these functions inside one transaction each."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime
from typing import Any

import jwt
import psycopg

from devstack import tokens
from devstack.auth import errors, passwords, store
from devstack.auth.config import Settings
from devstack.auth.store import Row

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_APP_METADATA = {"provider": "email", "providers": ["email"]}


def timestamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def user_json(user: Row) -> dict[str, Any]:
    """The user object of GoTrue's answers (`omitempty` fields left out when unset)."""
    user_id = str(user["id"])
    body: dict[str, Any] = {
        "id": user_id,
        "aud": user["aud"] or "",
        "role": user["role"] or "",
        "email": user["email"] or "",
        "phone": user["phone"] or "",
    }
    for name in ("email_confirmed_at", "phone_confirmed_at", "confirmation_sent_at",
                 "confirmed_at", "invited_at", "last_sign_in_at"):
        if user[name] is not None:
            body[name] = timestamp(user[name])
    body["app_metadata"] = user["raw_app_meta_data"] or {}
    body["user_metadata"] = user["raw_user_meta_data"] or {}
    body["identities"] = [_email_identity(user)] if user["email"] else []
    body["created_at"] = timestamp(user["created_at"])
    body["updated_at"] = timestamp(user["updated_at"])
    body["is_anonymous"] = bool(user["is_anonymous"])
    return body


def _email_identity(user: Row) -> dict[str, Any]:
    """GoTrue stores one auth.identities row per provider; the stand-in derives the email one."""
    user_id = str(user["id"])
    return {
        "identity_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"email-identity:{user_id}")),
        "id": user_id,
        "user_id": user_id,
        "identity_data": {
            "email": user["email"],
            "email_verified": user["email_confirmed_at"] is not None,
            "phone_verified": False,
            "sub": user_id,
        },
        "provider": "email",
        "last_sign_in_at": timestamp(user["last_sign_in_at"]),
        "created_at": timestamp(user["created_at"]),
        "updated_at": timestamp(user["updated_at"]),
        "email": user["email"],
    }


def access_token(settings: Settings, user: Row, session: Row) -> str:
    return tokens.mint(
        str(user["id"]),
        email=user["email"] or "",
        phone=user["phone"] or "",
        role=user["role"] or "authenticated",
        audience=user["aud"] or "authenticated",
        expires_in=settings.jwt_exp,
        app_metadata=user["raw_app_meta_data"] or {},
        user_metadata=user["raw_user_meta_data"] or {},
        secret=settings.jwt_secret,
        issuer=settings.issuer,
        session_id=str(session["id"]),
        signed_in_at=int(session["created_at"].timestamp()),
    )


def session_json(settings: Settings, user: Row, session: Row, refresh_token: str) -> dict[str, Any]:
    token = access_token(settings, user, session)
    expires_at = int(jwt.decode(token, options={"verify_signature": False})["exp"])
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": settings.jwt_exp,
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": user_json(user),
    }


# --- validation --------------------------------------------------------------------------


def normal_email(value: Any) -> str:
    if not isinstance(value, str) or not EMAIL.match(value.strip()):
        raise errors.validation_failed("Unable to validate email address: invalid format")
    return value.strip().lower()


def check_new_password(settings: Settings, value: Any) -> str:
    if not isinstance(value, str):
        raise errors.validation_failed("Password must be a string", 422)
    if len(value.encode()) > passwords.MAX_BYTES:
        raise errors.validation_failed("Password cannot be longer than 72 characters", 422)
    if len(value) < settings.minimum_password_length:
        raise errors.weak_password(settings.minimum_password_length)
    return value


def metadata(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.validation_failed(f"{name} must be a JSON object")
    return value


def merged(current: dict[str, Any] | None, changes: dict[str, Any]) -> dict[str, Any]:
    """GoTrue's metadata update: top-level keys replaced, a null value removes its key."""
    result = dict(current or {})
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


# --- users and sessions ------------------------------------------------------------------


def create_user(conn: psycopg.Connection[Row], settings: Settings, *, email: str,
                password: str | None, confirmed: bool,
                app_metadata: dict[str, Any] | None = None,
                user_metadata: dict[str, Any] | None = None,
                duplicate: errors.AuthError | None = None) -> Row:
    hashed = passwords.hash_password(password) if password is not None else None
    try:
        with conn.transaction():
            return store.insert_user(
                conn, email=email, phone=None, encrypted_password=hashed, confirmed=confirmed,
                app_metadata={**DEFAULT_APP_METADATA, **(app_metadata or {})},
                user_metadata=user_metadata or {},
            )
    except psycopg.errors.UniqueViolation as exc:
        raise (duplicate or errors.email_exists()) from exc


def sign_in(conn: psycopg.Connection[Row], settings: Settings, user: Row) -> dict[str, Any]:
    """A new session for the user: auth.sessions row, first refresh token, tokens out."""
    store.touch_sign_in(conn, str(user["id"]))
    session = store.create_session(conn, str(user["id"]))
    refresh = store.insert_refresh_token(
        conn, user_id=str(user["id"]), session_id=str(session["id"]), parent=None
    )
    fresh = store.user_by_id(conn, str(user["id"]))
    assert fresh is not None
    return session_json(settings, fresh, session, refresh)


def password_grant(conn: psycopg.Connection[Row], settings: Settings,
                   body: dict[str, Any]) -> dict[str, Any]:
    email, password = body.get("email"), body.get("password")
    if not isinstance(password, str) or not isinstance(email, str) or not email:
        if body.get("phone"):
            raise errors.invalid_credentials()
        raise errors.validation_failed("missing email or phone")
    user = store.user_by_email(conn, email.strip())
    if not passwords.check_password(password, user["encrypted_password"] if user else None):
        raise errors.invalid_credentials()
    assert user is not None
    if user["banned_until"] is not None and user["banned_until"].timestamp() > time.time():
        raise errors.AuthError(400, "user_banned", "User is banned")
    if user["email_confirmed_at"] is None:
        raise errors.email_not_confirmed()
    return sign_in(conn, settings, user)


def refresh_grant(conn: psycopg.Connection[Row], settings: Settings,
                  body: dict[str, Any]) -> dict[str, Any] | errors.AuthError:
    """Rotate: the presented token is revoked and a child issued. Returns (not raises) the
    reuse error, so the caller commits the revocation of the session's tokens first."""
    presented = body.get("refresh_token")
    if not isinstance(presented, str) or not presented:
        raise errors.validation_failed("refresh_token required")
    token = store.lock_refresh_token(conn, presented)
    if token is None or token["session_id"] is None:
        raise errors.refresh_token_not_found()
    session = store.session_by_id(conn, str(token["session_id"]))
    user = store.user_by_id(conn, str(token["user_id"]))
    if session is None or user is None:
        raise errors.refresh_token_not_found()
    if user["banned_until"] is not None and user["banned_until"].timestamp() > time.time():
        raise errors.AuthError(400, "user_banned", "Invalid Refresh Token: User Banned")
    if token["revoked"]:
        child = store.active_child(conn, token["token"], str(session["id"]))
        interval = settings.refresh_token_reuse_interval
        if child and interval > 0 and store.revoked_within(conn, token["id"], interval):
            return session_json(settings, user, session, child["token"])
        store.revoke_session_tokens(conn, str(session["id"]))
        return errors.refresh_token_already_used()
    store.revoke(conn, token["id"])
    child_token = store.insert_refresh_token(
        conn, user_id=str(user["id"]), session_id=str(session["id"]), parent=token["token"]
    )
    store.mark_refreshed(conn, str(session["id"]))
    return session_json(settings, user, session, child_token)


def claims_of(settings: Settings, bearer: str | None) -> dict[str, Any]:
    if not bearer:
        raise errors.no_authorization()
    try:
        return tokens.verify(bearer, secret=settings.jwt_secret)
    except jwt.PyJWTError as exc:
        raise errors.bad_jwt(str(exc)) from exc


def authenticated(conn: psycopg.Connection[Row], settings: Settings,
                  bearer: str | None) -> tuple[Row, dict[str, Any]]:
    """GoTrue's requireAuthentication: a valid token whose user (and session) still exist."""
    claims = claims_of(settings, bearer)
    sub = claims.get("sub")
    if not sub:
        raise errors.bad_jwt("invalid claim: missing sub claim")
    try:
        uuid.UUID(str(sub))
    except ValueError as exc:
        raise errors.bad_jwt("invalid claim: sub claim must be a UUID") from exc
    user = store.user_by_id(conn, str(sub))
    if user is None:
        raise errors.user_not_found_from_jwt()
    session_id = claims.get("session_id")
    if session_id:
        try:
            found = store.session_by_id(conn, str(uuid.UUID(str(session_id))))
        except ValueError:
            found = None
        if found is None:
            raise errors.session_not_found()
    return user, claims


def require_admin(settings: Settings, bearer: str | None) -> dict[str, Any]:
    claims = claims_of(settings, bearer)
    if claims.get("role") not in settings.admin_roles:
        raise errors.not_admin()
    return claims


def make_operator(conn: psycopg.Connection[Row], user: Row) -> Row:
    changed = store.update_user(
        conn, str(user["id"]),
        raw_app_meta_data=merged(user["raw_app_meta_data"], {"role": "admin"}),
    )
    assert changed is not None
    return changed
