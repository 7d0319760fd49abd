"""The web service (`python -m webhook`) as a real subprocess, and signed Stripe deliveries.

    with run_webhook_service(fresh_db_url, secrets=("whsec_test",)) as web:
        response = post_event(web.url, event, "whsec_test")
        assert response.json() == {"received": True, "outcome": "applied"}

`start_webhook_service(...)` is the non-context-manager form (call `.stop()`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devstack.processes import stop_process

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_PATH = "/webhooks/stripe"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WebhookService:
    process: subprocess.Popen[bytes]
    url: str
    log_path: str

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    def logs(self) -> str:
        return Path(self.log_path).read_text(encoding="utf-8", errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        """The service's JSON log lines (other lines, e.g. gunicorn's, are skipped)."""
        lines = []
        for line in self.logs().splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    lines.append(entry)
        return lines

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, *, keep_log: bool = False) -> None:
        stop_process(self.process, timeout=10)
        if not keep_log:
            with contextlib.suppress(OSError):
                os.unlink(self.log_path)

    def __enter__(self) -> WebhookService:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_webhook_service(
    database_url: str,
    *,
    secrets: tuple[str, ...] | list[str] = ("whsec_test",),
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    startup_timeout: float = 20.0,
) -> WebhookService:
    """Start `python -m webhook` and wait until `GET /healthz` answers 200."""
    port = port or free_port()
    environment = dict(os.environ)
    environment.update({
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "STRIPE_WEBHOOK_SECRET": ",".join(secrets),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    })
    environment.update(env or {})
    log_fd, log_path = tempfile.mkstemp(prefix="webhook-", suffix=".log")
    with os.fdopen(log_fd, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "webhook"], cwd=ROOT,
                                   env=environment, stdout=log, stderr=subprocess.STDOUT)
    service = WebhookService(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + startup_timeout
    while True:
        if process.poll() is not None:
            logs = service.logs()
            service.stop()
            raise RuntimeError(f"the web service exited with {process.returncode}:\n{logs}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(service.url + "/healthz", timeout=1.0).status_code == 200:
                return service
        if time.monotonic() > deadline:
            logs = service.logs()
            service.stop()
            raise RuntimeError(f"the web service did not start:\n{logs}")
        time.sleep(0.05)


@contextlib.contextmanager
def run_webhook_service(database_url: str, **kwargs: Any) -> Iterator[WebhookService]:
    service = start_webhook_service(database_url, **kwargs)
    try:
        yield service
    finally:
        service.stop()


# ---------------------------------------------------------------------- Stripe's side
def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` value as Stripe makes it: t=<ts>,v1=<hmac_sha256(secret, t.body)>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(),
                      hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def make_event(event_type: str, obj: dict[str, Any], *, created: int | None = None,
               event_id: str | None = None) -> dict[str, Any]:
    """A Stripe event envelope around `obj` (what `data.object` holds)."""
    return {
        "id": event_id or f"evt_{os.urandom(12).hex()}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def post_event(
    url: str,
    event: dict[str, Any] | str,
    secret: str | None,
    *,
    timestamp: int | None = None,
    signature: str | None = None,
    headers: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
) -> httpx.Response:
    """POST one event to the service (url: its base or its webhook URL), signed like Stripe."""
    payload = event if isinstance(event, str) else json.dumps(event, indent=2)
    target = url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH
    sent = {"Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
    if signature is not None:
        sent["Stripe-Signature"] = signature
    elif secret is not None:
        sent["Stripe-Signature"] = sign(payload, secret, timestamp)
    sent.update(headers or {})
    if client is not None:
        return client.post(target, content=payload.encode(), headers=sent)
    return httpx.post(target, content=payload.encode(), headers=sent, timeout=10.0)


# ---------------------------------------------------------------------- bookings and objects
PARIS_HOTEL = "985c87ec-1d28-4b09-ac8c-3484ea1965c4"  # EUR 215.00 a night (seeded)
KYOTO_HOTEL = "3b163075-f5c1-4b7f-aff6-8a8a21c4d4d0"  # JPY 38,000 a night (zero-decimal)


@dataclass(frozen=True)
class Booking:
    id: str
    user_id: str
    amount: int
    currency: str


def insert_booking(conn: Any, user_id: str, *, hotel_id: str = PARIS_HOTEL, nights: int = 2,
                   booking_id: str | None = None, starts_in_days: int = 7) -> Booking:
    """A payment_pending booking written as the database owner (no job is enqueued)."""
    row = conn.execute(
        "insert into public.bookings (id, user_id, hotel_id, check_in, check_out, amount,"
        " currency) select coalesce(%s::uuid, gen_random_uuid()), %s, h.id,"
        " current_date + %s, current_date + %s + %s, h.nightly_rate_cents * %s, h.currency"
        " from public.hotels as h where h.id = %s returning id, amount, currency",
        (booking_id, user_id, starts_in_days, starts_in_days, nights, nights, hotel_id),
    ).fetchone()
    return Booking(str(row[0]), user_id, row[1], row[2])


def payment_intent(booking: Booking, pi_id: str, status: str, *,
                   error_message: str | None = None, amount: int | None = None,
                   metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """A PaymentIntent object as Stripe sends it in payment_intent.* events."""
    last_error = None
    if error_message is not None:
        last_error = {"type": "card_error", "code": "card_declined",
                      "decline_code": "generic_decline", "message": error_message}
    return {
        "id": pi_id, "object": "payment_intent",
        "amount": booking.amount if amount is None else amount,
        "amount_received": booking.amount if status == "succeeded" else 0,
        "currency": booking.currency.lower(),
        "client_secret": f"{pi_id}_secret_x",
        "metadata": {"booking_id": booking.id, "user_id": booking.user_id}
        if metadata is None else metadata,
        "status": status,
        "last_payment_error": last_error,
        "payment_method": "pm_card_visa" if status == "succeeded" else None,
        "receipt_email": "jane.doe@example.com",
    }


def charge(booking: Booking, pi_id: str, *, amount_refunded: int) -> dict[str, Any]:
    """A Charge object as Stripe sends it in charge.refunded."""
    return {
        "id": f"ch_{pi_id[3:]}", "object": "charge", "amount": booking.amount,
        "amount_captured": booking.amount, "amount_refunded": amount_refunded,
        "currency": booking.currency.lower(), "payment_intent": pi_id,
        "metadata": {"booking_id": booking.id, "user_id": booking.user_id},
        "refunded": amount_refunded >= booking.amount, "status": "succeeded",
        "billing_details": {"email": "jane.doe@example.com", "name": "Jane Doe"},
    }
