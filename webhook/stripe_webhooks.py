"""`POST /webhooks/stripe`: verify Stripe's signature on the raw body, then store and apply
the event in Postgres (private.record_stripe_event) and acknowledge.

- The signature: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of
  `"<t>.<raw body>"` with a webhook secret. Every `v1` is checked against every configured
  secret (STRIPE_WEBHOOK_SECRET, comma-separated during a rotation); a timestamp older than
  300 s is refused (replay protection). Failure: 400 VALIDATION_FAILED, field
  `stripe-signature`, nothing stored.
- A verified body that is not an event (bad JSON, no id/type/created): 400, nothing stored.
- Stored once by event id: a duplicate answers 200 with outcome `duplicate` and changes
  nothing. Events we cannot apply (stale, forbidden by the state machine, unknown type, no
  booking) are still 200: Stripe must not retry them.
- The database down or busy: 503, so Stripe retries later (it does for up to three days).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import stripe
from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from wayfare.config import Settings
from wayfare.errors import ApiError
from wayfare.logs import get_logger
from webhook.db import ContractError, Database, DatabaseUnavailable
from webhook.metrics import metrics
from webhook.request_ids import current_request_id

TOLERANCE_SECONDS = 300
NOTABLE = logging.INFO
NOTABLE_OUTCOMES = frozenset({"stale", "ignored", "not_found"})
SIGNATURE_FIELD = "stripe-signature"

blueprint = Blueprint("stripe_webhooks", __name__)
log = get_logger("webhook.stripe")


def verify_signature(payload: str, header: str | None, secrets: tuple[str, ...],
                     *, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise a 400 ApiError unless some secret verifies some v1 signature of the header."""
    if not header:
        raise ApiError("VALIDATION_FAILED", "The Stripe-Signature header is missing.",
                       field=SIGNATURE_FIELD)
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
        except stripe.SignatureVerificationError:
            continue
        return
    raise ApiError("VALIDATION_FAILED", "The Stripe signature is not valid.",
                   field=SIGNATURE_FIELD)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_event(payload: str) -> dict[str, Any]:
    """The event object, or a 400 ApiError (field `body`)."""
    try:
        event = json.loads(payload, parse_constant=_reject_constant)
    except ValueError:
        event = None
    if (not isinstance(event, dict) or not isinstance(event.get("id"), str)
            or not isinstance(event.get("type"), str)
            or not isinstance(event.get("created"), int) or isinstance(event["created"], bool)):
        raise ApiError("VALIDATION_FAILED", "The body is not a Stripe event.", field="body")
    return event


@blueprint.post("/webhooks/stripe")
def receive() -> ResponseReturnValue:
    settings: Settings = current_app.extensions["wayfare.settings"]
    database: Database = current_app.extensions["wayfare.db"]
    if not settings.stripe_webhook_secrets:
        log.error("stripe.webhook_secret_missing")
        raise ApiError("INTERNAL", "Webhooks are not configured.", status=503,
                       headers={"Retry-After": "60"})
    raw = request.get_data(cache=False)
    try:
        payload = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError("VALIDATION_FAILED", "The body is not UTF-8.", field="body") from exc
    verify_signature(payload, request.headers.get("Stripe-Signature"),
                     settings.stripe_webhook_secrets)
    event = parse_event(payload)
    try:
        result = database.record_stripe_event(payload, current_request_id())
    except DatabaseUnavailable as exc:
        log.warning("stripe.event_deferred", event_id=event["id"], event_type=event["type"],
                    reason=str(exc))
        raise ApiError("INTERNAL", "The service is temporarily unavailable.", status=503,
                       headers={"Retry-After": "10"}) from exc
    except ContractError as exc:
        if exc.code == "VALIDATION_FAILED":
            raise ApiError("VALIDATION_FAILED", "The body is not a Stripe event.",
                           field="body") from exc
        raise ApiError("INTERNAL") from exc
    outcome = str(result.get("outcome"))
    metrics().observe_webhook(event["type"], outcome, event["created"])
    # every event is in private.stripe_events (with this request id) and in the metrics; the
    # log shows the ones an operator may need to look at, routine ones only at DEBUG (a log
    # line costs more CPU than the rest of the request, database excluded)
    log.log(NOTABLE if outcome in NOTABLE_OUTCOMES else logging.DEBUG, "stripe.event",
            event_id=event["id"], event_type=event["type"], outcome=outcome,
            booking_id=result.get("bookingId"), lag_s=round(time.time() - event["created"], 3))
    return jsonify(received=True, outcome=outcome)
