"""Objects, events and idempotency records of the Stripe double.

Everything lives in plain JSON-able dicts shaped like Stripe's API objects, guarded by one
re-entrant lock (``StripeState.lock``) and optionally persisted to a JSON file after each
change. The HTTP layer (``devstack.stripe_double``) holds the lock for the whole of a
``/v1`` POST so idempotency checks, the operation and the saved result are atomic.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import string
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from devstack.stripe_double.forms import (
    ApiError,
    as_bool,
    as_enum,
    as_int,
    as_metadata,
    as_str,
    as_str_list,
    check_params,
    invalid,
    merge_metadata,
    require,
)

Obj = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (*CONFIRMABLE, "requires_capture")
SETTLEABLE = (*CONFIRMABLE, "processing")  # states a payment can succeed or fail from
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
MIN_AMOUNT = 50
MAX_AMOUNT = 99_999_999

# Stripe's test PaymentMethods for confirm: id -> (code, decline_code, message).
TEST_DECLINES: dict[str, tuple[str, str | None, str]] = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedFraudulent": ("card_declined", "fraudulent", "Your card was declined."),
    "pm_card_chargeDeclinedLostCard": ("card_declined", "lost_card", "Your card was declined."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", None, "Your card has expired."),
    "pm_card_chargeDeclinedIncorrectCvc": (
        "incorrect_cvc",
        None,
        "Your card's security code is incorrect.",
    ),
    "pm_card_chargeDeclinedProcessingError": (
        "processing_error",
        None,
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}
DECLINE_CODES = frozenset(
    {"generic_decline", "insufficient_funds", "fraudulent", "lost_card", "stolen_card"}
)
CARD_ERROR_MESSAGES = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
}

PI_STRING_FIELDS = (
    "description",
    "receipt_email",
    "customer",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "setup_future_usage",
    "transfer_group",
    "on_behalf_of",
)
PI_CREATE_PARAMS = frozenset(
    {
        *PI_STRING_FIELDS,
        "allowed_payment_method_types", "amount", "amount_details", "application_fee_amount",
        "automatic_payment_methods", "capture_method", "confirm", "confirmation_method",
        "confirmation_token", "currency", "customer_account", "error_on_requires_action",
        "excluded_payment_method_types", "expand", "hooks", "mandate", "mandate_data",
        "metadata", "off_session", "payment_details", "payment_method",
        "payment_method_configuration", "payment_method_data", "payment_method_options",
        "payment_method_types", "radar_options", "return_url", "shipping", "transfer_data",
        "use_stripe_sdk",
    }
)  # fmt: skip
PI_UPDATE_PARAMS = frozenset(
    {
        *PI_STRING_FIELDS,
        "amount", "amount_details", "application_fee_amount", "capture_method", "currency",
        "excluded_payment_method_types", "expand", "hooks", "metadata", "payment_details",
        "payment_method", "payment_method_configuration", "payment_method_data",
        "payment_method_options", "payment_method_types", "shipping", "transfer_data",
    }
)  # fmt: skip
PI_CONFIRM_PARAMS = frozenset(
    {
        "allowed_payment_method_types", "amount_details", "amount_to_confirm", "capture_method",
        "confirmation_token", "error_on_requires_action", "excluded_payment_method_types",
        "expand", "hooks", "mandate", "mandate_data", "off_session", "payment_details",
        "payment_method", "payment_method_data", "payment_method_options",
        "payment_method_types", "radar_options", "receipt_email", "return_url",
        "setup_future_usage", "shipping", "use_stripe_sdk",
    }
)  # fmt: skip
PI_CANCEL_PARAMS = frozenset({"cancellation_reason", "expand"})
PI_CAPTURE_PARAMS = frozenset(
    {
        "amount_to_capture", "amount_details", "application_fee_amount", "expand",
        "final_capture", "hooks", "metadata", "payment_details", "statement_descriptor",
        "statement_descriptor_suffix", "transfer_data",
    }
)  # fmt: skip
REFUND_CREATE_PARAMS = frozenset(
    {
        "amount", "charge", "currency", "customer", "expand", "instructions_email", "metadata",
        "origin", "payment_intent", "reason", "refund_application_fee", "reverse_transfer",
    }
)  # fmt: skip

_COLLECTIONS = {"pi": "payment_intents", "ch": "charges", "re": "refunds", "evt": "events"}
_NAMES = {
    "payment_intents": "payment_intent",
    "charges": "charge",
    "refunds": "refund",
    "events": "event",
}


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def now() -> int:
    return int(time.time())


@dataclass(frozen=True)
class Origin:
    """What caused a change: an API request (its id and idempotency key) or a control call."""

    request_id: str | None = None
    idempotency_key: str | None = None


class EventSink(Protocol):
    def pending_for(self, event_type: str) -> int: ...

    def emitted(self, event: Obj) -> None: ...


class _NoSink:
    def pending_for(self, event_type: str) -> int:
        return 0

    def emitted(self, event: Obj) -> None:
        return None


def snapshot(obj: Obj) -> Obj:
    return copy.deepcopy(obj)


def unexpected_state(pi: Obj, action: str, allowed: Iterable[str]) -> ApiError:
    past = action + ("d" if action.endswith("e") else "ed")
    return ApiError(
        400,
        f"You cannot {action} this PaymentIntent because it has a status of {pi['status']}. "
        f"Only a PaymentIntent with one of the following statuses may be {past}: "
        f"{', '.join(allowed)}.",
        code="payment_intent_unexpected_state",
        extra={"payment_intent": snapshot(pi)},
    )


class StripeState:
    """The double's data plus the operations of the endpoints it implements."""

    def __init__(self, state_file: str | None = None, api_version: str = "") -> None:
        self.lock = threading.RLock()
        self.state_file = Path(state_file) if state_file else None
        self.api_version = api_version
        self.sink: EventSink = _NoSink()
        self.payment_intents: dict[str, Obj] = {}
        self.charges: dict[str, Obj] = {}
        self.refunds: dict[str, Obj] = {}
        self.events: dict[str, Obj] = {}
        self.idempotency: dict[str, Obj] = {}
        self.requests: list[Obj] = []
        self.last_event_created = 0
        self._load()

    # ----------------------------------------------------------------- persistence
    _PERSISTED = (
        "payment_intents",
        "charges",
        "refunds",
        "events",
        "idempotency",
        "last_event_created",
    )

    def _load(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        for name in self._PERSISTED:
            if name in data:
                setattr(self, name, data[name])

    def save(self) -> None:
        if self.state_file is None:
            return
        with self.lock:
            data = {name: getattr(self, name) for name in self._PERSISTED}
            tmp = self.state_file.with_name(self.state_file.name + ".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, self.state_file)

    def reset(self) -> None:
        with self.lock:
            for name in ("payment_intents", "charges", "refunds", "events", "idempotency"):
                getattr(self, name).clear()
            self.requests.clear()
            self.save()

    # --------------------------------------------------------------------- lookup
    def collection(self, name: str) -> dict[str, Obj]:
        return getattr(self, name)

    def get(self, collection: str, obj_id: str, param: str = "id") -> Obj:
        obj = self.collection(collection).get(obj_id)
        if obj is None:
            raise ApiError(
                404,
                f"No such {_NAMES[collection]}: '{obj_id}'",
                code="resource_missing",
                param=param,
            )
        return obj

    def find_by_id(self, obj_id: str) -> Obj | None:
        collection = _COLLECTIONS.get(obj_id.split("_", 1)[0])
        return self.collection(collection).get(obj_id) if collection else None

    # --------------------------------------------------------------------- events
    def emit(self, event_type: str, obj: Obj, origin: Origin) -> Obj:
        created = max(now(), self.last_event_created + 1)  # strictly increasing
        self.last_event_created = created
        event: Obj = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": self.api_version,
            "created": created,
            "data": {"object": snapshot(obj)},
            "livemode": False,
            "pending_webhooks": self.sink.pending_for(event_type),
            "request": {"id": origin.request_id, "idempotency_key": origin.idempotency_key},
            "type": event_type,
        }
        self.events[event["id"]] = event
        self.sink.emitted(snapshot(event))
        return event

    def set_pending_webhooks(self, event_id: str, count: int) -> None:
        with self.lock:
            event = self.events.get(event_id)
            if event is not None and event["pending_webhooks"] != count:
                event["pending_webhooks"] = count
                self.save()

    # ------------------------------------------------------------ payment intents
    def create_payment_intent(self, params: Obj, origin: Origin) -> Obj:
        check_params(params, PI_CREATE_PARAMS)
        amount = _amount(require(params, "amount"))
        currency = _currency(require(params, "currency"))
        pi_id = new_id("pi")
        pi: Obj = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": _automatic_pms(params.get("automatic_payment_methods")),
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": as_enum(
                params.get("capture_method", "automatic_async"), "capture_method", CAPTURE_METHODS
            ),
            "client_secret": f"{pi_id}_secret_{new_id('x', 25)[2:]}",
            "confirmation_method": "automatic",
            "created": now(),
            "currency": currency,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": {k: v for k, v in as_metadata(params.get("metadata", {})).items() if v},
            "next_action": None,
            "payment_method": None,
            "payment_method_options": {},
            "payment_method_types": _pm_types(params.get("payment_method_types")),
            "processing": None,
            "review": None,
            "shipping": None,
            "status": "requires_payment_method",
            "transfer_data": None,
        }
        for field in PI_STRING_FIELDS:
            pi[field] = as_str(params[field], field) if field in params else None
        confirm = as_bool(params.get("confirm", "false"), "confirm")
        payment_method = params.get("payment_method")
        if confirm and not payment_method:
            raise invalid(
                "You must provide a payment_method when confirming a PaymentIntent.",
                code="parameter_missing",
                param="payment_method",
            )
        if payment_method and not confirm:
            pi.update(
                payment_method=as_str(payment_method, "payment_method"),
                status="requires_confirmation",
            )
        self.payment_intents[pi_id] = pi
        self.emit("payment_intent.created", pi, origin)
        if confirm:
            return self._confirm(pi, str(payment_method), origin)
        return pi

    def retrieve_payment_intent(self, pi_id: str) -> Obj:
        return self.get("payment_intents", pi_id, "intent")

    def update_payment_intent(self, pi_id: str, params: Obj) -> Obj:
        check_params(params, PI_UPDATE_PARAMS)
        pi = self.retrieve_payment_intent(pi_id)
        changes: Obj = {}
        if "metadata" in params:
            changes["metadata"] = merge_metadata(pi["metadata"], params["metadata"])
        if "description" in params:
            changes["description"] = as_str(params["description"], "description")
        restricted = set(params) - {"metadata", "description", "expand"}
        if restricted and pi["status"] not in CONFIRMABLE:
            raise unexpected_state(pi, "update", CONFIRMABLE)
        changes.update(_payment_fields(params))
        pi.update(changes)
        if pi["status"] in CONFIRMABLE:
            pi["status"] = (
                "requires_confirmation" if pi["payment_method"] else ("requires_payment_method")
            )
        return pi

    def confirm_payment_intent(self, pi_id: str, params: Obj, origin: Origin) -> Obj:
        check_params(params, PI_CONFIRM_PARAMS)
        pi = self.retrieve_payment_intent(pi_id)
        if pi["status"] not in CONFIRMABLE:
            raise unexpected_state(pi, "confirm", CONFIRMABLE)
        payment_method = params.get("payment_method") or pi["payment_method"]
        if not payment_method:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "Update the PaymentIntent with a payment_method and then confirm it again.",
                code="payment_intent_unexpected_state",
            )
        if "receipt_email" in params:
            pi["receipt_email"] = as_str(params["receipt_email"], "receipt_email")
        return self._confirm(pi, str(payment_method), origin)

    def _confirm(self, pi: Obj, payment_method: str, origin: Origin) -> Obj:
        if not payment_method.startswith("pm_"):
            raise ApiError(
                400,
                f"No such PaymentMethod: '{payment_method}'",
                code="resource_missing",
                param="payment_method",
            )
        pi["payment_method"] = payment_method
        decline = TEST_DECLINES.get(payment_method)
        if decline is None:
            return self._authorize(pi, origin)
        code, decline_code, message = decline
        self._fail(pi, code, message, decline_code, origin)
        error = pi["last_payment_error"]
        raise ApiError(
            402,
            message,
            type_="card_error",
            code=code,
            extra={
                **({"decline_code": decline_code} if decline_code else {}),
                "payment_intent": snapshot(pi),
                "payment_method": error.get("payment_method"),
            },
        )

    def capture_payment_intent(self, pi_id: str, params: Obj, origin: Origin) -> Obj:
        check_params(params, PI_CAPTURE_PARAMS)
        pi = self.retrieve_payment_intent(pi_id)
        if pi["status"] != "requires_capture":
            raise unexpected_state(pi, "capture", ("requires_capture",))
        amount = pi["amount_capturable"]
        if "amount_to_capture" in params:
            amount = as_int(params["amount_to_capture"], "amount_to_capture")
            if not 0 < amount <= pi["amount_capturable"]:
                raise invalid(
                    "The amount to capture must be positive and at most the capturable amount.",
                    code="amount_too_large",
                    param="amount_to_capture",
                )
        if "metadata" in params:
            pi["metadata"] = merge_metadata(pi["metadata"], params["metadata"])
        charge = self.charges[pi["latest_charge"]]
        charge.update(captured=True, amount_captured=amount, balance_transaction=new_id("txn"))
        self.emit("charge.captured", charge, origin)
        pi.update(status="succeeded", amount_capturable=0, amount_received=amount)
        self.emit("payment_intent.succeeded", pi, origin)
        return pi

    def cancel_payment_intent(self, pi_id: str, params: Obj, origin: Origin) -> Obj:
        check_params(params, PI_CANCEL_PARAMS)
        pi = self.retrieve_payment_intent(pi_id)
        reason = params.get("cancellation_reason")
        if reason is not None:
            reason = as_enum(reason, "cancellation_reason", CANCEL_REASONS)
        if pi["status"] not in CANCELABLE:
            raise unexpected_state(pi, "cancel", CANCELABLE)
        pi.update(
            status="canceled",
            cancellation_reason=reason,
            canceled_at=now(),
            amount_capturable=0,
            next_action=None,
        )
        self.emit("payment_intent.canceled", pi, origin)
        return pi

    # ---------------------------------------------- outcomes (customer's browser/card)
    def succeed(self, pi_id: str, origin: Origin = Origin()) -> Obj:
        pi = self.retrieve_payment_intent(pi_id)
        if pi["status"] not in SETTLEABLE:
            raise unexpected_state(pi, "succeed", SETTLEABLE)
        pi["payment_method"] = pi["payment_method"] or "pm_card_visa"
        return self._authorize(pi, origin)

    def fail(
        self,
        pi_id: str,
        code: str = "card_declined",
        message: str | None = None,
        decline_code: str | None = None,
        origin: Origin = Origin(),
    ) -> Obj:
        pi = self.retrieve_payment_intent(pi_id)
        if pi["status"] not in SETTLEABLE:
            raise unexpected_state(pi, "fail", SETTLEABLE)
        if code in DECLINE_CODES and decline_code is None:
            code, decline_code = "card_declined", code
        text = message or CARD_ERROR_MESSAGES.get(decline_code or code) or "Your card was declined."
        self._fail(pi, code, text, decline_code, origin)
        return pi

    def process(self, pi_id: str, origin: Origin = Origin()) -> Obj:
        pi = self.retrieve_payment_intent(pi_id)
        if pi["status"] not in CONFIRMABLE:
            raise unexpected_state(pi, "process", CONFIRMABLE)
        pi.update(status="processing", last_payment_error=None)
        self.emit("payment_intent.processing", pi, origin)
        return pi

    def _authorize(self, pi: Obj, origin: Origin) -> Obj:
        manual = pi["capture_method"] == "manual"
        charge = self._new_charge(pi, captured=not manual)
        pi.update(latest_charge=charge["id"], last_payment_error=None, next_action=None)
        self.emit("charge.succeeded", charge, origin)
        if manual:
            pi.update(status="requires_capture", amount_capturable=pi["amount"])
            self.emit("payment_intent.amount_capturable_updated", pi, origin)
        else:
            pi.update(status="succeeded", amount_received=pi["amount"])
            self.emit("payment_intent.succeeded", pi, origin)
        return pi

    def _fail(
        self, pi: Obj, code: str, message: str, decline_code: str | None, origin: Origin
    ) -> None:
        error: Obj = {
            "type": "card_error",
            "code": code,
            "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            "message": message,
            "payment_method": (
                {"id": pi["payment_method"], "object": "payment_method", "type": "card"}
                if pi["payment_method"]
                else None
            ),
        }
        if decline_code:
            error["decline_code"] = decline_code
        pi.update(status="requires_payment_method", last_payment_error=error, payment_method=None)
        self.emit("payment_intent.payment_failed", pi, origin)

    def _new_charge(self, pi: Obj, *, captured: bool) -> Obj:
        charge: Obj = {
            "id": new_id("ch"),
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": pi["amount"] if captured else 0,
            "amount_refunded": 0,
            "balance_transaction": new_id("txn") if captured else None,
            "captured": captured,
            "created": now(),
            "currency": pi["currency"],
            "customer": pi.get("customer"),
            "description": pi.get("description"),
            "disputed": False,
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": dict(pi["metadata"]),
            "outcome": {
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
            "paid": True,
            "payment_intent": pi["id"],
            "payment_method": pi["payment_method"],
            "receipt_email": pi.get("receipt_email"),
            "refunded": False,
            "status": "succeeded",
        }
        self.charges[charge["id"]] = charge
        return charge

    # -------------------------------------------------------------------- refunds
    def create_refund(self, params: Obj, origin: Origin) -> Obj:
        check_params(params, REFUND_CREATE_PARAMS)
        charge = self._refundable_charge(params)
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise ApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = as_int(params["amount"], "amount") if "amount" in params else remaining
        if amount <= 0:
            raise invalid(
                "Invalid positive integer", code="parameter_invalid_integer", param="amount"
            )
        if amount > remaining:
            raise ApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                code="amount_too_large",
                param="amount",
            )
        reason = params.get("reason")
        refund: Obj = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "charge": charge["id"],
            "created": now(),
            "currency": charge["currency"],
            "metadata": {k: v for k, v in as_metadata(params.get("metadata", {})).items() if v},
            "payment_intent": charge["payment_intent"],
            "reason": as_enum(reason, "reason", REFUND_REASONS) if reason else None,
            "receipt_number": None,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self.emit("charge.refunded", charge, origin)
        self.emit("refund.created", refund, origin)
        return refund

    def _refundable_charge(self, params: Obj) -> Obj:
        if params.get("charge"):
            return self.get("charges", str(params["charge"]), "charge")
        if not params.get("payment_intent"):
            raise invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
                param="payment_intent",
            )
        pi = self.get("payment_intents", str(params["payment_intent"]), "payment_intent")
        if pi["status"] != "succeeded" or not pi["latest_charge"]:
            raise ApiError(
                400,
                f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund. "
                f"Its status is {pi['status']}.",
                code="payment_intent_unexpected_state",
                param="payment_intent",
                extra={"payment_intent": snapshot(pi)},
            )
        return self.charges[pi["latest_charge"]]

    # ---------------------------------------------------------------- idempotency
    def idempotent_replay(self, scope: str, method: str, path: str, params: Obj) -> Obj | None:
        entry = self.idempotency.get(scope)
        if entry is None:
            return None
        key = scope.split(":", 1)[1]
        if (entry["method"], entry["path"]) != (method, path):
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they "
                f"were first used for ('{entry['method']} {entry['path']}' vs "
                f"'{method} {path}'). Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type_="idempotency_error",
                store=False,
            )
        if entry["params"] != params:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type_="idempotency_error",
                store=False,
            )
        return entry

    def idempotent_save(self, scope: str, entry: Obj) -> None:
        self.idempotency[scope] = entry


