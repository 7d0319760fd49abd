"""Configuration from the environment (python-dotenv reads .env; real variables win).

WAYFARE_ENV says where a process runs: `development` (the default), `test` or `production`.
In production the processes refuse to start on unsafe defaults (`production_problems`):
Supabase's well-known local JWT secret (the one in .env.example and `supabase start`), a
missing or placeholder Stripe key (worker) or webhook secret (web service), or the Stripe
double's STRIPE_API_BASE. The message names the settings, never their values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_DATABASE_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres"


def default_database_url(environ: Mapping[str, str]) -> str:
    """The local cluster's URL; its port follows WAYFARE_PG_PORT (as in scripts/stack.sh)."""
    port = environ.get("WAYFARE_PG_PORT", "").strip() or "54322"
    if not port.isdigit():
        raise ConfigError("WAYFARE_PG_PORT must be a whole number")
    return f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres"

ENVIRONMENTS = ("development", "test", "production")
# Supabase's local stack signs with this (it is public: every `supabase start` uses it, and
# .env.example ships it); a production project that kept it would accept anyone's tokens
WELL_KNOWN_JWT_SECRETS = frozenset({
    "super-secret-jwt-token-with-at-least-32-characters-long",
})
PLACEHOLDERS = frozenset({"sk_test_replace_me", "whsec_replace_me"})
SERVICES = ("worker", "web")


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
    environment: str = "development"
    web_host: str = "127.0.0.1"
    metrics_token: str | None = field(default=None, repr=False)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    def production_problems(self, service: str | None = None) -> list[str]:
        """What makes these settings unsafe for production (empty outside production). For
        `service` "worker" the webhook secret is not needed, for "web" the Stripe key is not;
        None checks everything."""
        if not self.production:
            return []
        problems = []
        secret = self.supabase_jwt_secret
        if secret in WELL_KNOWN_JWT_SECRETS:
            problems.append("SUPABASE_JWT_SECRET is the well-known secret of Supabase's local "
                            "stack: set the project's JWT secret (Dashboard > Project Settings "
                            "> API), or leave it empty to accept only ES256/RS256 tokens")
        elif secret is not None and len(secret) < 32:
            problems.append("SUPABASE_JWT_SECRET is shorter than 32 characters")
        if service != "web" and (not self.stripe_api_key
                                 or self.stripe_api_key in PLACEHOLDERS):
            problems.append("STRIPE_API_KEY is missing or the .env.example placeholder")
        if service != "worker" and (not self.stripe_webhook_secrets or any(
                s in PLACEHOLDERS for s in self.stripe_webhook_secrets)):
            problems.append("STRIPE_WEBHOOK_SECRET is missing or the .env.example placeholder")
        if service != "web" and self.stripe_api_base:
            problems.append("STRIPE_API_BASE is set (it points Stripe calls at a local double; "
                            "tests only)")
        return problems

    def check_production(self, service: str | None = None) -> None:
        """Raise ConfigError naming every unsafe setting when WAYFARE_ENV=production."""
        problems = self.production_problems(service)
        if problems:
            raise ConfigError("refusing to start with WAYFARE_ENV=production: "
                              + "; ".join(problems) + ".")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *,
                 service: str | None = None) -> Settings:
        """The settings; with WAYFARE_ENV=production also checked (check_production) for
        `service` ("worker", "web", or None for both)."""
        if environ is None:
            load_dotenv(Path.cwd() / ".env", override=False)
            environ = os.environ
        env = {k: v for k, v in environ.items() if v != ""}
        try:
            port = int(env.get("PORT", "8000"))
        except ValueError as exc:
            raise ConfigError("PORT must be a whole number") from exc
        environment = env.get("WAYFARE_ENV", "development").strip().lower()
        if environment not in ENVIRONMENTS:
            raise ConfigError("WAYFARE_ENV must be one of " + ", ".join(ENVIRONMENTS))
        secrets = tuple(s.strip() for s in env.get("STRIPE_WEBHOOK_SECRET", "").split(",")
                        if s.strip())
        settings = cls(
            database_url=env.get("DATABASE_URL") or default_database_url(env),
            supabase_url=env.get("SUPABASE_URL"),
            supabase_jwt_secret=env.get("SUPABASE_JWT_SECRET"),
            stripe_api_key=env.get("STRIPE_API_KEY"),
            stripe_webhook_secrets=secrets,
            stripe_api_base=env.get("STRIPE_API_BASE"),
            port=port,
            environment=environment,
            web_host=env.get("WAYFARE_WEB_HOST", "127.0.0.1").strip(),
            metrics_token=env.get("METRICS_TOKEN"),
        )
        settings.check_production(service)
        return settings
