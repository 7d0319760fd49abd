"""The Stripe double, exercised with the real ``stripe`` library against a real subprocess."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from devstack.stripe_double import StripeDoubleHandle, run_stripe_double
from devstack.stripe_double.forms import parse_form
from tests.harness.http import QuietHandler, Served

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

SECRET = "whsec_test_double"
BOOKING = {"amount": 2000, "currency": "usd", "metadata": {"booking_id": "bk_42"}}


# ----------------------------------------------------------------------------- fixtures
class Receiver:
    """A tiny webhook endpoint: records deliveries, answers queued statuses (then 200)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], str]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.read_body().decode()
                receiver.received.append((dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.served = Served(Handler)
        self.url = self.served.url + "/stripe/webhook"

    def types(self) -> list[str]:
        return [json.loads(body)["type"] for _, body in self.received]

    def close(self) -> None:
        self.served.close()


@pytest.fixture(scope="module")
def running() -> Iterator[StripeDoubleHandle]:
    with run_stripe_double() as handle:
        yield handle


@pytest.fixture
def double(running: StripeDoubleHandle) -> StripeDoubleHandle:
    running.reset()
    running.configure(webhook_url=None, webhook_secret=None, deliver=True, webhook_retry_delay=0.05)
    return running


@pytest.fixture
def client(double: StripeDoubleHandle) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_x", base_addresses={"api": double.url}, max_network_retries=0
    )


@pytest.fixture
def receiver(double: StripeDoubleHandle) -> Iterator[Receiver]:
    receiver = Receiver()
    double.configure(webhook_url=receiver.url, webhook_secret=SECRET)
    yield receiver
    receiver.close()


def create(client: stripe.StripeClient, key: str | None = None, **params: Any) -> Any:
    options: Any = {"idempotency_key": key} if key else {}
    return client.v1.payment_intents.create(params={**BOOKING, **params}, options=options)


# -------------------------------------------------------------------------- wire format
def test_parse_form_bracket_notation() -> None:
    parsed = parse_form("a=1&metadata[k]=v&e[]=x&e[]=y&l[0][k]=v&l[1][k]=w&n[o][p]=")
    assert parsed == {
        "a": "1",
        "metadata": {"k": "v"},
        "e": ["x", "y"],
        "l": [{"k": "v"}, {"k": "w"}],
        "n": {"o": {"p": ""}},
    }


def test_create_round_trips_amount_currency_metadata(
    double: StripeDoubleHandle, client: stripe.StripeClient
) -> None:
    pi = create(client, automatic_payment_methods={"enabled": True}, description="Hotel")
    assert pi.id.startswith("pi_") and pi.object == "payment_intent"
    assert (pi.amount, pi.currency, pi.metadata.to_dict()) == (2000, "usd", {"booking_id": "bk_42"})
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(f"{pi.id}_secret_")
    assert pi.automatic_payment_methods.enabled is True
    assert pi.latest_charge is None and pi.last_payment_error is None and pi.livemode is False
    [request] = double.requests(method="POST")
    assert request["path"] == "/v1/payment_intents"
    assert request["params"]["metadata"] == {"booking_id": "bk_42"}
    assert request["params"]["automatic_payment_methods"] == {"enabled": "true"}
    assert request["idempotency_key"]  # the library always sends one on POST
    assert [e["type"] for e in double.events()] == ["payment_intent.created"]


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"currency": "usd"}, "parameter_missing", "amount"),
        ({"amount": 2000}, "parameter_missing", "currency"),
        ({"amount": 49, "currency": "usd"}, "amount_too_small", "amount"),
        ({"amount": "12.5", "currency": "usd"}, "parameter_invalid_integer", "amount"),
        ({**BOOKING, "amout": 1}, "parameter_unknown", "amout"),
    ],
)
def test_validation_errors_have_stripes_shape(
    double: StripeDoubleHandle, client: stripe.StripeClient, params: dict, code: str, param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params=params)
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (400, code, param)
    assert caught.value.json_body["error"]["type"] == "invalid_request_error"
    assert double.payment_intents() == []


# ------------------------------------------------------------------------- idempotency
def test_same_key_same_params_replays_and_creates_nothing(
    double: StripeDoubleHandle, client: stripe.StripeClient
) -> None:
    first = create(client, key="booking-bk_42")
    again = create(client, key="booking-bk_42")
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert first.last_response.headers.get("Idempotent-Replayed") is None
    assert len(double.payment_intents()) == 1
    assert len(double.events("payment_intent.created")) == 1
    assert [r["replayed"] for r in double.requests(method="POST")] == [False, True]


def test_key_reuse_with_different_params_is_an_idempotency_error(
    double: StripeDoubleHandle, client: stripe.StripeClient
) -> None:
    create(client, key="k-1")
    with pytest.raises(stripe.IdempotencyError):
        create(client, key="k-1", amount=3000)
    assert len(double.payment_intents()) == 1


