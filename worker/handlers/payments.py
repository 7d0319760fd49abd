"""Payment handlers: the Stripe side of bookings (docs/payments.md).

- payment.create_intent: create the booking's PaymentIntent and store its id and client secret.
- payment.cancel: cancel an unpaid booking (its PaymentIntent at Stripe, if it has one).
- payment.refund: refund a paid booking's PaymentIntent in full.
- booking.confirm: paid -> confirmed.

Every Stripe call that changes something carries an idempotency key derived from the booking
(`wayfare-booking-<id>-create`, `-refund`; `-cancel-<attempt>`, as cancelling twice is
harmless), so a retried or resumed attempt replays the first one instead of creating a second
PaymentIntent or refund. The created PaymentIntent's id is also
checkpointed, so a retry after Stripe forgot the key (24 h) still finds it.

Stripe failures: CardError and InvalidRequestError are permanent (the booking gets a user-safe
reason); connection errors, rate limits, 5xx and 409 are retried with the job's backoff.
Bookings are read and written only through the job's context (ctx.booking_for_payment,
ctx.attach_payment_intent, ...: the private.* functions of the payments schema, as role
wayfare_worker, WORKER_DB_ROLE).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import stripe

from wayfare.config import Settings
from wayfare.logs import get_logger
from wayfare.stripe_version import STRIPE_API_VERSION
from worker.context import JobContext
from worker.errors import PermanentError, RetryableError
from worker.registry import handler

log = get_logger("worker.payments")

STRIPE_TIMEOUT_SECONDS = 20.0  # each Stripe request (STRIPE_TIMEOUT_S); a timeout is retried
UNPAID = ("payment_pending", "processing", "payment_failed")
SETUP_FAILED = "We could not set up the payment. Please try again or contact support."
UNAVAILABLE = "Payments are unavailable right now. Please try again later."
T = TypeVar("T")


# ---------------------------------------------------------------------- clients
_lock = threading.Lock()
_stripe: stripe.StripeClient | None = None


def stripe_client() -> stripe.StripeClient:
    global _stripe
    with _lock:
        if _stripe is None:
            settings = Settings.from_env(service="worker")
            if not settings.stripe_api_key:
                raise RetryableError("STRIPE_API_KEY is not set")
            _stripe = stripe.StripeClient(
                settings.stripe_api_key,
                stripe_version=STRIPE_API_VERSION,  # pinned (wayfare/stripe_version.py)
                base_addresses={"api": settings.stripe_api_base}
                if settings.stripe_api_base else None,
                max_network_retries=0,  # the job retries, with backoff and the same key
                http_client=stripe.new_default_http_client(timeout=stripe_timeout()),
            )
        return _stripe


def stripe_timeout() -> float:
    """Seconds a Stripe request may take (connect and read): STRIPE_TIMEOUT_S, default 20.
    A timed-out call is an APIConnectionError: the job is retried with the same idempotency
    key, from its checkpoint."""
    raw = os.environ.get("STRIPE_TIMEOUT_S", "").strip()
    try:
        value = float(raw) if raw else STRIPE_TIMEOUT_SECONDS
    except ValueError:
        value = STRIPE_TIMEOUT_SECONDS
    return value if value > 0 else STRIPE_TIMEOUT_SECONDS


def idempotency_key(booking_id: str, action: str) -> str:
    return f"wayfare-booking-{booking_id}-{action}"


# ---------------------------------------------------------------------- errors
def classify(exc: stripe.StripeError) -> Exception:
    """A Stripe error as the worker's RetryableError or PermanentError."""
    status = exc.http_status or 0
    if isinstance(exc, stripe.CardError):
        return PermanentError(exc.user_message or "Your card was declined.",
                              detail=f"card_error {exc.code}")
    if isinstance(exc, stripe.IdempotencyError):
        return PermanentError(SETUP_FAILED, detail="idempotency_error")
    if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError,
                        stripe.AuthenticationError)) or status >= 500 or status == 409:
        return RetryableError(f"stripe {type(exc).__name__} status={status} code={exc.code}")
    if isinstance(exc, stripe.APIError) and not status:
        return RetryableError(f"stripe APIError code={exc.code}")
    return PermanentError(SETUP_FAILED,
                          detail=f"stripe {type(exc).__name__} status={status} code={exc.code}")


def stripe_call(ctx: JobContext, booking_id: str, call: Callable[[], T], *,
                mark_failed: bool = False) -> T:
    """Run a Stripe call; on failure write a user-safe reason on the booking when the job
    will not be retried (a permanent error, or the last attempt), then raise."""
    try:
        return call()
    except stripe.StripeError as exc:
        error = classify(exc)
    final = isinstance(error, PermanentError) or ctx.attempt >= ctx.max_attempts
    log.warning("stripe.call_failed", booking_id=booking_id, error_type=type(error).__name__,
                final=final, detail=str(error))
    if final:
        message = error.user_message if isinstance(error, PermanentError) else UNAVAILABLE
        ctx.record_booking_error(booking_id, message, mark_failed=mark_failed)
    raise error


def load(ctx: JobContext) -> dict[str, Any]:
    booking = ctx.booking_for_payment(ctx.input["booking_id"])
    if booking is None:
        raise PermanentError("The booking no longer exists.")
    return booking


