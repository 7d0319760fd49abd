"""`POST /webhooks/stripe`: verify Stripe's signature on the raw body, then store and apply
the event in Postgres (private.record_stripe_event) and acknowledge.

- The signature: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of
  `"<t>.<raw body>"` with a webhook secret. Every `v1` is checked against every configured
  secret (STRIPE_WEBHOOK_SECRET, comma-separated during a rotation); a timestamp older than
  300 s is refused (replay protection). Failure: 400 VALIDATION_FAILED, field
  `stripe-signature`, nothing stored.
  Each refusal is logged at WARNING with its reason only (never the header, a secret or the
  body) and counted in wayfare_stripe_webhook_signature_failures_total{reason}; /ops raises
  an alert past a threshold (a wrong STRIPE_WEBHOOK_SECRET would otherwise leave bookings
  pending silently).
- A verified body that is not an event we can apply (not UTF-8 or JSON, nested deeper than
  MAX_DEPTH, not an object, no valid id or type, `created` not a whole number of seconds in
  [0, MAX_CREATED)): 400 VALIDATION_FAILED, never 500 (a 500 would be retried for days), and
  stored once per distinct body in private.stripe_rejected_events, not in stripe_events.
- Stored once by event id: a duplicate answers 200 with outcome `duplicate` and changes
  nothing. Events we cannot apply (stale, forbidden by the state machine, unknown type, no
  booking) are still 200: Stripe must not retry them.
- The database down or busy: 503, so Stripe retries later (it does for up to three days); a
  statement past WEB_STATEMENT_TIMEOUT_MS (5 s; a held booking lock, say): 408 TIMEOUT,
  rolled back, nothing stored, retried by Stripe like any non-2xx answer.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import stripe
from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from wayfare import stripe_version
from wayfare.config import Settings
from wayfare.errors import ApiError
from wayfare.logs import get_logger
from webhook.db import (
    ContractError,
    Database,
    DatabaseTimeout,
    DatabaseUnavailable,
    EventUnprocessable,
)
from webhook.metrics import metrics
from webhook.request_ids import current_request_id

TOLERANCE_SECONDS = 300
NOTABLE = logging.INFO
NOTABLE_OUTCOMES = frozenset({"stale", "ignored", "not_found"})
SIGNATURE_FIELD = "stripe-signature"
MAX_DEPTH = 64  # Stripe's events nest a handful of levels; Python's parser stops near 1000
MAX_CREATED = 253402300800  # 10000-01-01: Postgres timestamps end near year 294276
EVENT_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
EVENT_TYPE = re.compile(r"[a-z0-9_.]{1,255}")

blueprint = Blueprint("stripe_webhooks", __name__)
log = get_logger("webhook.stripe")


class SignatureRejected(Exception):
    """A delivery whose signature does not verify; `reason` is safe to log and to count."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass
class EventRejected(Exception):
    """A verified body that is not an event we can apply; stored as rejected, answered 400."""

    reason: str
    event_id: str | None = None
    event_type: str | None = None


# ordered from the most to the least telling: with several secrets the best reason wins
REASONS = ("stale_timestamp", "no_match", "malformed_header", "missing_header")


def _reason(exc: stripe.SignatureVerificationError) -> str:
    text = str(exc)
    if "Timestamp outside the tolerance" in text:
        return "stale_timestamp"  # a secret matched, the delivery is too old (or a replay)
    if "Unable to extract" in text or "expected scheme" in text:
        return "malformed_header"
    return "no_match"


