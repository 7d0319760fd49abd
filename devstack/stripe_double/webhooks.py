"""Webhook delivery for the Stripe double: signing exactly as Stripe does, a background
worker with retries, a hold switch, and on-demand delivery of single events."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from devstack.stripe_double.state import Obj, StripeState

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value: ``t=<ts>,v1=<hmac_sha256(secret, "t.payload")>``."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class WebhookSettings:
    url: str | None = None
    secret: str | None = None
    deliver: bool = True
    retries: int = 3
    retry_delay: float = 0.25  # doubled after each failed attempt
    timeout: float = 5.0
    enabled_events: list[str] = field(default_factory=lambda: ["*"])

    def wants(self, event_type: str) -> bool:
        return any(fnmatchcase(event_type, pattern) for pattern in self.enabled_events)


def post_event(url: str, payload: str, signature: str, timeout: float) -> tuple[int, str]:
    """POST one event; returns (status, body excerpt). Raises OSError on connection errors."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OSError(f"unsupported webhook URL: {url!r}")
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature,
        "User-Agent": USER_AGENT,
        "Cache-Control": "no-cache",
    }
    try:
        connection.request("POST", target, body=payload.encode("utf-8"), headers=headers)
        response = connection.getresponse()
        return response.status, response.read(1000).decode("utf-8", "replace")
    finally:
        connection.close()


class WebhookDispatcher:
    """Implements the state's ``EventSink``: decides and performs deliveries.

    Delivery statuses per event: ``queued`` (worker will send), ``held`` (emitted while
    deliveries were switched off), ``delivered``, ``failed`` (retries exhausted).
    """

    def __init__(self, state: StripeState, settings: Callable[[], WebhookSettings]) -> None:
        self._state = state
        self._settings = settings
        self._lock = threading.Lock()
        self._queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self.attempts: list[Obj] = []
        self.status: dict[str, str] = {}
        self._worker = threading.Thread(target=self._run, name="webhook-delivery", daemon=True)
        self._worker.start()

    # EventSink -----------------------------------------------------------------
    def pending_for(self, event_type: str) -> int:
        settings = self._settings()
        return 1 if settings.url and settings.wants(event_type) else 0

    def emitted(self, event: Obj) -> None:
        if not event["pending_webhooks"]:
            return
        if self._settings().deliver:
            self._set_status(event["id"], "queued")
            self._queue.put(event["id"])
        else:
            self._set_status(event["id"], "held")

    # control ---------------------------------------------------------------------
    def deliver_now(self, event_id: str) -> Obj:
        """One synchronous attempt, whatever the hold switch says."""
        return self._attempt(event_id, attempt=1, trigger="manual")

    def deliver_held(self) -> list[Obj]:
        with self._lock:
            held = [event_id for event_id, status in self.status.items() if status == "held"]
        return [self.deliver_now(event_id) for event_id in held]

    def snapshot(self) -> Obj:
        with self._lock:
            return {"attempts": list(self.attempts), "status": dict(self.status)}

    def reset(self) -> None:
        with self._lock:
            self.attempts.clear()
            self.status.clear()
        while not self._queue.empty():
            self._queue.get_nowait()

    def stop(self) -> None:
        self._stop.set()
        self._queue.put("")

    # worker ------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            event_id = self._queue.get()
            if event_id:
                self._deliver_with_retries(event_id)

    def _deliver_with_retries(self, event_id: str) -> None:
        settings = self._settings()
        for attempt in range(1, settings.retries + 2):
            if not self._settings().deliver:
                self._set_status(event_id, "held")
                return
            if self.status.get(event_id) != "queued":  # reset, or delivered by hand
                return
            if self._attempt(event_id, attempt=attempt, trigger="auto")["ok"]:
                return
            if attempt <= settings.retries and self._stop.wait(
                settings.retry_delay * 2 ** (attempt - 1)
            ):
                return
        self._set_status(event_id, "failed")

    def _attempt(self, event_id: str, *, attempt: int, trigger: str) -> Obj:
        settings = self._settings()
        with self._state.lock:
            event = self._state.get("events", event_id)
            payload = json.dumps(event, indent=2)
        record: Obj = {
            "event_id": event_id,
            "type": event["type"],
            "attempt": attempt,
            "trigger": trigger,
            "url": settings.url,
            "at": time.time(),
            "status": None,
            "error": None,
            "ok": False,
        }
        if not settings.url:
            record["error"] = "no webhook_url configured"
        else:
            record.update(self._send(settings, payload))
        with self._lock:
            self.attempts.append(record)
            if record["ok"]:
                self.status[event_id] = "delivered"
        if record["ok"]:
            self._state.set_pending_webhooks(event_id, 0)
        return record

    @staticmethod
    def _send(settings: WebhookSettings, payload: str) -> dict[str, Any]:
        signature = sign(payload, settings.secret or "", int(time.time()))
        try:
            status, body = post_event(str(settings.url), payload, signature, settings.timeout)
        except OSError as exc:
            return {"error": f"{type(exc).__name__}: {exc}", "signature": signature}
        return {
            "status": status,
            "ok": 200 <= status < 300,
            "response": body,
            "signature": signature,
        }

    def _set_status(self, event_id: str, status: str) -> None:
        with self._lock:
            self.status[event_id] = status
