"""The Stripe API version Wayfare speaks, pinned in code (docs/deploy.md, "Stripe").

STRIPE_API_VERSION is the version the pinned stripe-python library (16.1.0) sends
(`stripe.api_version`); the worker passes it explicitly on every client, so a different
library in the allowed range still speaks it. Stripe renders webhook payloads in the
*endpoint's* version, so the web service checks it: at start against the endpoint's settings
(`check_endpoints`, when it has a STRIPE_API_KEY) and on every event (`observe_event`, the
event's `api_version`). A mismatch is logged once per version (`stripe.api_version_mismatch`)
and is an alert on /ops until the process restarts.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from wayfare.logs import get_logger

STRIPE_API_VERSION = "2026-10-28.endive"
WEBHOOK_PATH = "/webhooks/stripe"

log = get_logger("wayfare.stripe_version")
_lock = threading.Lock()
_mismatches: dict[str, str] = {}  # version seen -> where (event or endpoint id)


def _mismatch(version: str, where: str) -> None:
    with _lock:
        first = version not in _mismatches
        _mismatches[version] = where
    if first:
        log.error("stripe.api_version_mismatch", expected=STRIPE_API_VERSION, got=version,
                  where=where)


def observe_event(event: dict[str, Any]) -> bool:
    """Record the event's api_version; False (and an alert) when it is not the pinned one."""
    version = event.get("api_version")
    if not isinstance(version, str) or version == STRIPE_API_VERSION:
        return True
    _mismatch(version, f"event {event.get('id')}")
    return False


def check_endpoints(api_key: str, api_base: str | None = None,
                    timeout: float = 10.0) -> list[str]:
    """At start: the versions of the account's endpoints that point at /webhooks/stripe and
    differ from the pin (each recorded as a mismatch). Errors are logged, never raised."""
    base = (api_base or "https://api.stripe.com").rstrip("/")
    try:
        response = httpx.get(f"{base}/v1/webhook_endpoints", params={"limit": 100},
                             auth=(api_key, ""), timeout=timeout)
        response.raise_for_status()
        endpoints = response.json().get("data") or []
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("stripe.endpoint_check_failed", error=type(exc).__name__)
        return []
    wrong = []
    for endpoint in endpoints:
        if not str(endpoint.get("url", "")).rstrip("/").endswith(WEBHOOK_PATH):
            continue
        version = endpoint.get("api_version") or "account default"
        if version != STRIPE_API_VERSION:
            wrong.append(version)
            _mismatch(version, f"endpoint {endpoint.get('id')}")
    if not wrong:
        log.info("stripe.endpoint_version_ok", version=STRIPE_API_VERSION,
                 endpoints=len(endpoints))
    return wrong


def mismatches() -> dict[str, str]:
    """Versions other than the pin this process has seen (version -> where)."""
    with _lock:
        return dict(_mismatches)


def alerts() -> list[str]:
    return [f"Stripe sends API version {version} ({where}); Wayfare pins {STRIPE_API_VERSION}:"
            " set the webhook endpoint's version (docs/deploy.md)"
            for version, where in mismatches().items()]


def reset() -> None:
    """Tests only."""
    with _lock:
        _mismatches.clear()
