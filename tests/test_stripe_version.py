"""The Stripe API version (issue 13): pinned in code (wayfare/stripe_version.py) as the one the
installed stripe library pins, named in docs/deploy.md, sent by the worker's client, and checked
by the web service at start (the endpoint's settings) and on every event (`api_version`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from devstack import tokens
from devstack.stripe_double import DEFAULT_API_VERSION
from tests.harness.http import QuietHandler, Served
from tests.harness.users import create_user
from tests.webhook_helpers import make_event, post_event, run_webhook_service
from wayfare import stripe_version
from wayfare.stripe_version import STRIPE_API_VERSION

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

ROOT = Path(__file__).resolve().parents[1]
OLD = "2024-06-20"


class FakeStripe:
    """Answers GET /v1/webhook_endpoints and records every request's headers."""

    def __init__(self, endpoint_version: str | None) -> None:
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                outer.headers.append(dict(self.headers))
                if self.path.startswith("/v1/webhook_endpoints"):
                    body: dict[str, Any] = {"object": "list", "has_more": False, "data": [
                        {"id": "we_1", "object": "webhook_endpoint", "status": "enabled",
                         "url": "https://wayfare.example/webhooks/stripe",
                         "api_version": endpoint_version},
                        {"id": "we_2", "object": "webhook_endpoint", "status": "enabled",
                         "url": "https://other.example/hooks", "api_version": "2020-08-27"}]}
                else:
                    body = {"id": "pi_1", "object": "payment_intent", "status": "succeeded"}
                self.send_json(body)

        self.served = Served(Handler)
        self.url = self.served.url

    def close(self) -> None:
        self.served.close()


@pytest.fixture
def fake_stripe(request: pytest.FixtureRequest) -> Iterator[FakeStripe]:
    fake = FakeStripe(getattr(request, "param", STRIPE_API_VERSION))
    yield fake
    fake.close()


def test_the_pin_is_the_librarys_and_the_docs_name_it() -> None:
    assert STRIPE_API_VERSION == stripe.api_version == DEFAULT_API_VERSION
    assert f"**`{STRIPE_API_VERSION}`**" in (ROOT / "docs" / "deploy.md").read_text()


def test_the_worker_sends_the_pinned_version(fake_stripe: FakeStripe,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.handlers import payments

    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_pin")
    monkeypatch.setenv("STRIPE_API_BASE", fake_stripe.url)
    monkeypatch.setattr(payments, "_stripe", None)
    payments.stripe_client().v1.payment_intents.retrieve("pi_1")
    assert fake_stripe.headers[-1]["Stripe-Version"] == STRIPE_API_VERSION
    monkeypatch.setattr(payments, "_stripe", None)


@pytest.mark.parametrize("fake_stripe", [STRIPE_API_VERSION, OLD, None], indirect=True)
def test_the_endpoint_version_is_checked_at_start(fake_stripe: FakeStripe,
                                                  request: pytest.FixtureRequest) -> None:
    version = request.node.callspec.params["fake_stripe"]
    stripe_version.reset()
    wrong = stripe_version.check_endpoints("sk_test_pin", fake_stripe.url)
    assert fake_stripe.headers[0]["Authorization"].startswith("Basic ")
    if version == STRIPE_API_VERSION:
        assert wrong == [] and stripe_version.alerts() == []
    else:  # only the endpoint pointing at /webhooks/stripe counts (we_2 is someone else's)
        shown = version or "account default"
        assert wrong == [shown]
        assert "endpoint we_1" in stripe_version.alerts()[0]
        assert shown in stripe_version.alerts()[0]
    stripe_version.reset()


@pytest.mark.parametrize("fake_stripe", [OLD], indirect=True)
def test_the_web_service_reports_a_mismatch_at_start_and_per_event(
        fresh_db_url: str, fake_stripe: FakeStripe) -> None:
    env = {"STRIPE_API_KEY": "sk_test_pin", "STRIPE_API_BASE": fake_stripe.url,
           "SUPABASE_URL": "http://127.0.0.1:54321",
           "SUPABASE_JWT_SECRET": tokens.TEST_JWT_SECRET}
    with run_webhook_service(fresh_db_url, env=env) as web:
        event = make_event("customer.created", {"id": "cus_1", "object": "customer"})
        event["api_version"] = "2025-01-27.acacia"
        assert post_event(web.url, event, "whsec_test").status_code == 200  # still recorded
        admin = create_user(fresh_db_url, admin=True)
        token = tokens.mint(admin.id, email=admin.email, app_metadata={"role": "admin"})
        data = httpx.get(web.url + "/ops/data.json", timeout=10,
                         headers={"Authorization": f"Bearer {token}"}).json()
        lines = [line for line in web.log_lines()
                 if line.get("event") == "stripe.api_version_mismatch"]
    assert {line["got"] for line in lines} >= {OLD}
    assert any("2025-01-27.acacia" in alert for alert in data["alerts"]), data["alerts"]
    assert sum(1 for line in lines if line["got"] == OLD) == 1
