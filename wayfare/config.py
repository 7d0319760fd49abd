"""Configuration from the environment (python-dotenv reads .env; real variables win)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_DATABASE_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it, never its value."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    supabase_url: str | None = None
    supabase_jwt_secret: str | None = field(default=None, repr=False)
    stripe_api_key: str | None = field(default=None, repr=False)
    stripe_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    stripe_api_base: str | None = None
    port: int = 8000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        if environ is None:
            load_dotenv(Path.cwd() / ".env", override=False)
            environ = os.environ
        env = {k: v for k, v in environ.items() if v != ""}
        try:
            port = int(env.get("PORT", "8000"))
        except ValueError as exc:
            raise ConfigError("PORT must be a whole number") from exc
        secrets = tuple(s.strip() for s in env.get("STRIPE_WEBHOOK_SECRET", "").split(",")
                        if s.strip())
        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            supabase_url=env.get("SUPABASE_URL"),
            supabase_jwt_secret=env.get("SUPABASE_JWT_SECRET"),
            stripe_api_key=env.get("STRIPE_API_KEY"),
            stripe_webhook_secrets=secrets,
            stripe_api_base=env.get("STRIPE_API_BASE"),
            port=port,
        )