def check_signature(payload: str, header: str | None, secrets: tuple[str, ...],
                    *, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise SignatureRejected unless some secret verifies some v1 signature of the header."""
    if not header:
        raise SignatureRejected("missing_header")
    reasons = []
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
        except stripe.SignatureVerificationError as exc:
            reasons.append(_reason(exc))
            continue
        return
    raise SignatureRejected(min(reasons, key=REASONS.index) if reasons else "no_match")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` nests containers deeper than `limit` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def parse_event(payload: str) -> dict[str, Any]:
    """The event object, or EventRejected with a reason (never RecursionError or a 500)."""
    try:
        event = json.loads(payload, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise EventRejected("nested_too_deep") from exc
    except ValueError as exc:
        raise EventRejected("not_json") from exc
    if not isinstance(event, dict):
        raise EventRejected("not_an_object")
    event_id = event.get("id") if isinstance(event.get("id"), str) else None
    event_type = event.get("type") if isinstance(event.get("type"), str) else None
    if too_deep(event):
        raise EventRejected("nested_too_deep", event_id, event_type)
    if event_id is None or not EVENT_ID.fullmatch(event_id):
        raise EventRejected("invalid_id", None, event_type)
    if event_type is None or not EVENT_TYPE.fullmatch(event_type):
        raise EventRejected("invalid_type", event_id, None)
    created = event.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or not (
            0 <= created < MAX_CREATED):
        raise EventRejected("invalid_created", event_id, event_type)
    return event


def reject_signature(exc: SignatureRejected) -> ApiError:
    """Log (reason only) and count a refused signature; the 400 to answer."""
    metrics().observe_signature_failure(exc.reason)
    log.warning("stripe.signature_rejected", reason=exc.reason)
    message = ("The Stripe-Signature header is missing." if exc.reason == "missing_header"
               else "The Stripe signature is not valid.")
    return ApiError("VALIDATION_FAILED", message, field=SIGNATURE_FIELD)


def reject_event(database: Database, payload: str, exc: EventRejected) -> ApiError:
    """Store a verified but unusable delivery once per body, count and log it; the 400."""
    try:
        database.record_rejected_stripe_event(payload, exc.reason, exc.event_id,
                                              exc.event_type, current_request_id())
    except DatabaseUnavailable as unavailable:
        raise ApiError("INTERNAL", "The service is temporarily unavailable.", status=503,
                       headers={"Retry-After": "10"}) from unavailable
    event_type = exc.event_type if exc.event_type and EVENT_TYPE.fullmatch(exc.event_type) \
        else "invalid"
    metrics().observe_webhook(event_type, "rejected", None)
    log.warning("stripe.event_rejected", reason=exc.reason, event_id=exc.event_id,
                event_type=exc.event_type, body_bytes=len(payload))
    return ApiError("VALIDATION_FAILED", "The body is not a Stripe event.", field="body")


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
    try:
        check_signature(payload, request.headers.get("Stripe-Signature"),
                        settings.stripe_webhook_secrets)
    except SignatureRejected as exc:
        raise reject_signature(exc) from exc
    try:
        event = parse_event(payload)
        stripe_version.observe_event(event)  # the endpoint's API version (docs/deploy.md)
        result = database.record_stripe_event(payload, current_request_id())
    except EventRejected as exc:
        raise reject_event(database, payload, exc) from exc
    except EventUnprocessable as exc:  # Postgres refused a value Python let through
        raise reject_event(database, payload, EventRejected(
            exc.reason, event.get("id"), event.get("type"))) from exc
    except DatabaseTimeout:
        # cancelled by the route's statement time limit (a held booking lock, a slow
        # database): rolled back, nothing stored; 408 TIMEOUT and Stripe delivers it again
        log.warning("stripe.event_timed_out", event_id=event["id"], event_type=event["type"])
        raise
    except DatabaseUnavailable as exc:
        log.warning("stripe.event_deferred", event_id=event["id"], event_type=event["type"],
                    reason=exc.reason)
        raise ApiError("INTERNAL", "The service is temporarily unavailable.", status=503,
                       headers={"Retry-After": "10"}) from exc
    except ContractError as exc:
        if exc.code == "VALIDATION_FAILED":
            raise reject_event(database, payload, EventRejected(
                f"refused_by_database:{exc.field}", event.get("id"), event.get("type"))) from exc
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