def test_library_generated_keys_do_not_dedupe(
    double: StripeDoubleHandle, client: stripe.StripeClient
) -> None:
    create(client)
    create(client)
    keys = {r["idempotency_key"] for r in double.requests(method="POST")}
    assert len(keys) == 2 and len(double.payment_intents()) == 2


def test_concurrent_requests_with_one_key_create_one_intent(
    double: StripeDoubleHandle, client: stripe.StripeClient
) -> None:
    ids: list[str] = []
    threads = [
        threading.Thread(target=lambda: ids.append(create(client, key="race").id)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1 and len(ids) == 8
    assert len(double.payment_intents()) == 1


# --------------------------------------------------------------- retrieve, 404, auth
def test_retrieve_and_unknown_ids(client: stripe.StripeClient) -> None:
    pi = create(client)
    assert client.v1.payment_intents.retrieve(pi.id).to_dict() == pi.to_dict()
    for call in (
        lambda: client.v1.payment_intents.retrieve("pi_missing"),
        lambda: client.v1.refunds.retrieve("re_missing"),
        lambda: client.v1.events.retrieve("evt_missing"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call()
        assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_missing_or_invalid_api_key(double: StripeDoubleHandle) -> None:
    response = httpx.post(f"{double.url}/v1/payment_intents", data={"amount": 2000})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    bad = stripe.StripeClient("pk_test_x", base_addresses={"api": double.url})
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.payment_intents.retrieve("pi_x")
    assert double.payment_intents() == []


def test_legacy_global_api_base(
    double: StripeDoubleHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe, "api_base", double.url)
    monkeypatch.setattr(stripe, "api_key", "sk_test_legacy")
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    pi = stripe.PaymentIntent.create(amount=5000, currency="eur", metadata={"booking_id": "b"})
    assert stripe.PaymentIntent.retrieve(pi.id).amount == 5000
    assert stripe.PaymentIntent.cancel(pi.id).status == "canceled"


# ------------------------------------------------------------------ state transitions
def test_cancel_then_cancel_again(double: StripeDoubleHandle, client: stripe.StripeClient) -> None:
    pi = create(client)
    canceled = client.v1.payment_intents.cancel(
        pi.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "requested_by_customer")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.cancel(pi.id)
    assert caught.value.code == "payment_intent_unexpected_state"
    assert [e["type"] for e in double.events()][-1] == "payment_intent.canceled"


def test_process_fail_then_succeed(double: StripeDoubleHandle, client: stripe.StripeClient) -> None:
    pi = create(client)
    assert double.process(pi.id)["status"] == "processing"
    failed = double.fail(pi.id, "card_declined", "Your card was declined.")
    assert failed["status"] == "requires_payment_method"
    assert failed["last_payment_error"]["code"] == "card_declined"
    succeeded = double.succeed(pi.id)
    assert succeeded["status"] == "succeeded" and succeeded["latest_charge"].startswith("ch_")
    assert succeeded["last_payment_error"] is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(pi.id)
    types = [e["type"] for e in double.events()]
    assert types == [
        "payment_intent.created",
        "payment_intent.processing",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    created = [e["created"] for e in double.events()]
    assert created == sorted(set(created))  # strictly increasing


def test_confirm_with_declining_test_card_raises_card_error(client: stripe.StripeClient) -> None:
    pi = create(client)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.confirm(
            pi.id, params={"payment_method": "pm_card_chargeDeclinedInsufficientFunds"}
        )
    assert caught.value.code == "card_declined"
    assert caught.value.error.decline_code == "insufficient_funds"
    confirmed = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded"


def test_manual_capture(client: stripe.StripeClient) -> None:
    pi = create(client, capture_method="manual", confirm=True, payment_method="pm_card_visa")
    assert (pi.status, pi.amount_capturable) == ("requires_capture", 2000)
    captured = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 1500})
    assert (captured.status, captured.amount_received) == ("succeeded", 1500)


def test_refund_marks_charge_refunded_and_emits_event(
    double: StripeDoubleHandle, client: stripe.StripeClient
) -> None:
    pi = create(client)
    with pytest.raises(stripe.InvalidRequestError):  # nothing to refund yet
        client.v1.refunds.create(params={"payment_intent": pi.id})
    double.succeed(pi.id)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.id.startswith("re_") and refund.status == "succeeded"
    assert (refund.amount, refund.payment_intent) == (2000, pi.id)
    assert client.v1.refunds.retrieve(refund.id).id == refund.id
    [event] = double.events("charge.refunded")
    charge = event["data"]["object"]
    assert (charge["object"], charge["payment_intent"]) == ("charge", pi.id)
    assert (charge["amount_refunded"], charge["refunded"]) == (2000, True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert caught.value.code == "charge_already_refunded"
    expanded = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert expanded.latest_charge.refunded is True


def test_events_list_and_retrieve(double: StripeDoubleHandle, client: stripe.StripeClient) -> None:
    pi = create(client, key="evt-key")
    double.succeed(pi.id)
    listed = client.v1.events.list(params={"type": "payment_intent.*", "limit": 1})
    assert listed.has_more and listed.data[0].type == "payment_intent.succeeded"
    older = client.v1.events.list(
        params={"type": "payment_intent.*", "starting_after": listed.data[0].id}
    )
    [created] = older.data
    assert created.type == "payment_intent.created"
    assert created.request.idempotency_key == "evt-key"
    assert client.v1.events.retrieve(created.id).data.object.id == pi.id


# ----------------------------------------------------------------------------- webhooks
def test_succeeded_event_is_delivered_signed(
    double: StripeDoubleHandle, client: stripe.StripeClient, receiver: Receiver
) -> None:
    pi = create(client)
    double.succeed(pi.id)
    double.wait_for(lambda: "payment_intent.succeeded" in receiver.types())
    headers, body = receiver.received[receiver.types().index("payment_intent.succeeded")]
    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
    assert event.type == "payment_intent.succeeded" and event.id.startswith("evt_")
    assert event.data.object.id == pi.id
    assert event.data.object.latest_charge.startswith("ch_")
    assert (event.livemode, event.object) == (False, "event")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body + " ", headers["Stripe-Signature"], SECRET)
    assert receiver.types()[0] == "payment_intent.created"


def test_webhook_retries_on_non_2xx(
    double: StripeDoubleHandle, client: stripe.StripeClient, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    pi = create(client)
    double.wait_for(lambda: double.delivery_status().get(double.events()[0]["id"]) == "delivered")
    attempts = double.deliveries()
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 500), (2, 503), (3, 200)]
    event = client.v1.events.retrieve(attempts[0]["event_id"])
    assert event.pending_webhooks == 0 and event.data.object.id == pi.id


def test_held_deliveries_can_be_sent_out_of_order(
    double: StripeDoubleHandle, client: stripe.StripeClient, receiver: Receiver
) -> None:
    double.configure(deliver=False)
    pi = create(client)
    double.succeed(pi.id)
    events = {e["type"]: e["id"] for e in double.events()}
    assert receiver.received == []
    assert double.deliver(events["payment_intent.succeeded"])["ok"] is True
    assert double.deliver(events["payment_intent.created"])["ok"] is True
    assert receiver.types() == ["payment_intent.succeeded", "payment_intent.created"]


# --------------------------------------------------------------------- failure injection
def test_injected_failures_surface_as_library_errors(
    double: StripeDoubleHandle, client: stripe.StripeClient
) -> None:
    double.fail_next(
        {"path_prefix": "/v1/payment_intents", "status": 500},
        {"path_prefix": "/v1/payment_intents", "status": 429},
        {"path_prefix": "/v1/payment_intents", "mode": "drop"},
    )
    with pytest.raises(stripe.APIError):
        create(client)
    with pytest.raises(stripe.RateLimitError):
        create(client)
    with pytest.raises(stripe.APIConnectionError):
        create(client)
    assert double.payment_intents() == []
    assert create(client).status == "requires_payment_method"  # rules are used up


def test_lost_response_then_library_retry_creates_one_intent(double: StripeDoubleHandle) -> None:
    double.fail_next({"path_prefix": "/v1/payment_intents", "mode": "drop", "when": "after"})
    retrying = stripe.StripeClient(
        "sk_test_x", base_addresses={"api": double.url}, max_network_retries=1
    )
    pi = retrying.v1.payment_intents.create(params=BOOKING)
    assert [p["id"] for p in double.payment_intents()] == [pi.id]
    first, second = double.requests(method="POST")
    assert first["idempotency_key"] == second["idempotency_key"]
    assert (first["dropped"], second["replayed"]) == (True, True)


# --------------------------------------------------------------------------- persistence
def test_state_file_survives_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "stripe.json"
    with run_stripe_double(state_file=state_file) as first:
        pi = create(first.stripe_client(), key="persisted")
        first.succeed(pi.id)
    with run_stripe_double(state_file=state_file) as second:
        client = second.stripe_client()
        assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
        assert create(client, key="persisted").id == pi.id
        assert len(second.payment_intents()) == 1


def test_cli_webhook_flags() -> None:
    receiver = Receiver()
    try:
        with run_stripe_double(webhook_url=receiver.url, webhook_secret=SECRET) as other:
            assert "--webhook-url" in other.popen.args
            create(other.stripe_client())
            other.wait_for(lambda: receiver.received)
        headers, body = receiver.received[0]
        event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
        assert event.type == "payment_intent.created"
    finally:
        receiver.close()
