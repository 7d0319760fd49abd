"""Prometheus metrics of the web service (`GET /metrics`).

- wayfare_http_requests_total{endpoint, method, status}
- wayfare_http_request_duration_seconds{endpoint, method, status} (histogram)
- wayfare_stripe_webhook_events_total{type, outcome}
- wayfare_stripe_webhook_lag_seconds (histogram): receipt time minus the event's `created`
- wayfare_stripe_webhook_signature_failures_total{reason}: deliveries refused for their
  signature (missing_header, malformed_header, stale_timestamp, no_match); a burst of
  no_match usually means a wrong STRIPE_WEBHOOK_SECRET (an alert on /ops says so)

With METRICS_TOKEN set, a scrape must send `Authorization: Bearer <METRICS_TOKEN>` (else 401);
the service binds WAYFARE_WEB_HOST (127.0.0.1 by default).

`endpoint` is the route's rule (`/webhooks/stripe`), or `unmatched` for unknown paths, so a
scan of random URLs cannot blow up the label set. Each app has its own registry; with
several gunicorn worker processes each one reports its own series (run one process with
threads, the default of `python -m webhook`).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder

from wayfare.errors import ApiError

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 21600, 86400, 259200)
EXTENSION = "wayfare.metrics"
RECENT_FAILURES_KEPT = 10_000  # timestamps kept for the /ops alert window

blueprint = Blueprint("metrics", __name__)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "wayfare_http_requests", "HTTP requests by endpoint, method and status.",
            ["endpoint", "method", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "wayfare_http_request_duration_seconds",
            "HTTP request latency by endpoint, method and status.",
            ["endpoint", "method", "status"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.webhook_events = Counter(
            "wayfare_stripe_webhook_events", "Stripe events received, by type and outcome.",
            ["type", "outcome"], registry=self.registry,
        )
        self.webhook_lag = Histogram(
            "wayfare_stripe_webhook_lag_seconds",
            "Seconds from a Stripe event's creation to its receipt.",
            buckets=LAG_BUCKETS, registry=self.registry,
        )
        self.signature_failures = Counter(
            "wayfare_stripe_webhook_signature_failures",
            "Stripe deliveries refused for their signature, by reason.",
            ["reason"], registry=self.registry,
        )
        self._recent_failures: deque[float] = deque(maxlen=RECENT_FAILURES_KEPT)
        self._lock = threading.Lock()

    def observe_webhook(self, event_type: str, outcome: str, created: int | None) -> None:
        self.webhook_events.labels(event_type, outcome).inc()
        if created is not None:
            self.webhook_lag.observe(max(time.time() - created, 0.0))

    def observe_signature_failure(self, reason: str) -> None:
        self.signature_failures.labels(reason).inc()
        with self._lock:
            self._recent_failures.append(time.monotonic())

    def signature_failures_within(self, seconds: float) -> int:
        """Signature failures of this process in the last `seconds` (for the /ops alert)."""
        since = time.monotonic() - seconds
        with self._lock:
            while self._recent_failures and self._recent_failures[0] < since:
                self._recent_failures.popleft()
            return len(self._recent_failures)


def metrics() -> Metrics:
    return current_app.extensions[EXTENSION]


def init_app(app: Flask, registry: CollectorRegistry | None = None) -> Metrics:
    collected = Metrics(registry)
    app.extensions[EXTENSION] = collected

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def record(response: Response) -> Response:
        started = g.get("started")
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        labels = (endpoint, request.method, str(response.status_code))
        collected.requests.labels(*labels).inc()
        if started is not None:
            collected.latency.labels(*labels).observe(time.perf_counter() - started)
        return response

    app.register_blueprint(blueprint)
    return collected


def check_token(expected: str | None) -> None:
    """With METRICS_TOKEN set, a scrape must send `Authorization: Bearer <METRICS_TOKEN>`."""
    if expected is None:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                             expected.encode()):
        raise ApiError("UNAUTHORIZED", "This endpoint wants the metrics bearer token.",
                       headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


@blueprint.get("/metrics")
def expose() -> Response:
    """Prometheus text, in the format the scraper's Accept asks for (text 0.0.4 by default,
    text 1.0.0 or OpenMetrics when asked). The Content-Type is passed as is: Flask's
    `mimetype=` would append a second `charset`, which Prometheus 3 refuses."""
    check_token(getattr(current_app.extensions.get("wayfare.settings"), "metrics_token", None))
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = Response(encoder(metrics().registry))
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = "no-store"
    return response
