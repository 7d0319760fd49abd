"""Operators' identity (docs/ops.md, docs/api.md#conventions): Supabase access tokens
verified offline.

HS256 tokens with the legacy secret (SUPABASE_JWT_SECRET); ES256/RS256 tokens against the
project's JWKS (SUPABASE_URL + /auth/v1/.well-known/jwks.json, or SUPABASE_JWKS_URL), fetched
once and cached. Always checked: signature, `exp`, `aud` = authenticated, `iss` =
SUPABASE_URL + /auth/v1 (when SUPABASE_URL is set). Expired or invalid: 401 UNAUTHORIZED with
a hint to refresh; valid but `app_metadata.role` != admin: 403 FORBIDDEN.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import jwt
from flask import Request

from wayfare.config import Settings
from wayfare.errors import ApiError
from wayfare.logs import get_logger

log = get_logger("webhook.auth")
COOKIE = "wayfare_ops_token"
ASYMMETRIC = ("ES256", "RS256")
CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


@dataclass(frozen=True)
class Operator:
    user_id: str
    email: str | None


class TokenVerifier:
    def __init__(self, settings: Settings, jwks_url: str | None = None) -> None:
        self.secret = settings.supabase_jwt_secret
        base = (settings.supabase_url or "").rstrip("/")
        self.issuer = f"{base}/auth/v1" if base else None
        jwks_url = jwks_url or os.environ.get("SUPABASE_JWKS_URL") or (
            f"{self.issuer}/.well-known/jwks.json" if self.issuer else None)
        self.jwks: jwt.PyJWKClient | None = None
        if jwks_url:
            try:
                self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=600, timeout=5)
            except jwt.PyJWKClientError:
                log.error("auth.jwks_url_invalid")  # HS256 still works; ES256/RS256 get 401

    def claims(self, token: str) -> dict[str, Any]:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            if algorithm == "HS256" and self.secret:
                key: Any = self.secret
            elif algorithm in ASYMMETRIC and self.jwks is not None:
                key = self.jwks.get_signing_key_from_jwt(token).key
            else:
                raise jwt.InvalidAlgorithmError(f"unsupported alg {algorithm}")
            return jwt.decode(
                token, key, algorithms=[algorithm], audience="authenticated",
                issuer=self.issuer, options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise ApiError("UNAUTHORIZED", "The access token has expired: refresh the session "
                           "and try again.", headers=CHALLENGE) from exc
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise ApiError("UNAUTHORIZED", "The access token is not valid: sign in again.",
                           headers=CHALLENGE) from exc

    def operator(self, request: Request) -> Operator:
        """The operator behind a request's bearer token (or the ops page's cookie)."""
        return self.operator_for(bearer(request) or request.cookies.get(COOKIE))

    def operator_for(self, token: str | None) -> Operator:
        if not token:
            raise ApiError("UNAUTHORIZED", "Sign-in required: send an operator's access token.",
                           headers={"WWW-Authenticate": "Bearer"})
        claims = self.claims(token)
        if (claims.get("app_metadata") or {}).get("role") != "admin":
            raise ApiError("FORBIDDEN", "Operators only.")
        return Operator(user_id=str(claims["sub"]), email=claims.get("email"))


def bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
