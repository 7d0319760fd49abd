"""Supabase-shaped access tokens, minted and verified with the project's test secret."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

# The secret of Supabase's local stack; tests and `make run` use it, production never does.
TEST_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"  # noqa: S105
TEST_ISSUER = "http://127.0.0.1:54321/auth/v1"


def mint(
    user_id: str | None,
    *,
    email: str | None = None,
    role: str = "authenticated",
    expires_in: int = 3600,
    app_metadata: dict[str, Any] | None = None,
    secret: str = TEST_JWT_SECRET,
    audience: str = "authenticated",
    issuer: str = TEST_ISSUER,
    session_id: str | None = None,
    user_metadata: dict[str, Any] | None = None,
    phone: str | None = None,
    signed_in_at: int | None = None,
) -> str:
    """A token as Supabase Auth issues it (HS256, the legacy shared secret). The Auth
    stand-in (devstack/auth) passes its session id, metadata, phone and sign-in time."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "exp": now + expires_in,
        "iat": now,
        "role": role,
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": signed_in_at or now}],
        "session_id": session_id or str(uuid.uuid4()),
        "is_anonymous": False,
        "app_metadata": app_metadata or {"provider": "email", "providers": ["email"]},
        "user_metadata": user_metadata or {},
    }
    if user_id is not None:
        claims["sub"] = user_id
    if email is not None:
        claims["email"] = email
    if phone is not None:
        claims["phone"] = phone
    return jwt.encode(claims, secret, algorithm="HS256")


def service_role_token(secret: str = TEST_JWT_SECRET) -> str:
    now = int(time.time())
    claims = {"iss": "supabase-demo", "role": "service_role", "iat": now, "exp": now + 3600}
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(token: str, secret: str = TEST_JWT_SECRET) -> dict[str, Any]:
    """Verify as PostgREST does: signature, exp, and aud when the token names one."""
    return jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience="authenticated",
        options={"verify_aud": _has_audience(token)},
        leeway=0,
    )


def _has_audience(token: str) -> bool:
    return "aud" in jwt.decode(token, options={"verify_signature": False})
