"""Error tracking with sentry-sdk when SENTRY_DSN is set (both processes; docs/deploy.md).

`init(service)` is a no-op without SENTRY_DSN. With it, unhandled exceptions (Flask requests,
the worker's threads) and ERROR log lines go to Sentry, scrubbed before they leave the process
(`scrub`, the `before_send` hook): no request bodies, cookies or query strings, no
Authorization / apikey / Stripe-Signature / Cookie headers, no user, no frame locals, and every
remaining string passed through wayfare.redact (emails, phone numbers, passport numbers, names
with their cue, card numbers...). `send_default_pii` stays off. Settings: SENTRY_DSN,
SENTRY_ENVIRONMENT (default WAYFARE_ENV), SENTRY_RELEASE, SENTRY_TRACES_SAMPLE_RATE (0).
"""

from __future__ import annotations

import os
from typing import Any

from wayfare.logs import get_logger
from wayfare.redact import redact

log = get_logger("wayfare.errortracking")
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "apikey",
                               "stripe-signature", "x-api-key", "proxy-authorization"})
REDACTED = "[Filtered]"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def scrub(event: dict[str, Any], _hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_send: drop what may hold secrets or personal data, redact the rest."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: (REDACTED if k.lower() in SENSITIVE_HEADERS else v)
                                  for k, v in headers.items()}
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for key in ("exception", "logentry", "message", "breadcrumbs", "extra", "contexts"):
        if key in event:
            event[key] = _clean(event[key])
    return event


def init(service: str) -> bool:
    """Start sentry-sdk for `service` ("worker" or "web") when SENTRY_DSN is set."""
    dsn = os.environ.get("SENTRY_DSN", "").strip()
    if not dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=os.environ.get("SENTRY_ENVIRONMENT")
        or os.environ.get("WAYFARE_ENV", "development"),
        release=os.environ.get("SENTRY_RELEASE") or None,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0") or 0),
        before_send=scrub,  # type: ignore[arg-type]
        before_send_transaction=scrub,  # type: ignore[arg-type]
    )
    sentry_sdk.set_tag("service", service)
    log.info("errortracking.started", service=service)
    return True