# ------------------------------------------------------------------ param helpers
def _amount(value: Any) -> int:
    amount = as_int(value, "amount")
    if amount < MIN_AMOUNT:
        raise invalid("Amount must be at least $0.50 usd", code="amount_too_small", param="amount")
    if amount > MAX_AMOUNT:
        raise invalid(
            "Amount must be no more than $999,999.99", code="amount_too_large", param="amount"
        )
    return amount


def _currency(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise invalid(
            f"Invalid currency: {value}. Stripe currently supports these currencies: usd, "
            "eur, gbp, ... (ISO 4217 codes).",
            code="parameter_invalid_string",
            param="currency",
        )
    return value.lower()


def _automatic_pms(value: Any) -> Obj | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(
            "Invalid object", code="parameter_invalid_object", param="automatic_payment_methods"
        )
    if "enabled" not in value:
        raise invalid(
            "Missing required param: automatic_payment_methods[enabled].",
            code="parameter_missing",
            param="automatic_payment_methods[enabled]",
        )
    result: Obj = {"enabled": as_bool(value["enabled"], "automatic_payment_methods[enabled]")}
    if "allow_redirects" in value:
        result["allow_redirects"] = as_enum(
            value["allow_redirects"],
            "automatic_payment_methods[allow_redirects]",
            ("always", "never"),
        )
    return result


def _pm_types(value: Any) -> list[str]:
    return as_str_list(value, "payment_method_types") if value else ["card"]


def _payment_fields(params: Obj) -> Obj:
    """Fields of an update that are only allowed before the payment is confirmed."""
    fields: Obj = {}
    if "amount" in params:
        fields["amount"] = _amount(params["amount"])
    if "currency" in params:
        fields["currency"] = _currency(params["currency"])
    if "capture_method" in params:
        fields["capture_method"] = as_enum(
            params["capture_method"], "capture_method", CAPTURE_METHODS
        )
    if "payment_method_types" in params:
        fields["payment_method_types"] = _pm_types(params["payment_method_types"])
    if "payment_method" in params:
        fields["payment_method"] = as_str(params["payment_method"], "payment_method")
    for field in PI_STRING_FIELDS:
        if field in params and field != "description":
            fields[field] = as_str(params[field], field)
    return fields
