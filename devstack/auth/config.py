"""Settings of the Auth stand-in: command-line flags over environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass

from devstack.tokens import TEST_JWT_SECRET

DEFAULT_DATABASE_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres"
DEFAULT_SITE_URL = "http://127.0.0.1:54321"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    jwt_secret: str = TEST_JWT_SECRET
    site_url: str = DEFAULT_SITE_URL
    jwt_exp: int = 3600
    refresh_token_reuse_interval: int = 10
    minimum_password_length: int = 6
    admin_roles: tuple[str, ...] = ("service_role", "supabase_admin")

    @property
    def issuer(self) -> str:
        """GoTrue's `iss`: the public URL of the Auth API."""
        return f"{self.site_url.rstrip('/')}/auth/v1"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """DATABASE_URL, SUPABASE_JWT_SECRET, SUPABASE_URL, AUTH_JWT_EXP,
        AUTH_REFRESH_TOKEN_REUSE_INTERVAL; a non-None override wins."""
        values: dict[str, object] = {
            "database_url": os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            "jwt_secret": os.environ.get("SUPABASE_JWT_SECRET") or TEST_JWT_SECRET,
            "site_url": os.environ.get("SUPABASE_URL") or DEFAULT_SITE_URL,
            "jwt_exp": int(os.environ.get("AUTH_JWT_EXP") or 3600),
            "refresh_token_reuse_interval": int(
                os.environ.get("AUTH_REFRESH_TOKEN_REUSE_INTERVAL") or 10
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
