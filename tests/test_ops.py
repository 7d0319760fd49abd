"""The operators' side of the web service (docs/ops.md): offline token verification
(HS256 secret, ES256 via JWKS), 401/403, the /ops page and its data, alerts, and the
database-derived series of /metrics. The web service runs as a real process."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from devstack import tokens
from tests.harness.http import QuietHandler, Served
from tests.harness.users import User, create_user
from tests.webhook_helpers import WebhookService, run_webhook_service

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

SUPABASE_URL = "http://127.0.0.1:54321"
ES256_KID = "wayfare-test-key"


@pytest.fixture(scope="module")
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def jwks_url(signing_key: ec.EllipticCurvePrivateKey) -> Iterator[str]:
    """The project's JWKS, served over HTTP as Supabase Auth serves it."""
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(signing_key.public_key()))
    keys = {"keys": [{**public, "kid": ES256_KID, "alg": "ES256", "use": "sig"}]}

    class JWKS(QuietHandler):
        def do_GET(self) -> None:
            self.send_json(keys)

    with Served(JWKS) as server:
        yield server.url + "/auth/v1/.well-known/jwks.json"


@pytest.fixture
def web(fresh_db_url: str, jwks_url: str) -> Iterator[tuple[WebhookService, str]]:
    env = {"SUPABASE_URL": SUPABASE_URL, "SUPABASE_JWT_SECRET": tokens.TEST_JWT_SECRET,
           "SUPABASE_JWKS_URL": jwks_url, "OPS_OLDEST_QUEUED_ALERT_S": "120"}
    with run_webhook_service(fresh_db_url, env=env) as service:
        yield service, fresh_db_url


def admin(url: str) -> User:
    return create_user(url, admin=True)


def get(service: WebhookService, path: str, token: str | None = None,
        accept: str = "application/json", **kwargs: object) -> httpx.Response:
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.get(service.url + path, headers=headers, timeout=10, **kwargs)


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["metadata"]["requestId"] == response.headers["X-Request-ID"]
    return body


def test_no_token_is_401(web: tuple[WebhookService, str]) -> None:
    service, _ = web
    assert_envelope(get(service, "/ops"), 401, "UNAUTHORIZED")
    page = get(service, "/ops", accept="text/html")
    assert page.status_code == 401 and '<form method="post" action="/ops/login">' in page.text


def test_expired_token_is_401_with_a_hint_to_refresh(web: tuple[WebhookService, str]) -> None:
    service, url = web
    user = admin(url)
    body = assert_envelope(get(service, "/ops", user.token_with(
        expires_in=-10, issuer=f"{SUPABASE_URL}/auth/v1",
        app_metadata={"role": "admin"})), 401, "UNAUTHORIZED")
    assert "refresh" in body["error"]["message"]


@pytest.mark.parametrize("change", [
    {"issuer": "https://evil.example/auth/v1"},
    {"audience": "somebody-else"},
    {"secret": "another-secret-with-enough-characters-in-it"},
])
def test_invalid_tokens_are_401(web: tuple[WebhookService, str], change: dict) -> None:
    service, url = web
    user = admin(url)
    token = tokens.mint(user.id, email=user.email, app_metadata={"role": "admin"},
                        **{"issuer": f"{SUPABASE_URL}/auth/v1", **change})
    assert_envelope(get(service, "/ops/data.json", token), 401, "UNAUTHORIZED")


def test_valid_user_who_is_not_an_operator_is_403(web: tuple[WebhookService, str]) -> None:
    service, url = web
    user = create_user(url)
    assert_envelope(get(service, "/ops", user.token), 403, "FORBIDDEN")


def test_es256_tokens_are_verified_against_the_jwks(
        web: tuple[WebhookService, str], signing_key: ec.EllipticCurvePrivateKey) -> None:
    service, url = web
    user = admin(url)
    now = int(time.time())
    claims = {"sub": user.id, "aud": "authenticated", "iss": f"{SUPABASE_URL}/auth/v1",
              "exp": now + 600, "iat": now, "role": "authenticated",
              "app_metadata": {"role": "admin"}}
    good = jwt.encode(claims, signing_key, algorithm="ES256", headers={"kid": ES256_KID})
    assert get(service, "/ops/data.json", good).status_code == 200
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": ES256_KID})
    assert_envelope(get(service, "/ops/data.json", forged), 401, "UNAUTHORIZED")


def test_ops_page_and_data(web: tuple[WebhookService, str]) -> None:
    service, url = web
    user = admin(url)
    with psycopg.connect(url, autocommit=True) as conn:
        # 19 completed and 1 failed demo jobs in the last hour, and one queued for 10 minutes
        for i in range(20):
            conn.execute(
                "insert into public.jobs (user_id, type, status, created_at, started_at, "
                "completed_at, attempts) values (%s, 'demo.noop', %s, now() - interval '5 min', "
                "now() - interval '5 min' + interval '1 second', now() - interval '4 min', 1)",
                (user.id, "failed" if i == 0 else "completed"))
        conn.execute("insert into public.jobs (user_id, type, created_at, run_at) values "
                     "(%s, 'demo.noop', now() - interval '10 min', now() - interval '10 min')",
                     (user.id,))
    data = get(service, "/ops/data.json", user.token).json()
    snap = data["snapshot"]
    assert (snap["jobs"]["completed"], snap["jobs"]["failed"]) == (19, 1)
    assert snap["queue"]["queued"] == 1 and snap["queue"]["oldest_queued_seconds"] >= 590
    assert any("oldest queued job" in a for a in data["alerts"])
    assert not any("error rate" in a for a in data["alerts"])  # 1 of 20 is 5 %: not over
    page = get(service, "/ops", user.token, accept="text/html")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    for heading in ("Queue", "Job latency", "Error rates", "AI token use", "Stripe webhooks",
                    "Active alerts"):
        assert heading in page.text
    assert page.text.count("<svg") >= 2  # latency per minute, failed jobs per minute


def test_error_rate_alert(web: tuple[WebhookService, str]) -> None:
    service, url = web
    user = admin(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for status in ("failed", "failed", "completed"):
            conn.execute(
                "insert into public.jobs (user_id, type, status, created_at, started_at, "
                "completed_at) values (%s, 'demo.noop', %s, now(), now(), now())",
                (user.id, status))
    alerts = get(service, "/ops/data.json", user.token).json()["alerts"]
    assert any("job error rate 66.7%" in a for a in alerts)


def test_browser_login_sets_a_strict_cookie(web: tuple[WebhookService, str]) -> None:
    service, url = web
    user = admin(url)
    response = httpx.post(service.url + "/ops/login", data={"token": user.token}, timeout=10)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = httpx.get(service.url + "/ops", cookies=response.cookies,
                     headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and "Wayfare operations" in page.text
    bad = httpx.post(service.url + "/ops/login", data={"token": str(uuid.uuid4())}, timeout=10)
    assert bad.status_code == 401 and "set-cookie" not in bad.headers


def test_metrics_include_database_series(web: tuple[WebhookService, str]) -> None:
    service, url = web
    user = create_user(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("insert into public.jobs (user_id, type) values (%s, 'demo.noop')",
                     (user.id,))
    text = httpx.get(service.url + "/metrics", timeout=10).text
    assert "wayfare_ops_snapshot_up 1.0" in text
    assert 'wayfare_queue_depth{status="queued",type="demo.noop"} 1.0' in text
    assert "wayfare_queue_oldest_age_seconds" in text
