"""Unsafe defaults (issue 10 #9): with WAYFARE_ENV=production the worker and the web service
refuse Supabase's well-known local JWT secret, a missing Stripe key or webhook secret, and the
Stripe double, with a message naming the settings (never their values)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack import tokens
from wayfare.config import WELL_KNOWN_JWT_SECRETS, ConfigError, Settings
from webhook.__main__ import options

ROOT = Path(__file__).resolve().parents[1]
SAFE = {
    "WAYFARE_ENV": "production",
    "SUPABASE_JWT_SECRET": "a-real-project-secret-of-more-than-32-characters-0123",
    "STRIPE_API_KEY": "sk_live_abcdefghijklmnop",
    "STRIPE_WEBHOOK_SECRET": "whsec_abcdefghijklmnop",
}


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_the_well_known_secret_is_the_one_devstack_and_env_example_use() -> None:
    assert tokens.TEST_JWT_SECRET in WELL_KNOWN_JWT_SECRETS
    assert env_example()["SUPABASE_JWT_SECRET"] in WELL_KNOWN_JWT_SECRETS


def test_development_accepts_the_local_defaults() -> None:
    settings = Settings.from_env(env_example())
    assert settings.environment == "development" and not settings.production
    assert settings.web_host == "127.0.0.1" and settings.metrics_token is None
    assert Settings.from_env({**env_example(), "WAYFARE_ENV": "test"}).environment == "test"


def test_production_accepts_real_settings() -> None:
    settings = Settings.from_env(SAFE)
    assert settings.production and settings.production_problems() == []
    # ES256/RS256 only: no legacy secret at all is fine
    no_secret = {k: v for k, v in SAFE.items() if k != "SUPABASE_JWT_SECRET"}
    assert Settings.from_env(no_secret).production_problems() == []


@pytest.mark.parametrize(("change", "named"), [
    ({"SUPABASE_JWT_SECRET": tokens.TEST_JWT_SECRET}, "SUPABASE_JWT_SECRET is the well-known"),
    ({"SUPABASE_JWT_SECRET": "short"}, "SUPABASE_JWT_SECRET is shorter"),
    ({"STRIPE_API_KEY": ""}, "STRIPE_API_KEY is missing"),
    ({"STRIPE_API_KEY": "sk_test_replace_me"}, "STRIPE_API_KEY is missing"),
    ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET is missing"),
    ({"STRIPE_WEBHOOK_SECRET": "whsec_replace_me"}, "STRIPE_WEBHOOK_SECRET is missing"),
    ({"STRIPE_API_BASE": "http://127.0.0.1:12111"}, "STRIPE_API_BASE is set"),
])
def test_production_refuses_unsafe_defaults(change: dict[str, str], named: str) -> None:
    environ = {**SAFE, **change}
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ)
    message = str(caught.value)
    assert message.startswith("refusing to start with WAYFARE_ENV=production: ")
    assert named in message
    for value in change.values():  # the message names settings, never their values
        if len(value) > 8:
            assert value not in message
    # the same settings are fine outside production
    Settings.from_env({**environ, "WAYFARE_ENV": "development"})


def test_each_service_checks_what_it_uses() -> None:
    no_hook = {**SAFE, "STRIPE_WEBHOOK_SECRET": ""}
    Settings.from_env(no_hook, service="worker")
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        Settings.from_env(no_hook, service="web")
    no_key = {**SAFE, "STRIPE_API_KEY": ""}
    Settings.from_env(no_key, service="web")
    with pytest.raises(ConfigError, match="STRIPE_API_KEY"):
        Settings.from_env(no_key, service="worker")


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"WAYFARE_ENV": "production",
                           "SUPABASE_JWT_SECRET": tokens.TEST_JWT_SECRET})
    message = str(caught.value)
    for name in ("SUPABASE_JWT_SECRET", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"):
        assert name in message


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="WAYFARE_ENV must be one of"):
        Settings.from_env({"WAYFARE_ENV": "prod"})


def test_bind_address_default_and_setting() -> None:
    assert options(Settings.from_env({}))["bind"] == "127.0.0.1:8000"
    moved = Settings.from_env({"WAYFARE_WEB_HOST": "0.0.0.0", "PORT": "9000"})  # noqa: S104
    assert options(moved)["bind"] == "0.0.0.0:9000"


def run_module(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("STRIPE_", "SUPABASE_", "WAYFARE_", "METRICS_"))}
    environment.update(env)
    environment["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", module], cwd="/", env=environment,
                          capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.slow  # starts each service as a process
@pytest.mark.parametrize("module", ["webhook", "worker"])
def test_services_refuse_to_start_with_env_example_in_production(module: str) -> None:
    """Both processes, started with .env.example's values and WAYFARE_ENV=production, exit 2
    at once with a message naming the well-known secret (and never printing it)."""
    env = {**env_example(), "WAYFARE_ENV": "production", "PORT": "1"}
    done = run_module(module, env)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "refusing to start with WAYFARE_ENV=production" in output
    assert "SUPABASE_JWT_SECRET is the well-known secret" in output
    assert tokens.TEST_JWT_SECRET not in output