# ---------------------------------------------------------------------- handlers
@handler("payment.create_intent")
def create_intent(ctx: JobContext) -> dict[str, Any]:
    booking = load(ctx)
    booking_id = booking["id"]
    if booking["payment_intent_id"]:
        return {"paymentIntentId": booking["payment_intent_id"], "created": False}
    if booking["status"] not in UNPAID:
        return {"skipped": booking["status"]}
    client = stripe_client()
    known = ctx.checkpoint.get("payment_intent_id")
    if known:  # an earlier attempt created it: fetch, never create again
        intent = stripe_call(ctx, booking_id, lambda: client.v1.payment_intents.retrieve(known))
    else:
        intent = stripe_call(ctx, booking_id, lambda: client.v1.payment_intents.create(
            params={
                "amount": booking["amount"],
                "currency": booking["currency"].lower(),
                "automatic_payment_methods": {"enabled": True},
                "description": f"Wayfare booking {booking_id}",
                "metadata": {"booking_id": booking_id, "user_id": booking["user_id"]},
            },
            options={"idempotency_key": idempotency_key(booking_id, "create")},
        ), mark_failed=True)
        ctx.save_checkpoint("payment_intent_id", intent.id, progress=50)
    status = ctx.attach_payment_intent(booking_id, intent.id, intent.client_secret)
    log.info("payment.intent_attached", booking_id=booking_id, payment_intent_id=intent.id,
             booking_status=status)
    if status == "cancelled":
        # the booking was cancelled while the PaymentIntent was being made: cancel it too
        stripe_call(ctx, booking_id,
                    lambda: cancel_payment_intent(client, booking_id, intent.id, ctx.attempt))
        return {"paymentIntentId": intent.id, "cancelled": True}
    return {"paymentIntentId": intent.id, "created": True}


def cancel_payment_intent(client: stripe.StripeClient, booking_id: str, pi_id: str,
                          attempt: int) -> str:
    """Cancel the PaymentIntent at Stripe; returns its status afterwards (`canceled`, or
    `succeeded`/`processing` when it could not be cancelled any more).

    Cancelling is idempotent at Stripe by nature (cancelling a canceled PaymentIntent fails
    harmlessly and we read its state), so the key names the attempt too: Stripe saves a
    request's error under its key, and a "cannot cancel while processing" saved by an earlier
    attempt must not answer a later one, after the payment settled."""
    try:
        intent = client.v1.payment_intents.cancel(
            pi_id, params={"cancellation_reason": "requested_by_customer"},
            options={"idempotency_key": f"{idempotency_key(booking_id, 'cancel')}-{attempt}"})
        return str(intent.status)
    except stripe.InvalidRequestError as exc:
        if exc.code != "payment_intent_unexpected_state":
            raise
    # already canceled, succeeded or processing: ask Stripe what it is now
    return str(client.v1.payment_intents.retrieve(pi_id).status)


@handler("payment.cancel")
def cancel(ctx: JobContext) -> dict[str, Any]:
    for _ in range(3):  # again when a PaymentIntent was attached while we cancelled
        booking = load(ctx)
        booking_id, status = booking["id"], booking["status"]
        if status == "cancelled":
            return {"status": "cancelled", "paymentIntentId": booking["payment_intent_id"]}
        if status in ("paid", "confirmed"):  # the money arrived meanwhile: give it back
            return refund(ctx)
        if status not in UNPAID:
            raise PermanentError(f"A {status} booking cannot be cancelled.")
        pi_id = booking["payment_intent_id"]
        if pi_id:
            client = stripe_client()
            cancel_it = functools.partial(cancel_payment_intent, client, booking_id, pi_id,
                                          ctx.attempt)
            pi_status = stripe_call(ctx, booking_id, cancel_it)
            if pi_status == "succeeded":
                return refund(ctx)
            if pi_status != "canceled":  # processing: it can be cancelled once it settles
                raise RetryableError(f"the PaymentIntent is {pi_status}")
        status = ctx.cancel_unpaid_booking(booking_id, pi_id)
        if status in ("paid", "confirmed"):
            return refund(ctx)
        if status != "retry":
            log.info("booking.cancelled", booking_id=booking_id, payment_intent_id=pi_id)
            return {"status": status, "paymentIntentId": pi_id}
    raise RetryableError("the booking's PaymentIntent changed while cancelling")


@handler("payment.refund")
def refund(ctx: JobContext) -> dict[str, Any]:
    booking = load(ctx)
    booking_id, status, pi_id = booking["id"], booking["status"], booking["payment_intent_id"]
    if booking["amount_refunded"] >= booking["amount"]:
        return {"status": status, "refunded": booking["amount_refunded"]}
    refundable = status in ("paid", "confirmed") or (
        status == "cancelled" and booking["refunded_at"] is None)
    if not refundable or not pi_id:
        if status in UNPAID:
            return cancel(ctx)
        raise PermanentError(f"A {status} booking cannot be refunded.")
    client = stripe_client()

    def make_refund() -> Any:
        try:
            return client.v1.refunds.create(
                params={"payment_intent": pi_id, "reason": "requested_by_customer",
                        "metadata": {"booking_id": booking_id}},
                options={"idempotency_key": idempotency_key(booking_id, "refund")})
        except stripe.InvalidRequestError as exc:
            if exc.code == "charge_already_refunded":
                return None
            raise

    made = stripe_call(ctx, booking_id, make_refund)
    if made is not None and made.status != "succeeded":
        return {"refundId": made.id, "status": made.status}  # charge.refunded will record it
    amount = booking["amount"] if made is None else int(made.amount)
    status = ctx.record_refund(booking_id, amount)
    log.info("booking.refunded", booking_id=booking_id, payment_intent_id=pi_id,
             booking_status=status)
    return {"status": status, "refunded": amount, "refundId": made.id if made else None}


@handler("booking.confirm")
def confirm(ctx: JobContext) -> dict[str, Any]:
    status = ctx.confirm_booking(ctx.input["booking_id"])
    if status is None:
        raise PermanentError("The booking no longer exists.")
    return {"status": status}
