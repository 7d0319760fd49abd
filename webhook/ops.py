"""The operators' page (docs/ops.md): `GET /ops` (HTML, charts as inline SVG) and
`GET /ops/data.json`, for users whose token says `app_metadata.role` = admin.

A browser signs in by pasting an access token into the form (`POST /ops/login` keeps it in an
HttpOnly, SameSite=Strict cookie, `Secure` when the request came over HTTPS, directly or per
X-Forwarded-Proto, and always with WAYFARE_ENV=production); tools send
`Authorization: Bearer <token>`. Every /ops response carries a strict Content-Security-Policy
(no script; only the page's own style blocks, by hash), X-Frame-Options DENY and
Cache-Control no-store.

Alerts (thresholds from the environment):
- web p95 latency over OPS_P95_ALERT_S (3 s), from this process's request histogram, and job
  pickup p95 (queued to started) over the same threshold;
- error rate over OPS_ERROR_RATE_ALERT (5 %): failed jobs, and the web service's 5xx;
- oldest queued job over OPS_OLDEST_QUEUED_ALERT_S (120 s);
- Stripe signature failures: at least OPS_SIGNATURE_FAILURES_ALERT (5) in the last
  OPS_SIGNATURE_WINDOW_S (900 s) in this process (a wrong STRIPE_WEBHOOK_SECRET, or someone
  probing the endpoint).
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from markupsafe import escape
from prometheus_client import CollectorRegistry

from wayfare import stripe_version
from wayfare.errors import ApiError
from webhook import monitoring
from webhook.auth import COOKIE, TokenVerifier
from webhook.db import Database
from webhook.ops_charts import bars, line, table

blueprint = Blueprint("ops", __name__)
VERIFIER = "wayfare.ops_verifier"


def _threshold(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def verifier() -> TokenVerifier:
    if VERIFIER not in current_app.extensions:
        current_app.extensions[VERIFIER] = TokenVerifier(
            current_app.extensions["wayfare.settings"])
    return current_app.extensions[VERIFIER]


def wants_html() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def snapshot(database: Database) -> dict[str, Any]:
    """private.ops_snapshot() through the web service's door (role wayfare_web), within the
    ops statement time limit (webhook/db.py)."""
    return database.ops_snapshot()


def email_snapshot(database: Database) -> dict[str, Any]:
    """private.email_outbox_snapshot(): booking emails by status, failed ones (no addresses)."""
    return database.email_outbox_snapshot()


def email_section(email: dict[str, Any]) -> str:
    failed = email.get("failed") or []
    return (f"<div class=num>{email['pending']} pending · {len(failed)} failed</div>"
            + bars(sorted(email["by_status"].items()), "emails by status (24 h)")
            + table(["failed at", "kind", "booking", "attempts", "reason"],
                    [[f["failed_at"][:19], f["kind"], f["booking_id"], f["attempts"], f["error"]]
                     for f in failed]))


def web_stats(registry: CollectorRegistry | None) -> dict[str, float | None]:
    """p95 latency and 5xx rate of this process's requests, from its histogram."""
    if registry is None:
        return {"p95_seconds": None, "error_rate": None, "requests": 0,
                "signature_failures": 0}
    buckets: dict[float, float] = {}
    total = errors = 0.0
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == "wayfare_http_request_duration_seconds_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
            elif sample.name == "wayfare_http_requests_total":
                total += sample.value
                if sample.labels.get("status", "").startswith("5"):
                    errors += sample.value
    p95 = None
    if buckets and buckets.get(float("inf"), 0) > 0:
        target = 0.95 * buckets[float("inf")]
        p95 = next(bound for bound in sorted(buckets) if buckets[bound] >= target)
    return {"p95_seconds": p95, "error_rate": errors / total if total else None,
            "requests": total, "signature_failures": 0}


def alerts(snap: dict[str, Any], web: dict[str, Any]) -> list[str]:
    p95_limit = _threshold("OPS_P95_ALERT_S", 3.0)
    rate_limit = _threshold("OPS_ERROR_RATE_ALERT", 0.05)
    oldest_limit = _threshold("OPS_OLDEST_QUEUED_ALERT_S", 120.0)
    out = []
    if web["p95_seconds"] is not None and web["p95_seconds"] > p95_limit:
        out.append(f"web p95 latency {web['p95_seconds']:.2f} s is over {p95_limit:g} s")
    pickup = (snap["jobs"].get("pickup_seconds") or {}).get("p95")
    if pickup is not None and pickup > p95_limit:
        out.append(f"job pickup p95 {pickup:.2f} s is over {p95_limit:g} s")
    jobs = snap["jobs"]
    finished = jobs["completed"] + jobs["failed"]
    if finished and jobs["failed"] / finished > rate_limit:
        out.append(f"job error rate {jobs['failed'] / finished:.1%} is over {rate_limit:.0%}")
    if web["error_rate"] is not None and web["error_rate"] > rate_limit:
        out.append(f"web 5xx rate {web['error_rate']:.1%} is over {rate_limit:.0%}")
    oldest = snap["queue"].get("oldest_queued_seconds")
    if oldest is not None and oldest > oldest_limit:
        out.append(f"oldest queued job waits {oldest:.0f} s (over {oldest_limit:g} s)")
    failures = web.get("signature_failures") or 0
    failures_limit = _threshold("OPS_SIGNATURE_FAILURES_ALERT", 5)
    if failures and failures >= failures_limit:
        window = _threshold("OPS_SIGNATURE_WINDOW_S", 900.0)
        out.append(f"{failures} Stripe webhook signature failures in the last {window:g} s "
                   "(check STRIPE_WEBHOOK_SECRET)")
    return out


def report() -> dict[str, Any]:
    snap = snapshot(current_app.extensions["wayfare.db"])
    metrics = current_app.extensions.get("wayfare.metrics")
    web = web_stats(getattr(metrics, "registry", None))
    if metrics is not None:
        web["signature_failures"] = metrics.signature_failures_within(
            _threshold("OPS_SIGNATURE_WINDOW_S", 900.0))
    email = email_snapshot(current_app.extensions["wayfare.db"])
    found = alerts(snap, web)
    found.extend(stripe_version.alerts())  # webhook endpoint on another Stripe API version
    if email["failed"]:
        found.append(f"{len(email['failed'])} booking email(s) failed permanently in 24 h")
    pending_limit = _threshold("OPS_EMAIL_PENDING_ALERT_S", 3600.0)
    if (email.get("oldest_pending_seconds") or 0) > pending_limit:
        found.append(f"a booking email waits {email['oldest_pending_seconds']:.0f} s "
                     f"(over {pending_limit:g} s): is SMTP reachable?")
    api = monitoring.api_report()  # per endpoint, from the gateway log (issue 13)
    found.extend(monitoring.api_alerts(api))
    queries = monitoring.query_report(current_app.extensions["wayfare.db"])
    return {"snapshot": snap, "web": web, "alerts": found, "email": email, "api": api,
            "queries": queries}


@blueprint.get("/ops/data.json")
def data() -> Response:
    verifier().operator(request)
    return jsonify(report())


@blueprint.get("/ops")
def page() -> Response:
    try:
        operator = verifier().operator(request)
    except ApiError as exc:
        if wants_html() and exc.spec.code == "UNAUTHORIZED":
            return login_page(exc.message, status=401)
        raise
    return Response(render(report(), operator.email or operator.user_id),
                    mimetype="text/html")


@blueprint.post("/ops/login")
def login() -> Response:
    token = (request.form.get("token") or "").strip()
    try:
        verifier().operator_for(token)
    except ApiError as exc:
        return login_page(exc.message, status=exc.status)
    response = redirect("/ops", code=303)
    settings = current_app.extensions["wayfare.settings"]
    response.set_cookie(COOKIE, token, max_age=3600, httponly=True, samesite="Strict",
                        secure=over_https() or settings.production, path="/ops")
    return response


@blueprint.post("/ops/logout")
def logout() -> Response:
    response = redirect("/ops", code=303)
    response.delete_cookie(COOKIE, path="/ops")
    return response


PAGE_CSS = """body{font:14px system-ui,sans-serif;margin:24px;color:#1d2433;background:#f6f7f9}
h1{font-size:20px}h2{font-size:15px;margin:0 0 8px}section{background:#fff;
border:1px solid #dde1e8;border-radius:8px;padding:14px;margin:0 0 14px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:14px}
.alert{background:#fdecec;border-color:#e5a3a3;color:#8a1c1c}.ok{background:#ecf8ef;
border-color:#a3d9b1}.num{font-size:22px;font-weight:600}td,th{padding:2px 8px;
text-align:left}small{color:#667}"""

LOGIN_CSS = "body{font:14px system-ui;margin:40px}"

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="10"><title>Wayfare ops</title>
<style>{css}</style></head><body>
<h1>Wayfare operations</h1><small>signed in as {who}; window {window}; refreshed every 10 s
</small>{content}</body></html>"""

LOGIN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Wayfare ops
</title><style>{css}</style></head><body><h1>Wayfare operations</h1>
<p>{message}</p><form method="post" action="/ops/login"><label>Operator access token<br>
<textarea name="token" rows="4" cols="70" required></textarea></label><br>
<button type="submit">Sign in</button></form></body></html>"""


def _style_hash(css: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


# Nothing but our two inline style blocks (by hash): no script, no frame, no other origin; the
# form posts only here. Every /ops response also gets DENY framing and no-store caching.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src {_style_hash(PAGE_CSS)} {_style_hash(LOGIN_CSS)}; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@blueprint.after_request
def security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def over_https() -> bool:
    """The request reached us over HTTPS, directly or through a proxy that terminated TLS
    (X-Forwarded-Proto). Trusting the header here can only add `Secure` to a cookie."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.is_secure or forwarded == "https"


def login_page(message: str, *, status: int) -> Response:
    return Response(LOGIN.format(css=LOGIN_CSS, message=escape(message)), status=status,
                    mimetype="text/html")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def minutes(rows: list[dict[str, Any]], snap: dict[str, Any]) -> list[dict[str, Any]]:
    """Every minute of the window (at most the last 60), zeros where nothing finished."""
    by_minute = {row["minute"][:16]: row for row in rows}
    now = datetime.fromisoformat(snap["generated_at"]).replace(second=0, microsecond=0)
    count = max(2, min(60, int(snap["window_seconds"] // 60)))
    out = []
    for back in range(count - 1, -1, -1):
        key = (now - timedelta(minutes=back)).isoformat()[:16]
        row = by_minute.get(key, {})
        out.append({"minute": key, "completed": row.get("completed", 0),
                    "failed": row.get("failed", 0), "latency_p95": row.get("latency_p95")})
    return out


def render(rep: dict[str, Any], who: str) -> str:
    snap, web = rep["snapshot"], rep["web"]
    jobs, queue, hooks = snap["jobs"], snap["queue"], snap["webhooks"]
    latency = jobs.get("latency_seconds") or {}
    finished = jobs["completed"] + jobs["failed"]
    sections = []
    if rep["alerts"]:
        items = "".join(f"<li>{escape(a)}</li>" for a in rep["alerts"])
        sections.append(f'<section class="alert"><h2>Active alerts</h2><ul>{items}</ul></section>')
    else:
        sections.append('<section class="ok"><h2>No active alerts</h2></section>')
    per_minute = minutes(jobs.get("per_minute") or [], snap)
    grid = [
        f"<section><h2>Queue</h2><div class=num>{queue['queued']} queued, "
        f"{queue['processing']} running</div><small>oldest queued: "
        f"{_seconds(queue.get('oldest_queued_seconds'))}</small>"
        + table(["type", "queued", "running"],
                [[q["type"], q["queued"], q["processing"]] for q in queue["by_type"]])
        + "</section>",
        f"<section><h2>Job latency (created to finished)</h2><div class=num>p50 "
        f"{_seconds(latency.get('p50'))} · p95 {_seconds(latency.get('p95'))} · p99 "
        f"{_seconds(latency.get('p99'))}</div>"
        + line([(m["minute"][11:16], m["latency_p95"]) for m in per_minute],
               "p95 latency per minute (s)")
        + "</section>",
        f"<section><h2>Error rates</h2><div class=num>jobs "
        f"{(jobs['failed'] / finished if finished else 0):.1%} · web 5xx "
        f"{(web['error_rate'] or 0):.1%}</div>"
        + bars([(m["minute"][11:16], m["failed"]) for m in per_minute], "failed jobs per minute")
        + "</section>",
        "<section><h2>AI token use</h2>"
        + bars([(a["model"], a["tokens"]) for a in snap["ai"]], "tokens per model")
        + table(["model", "calls", "errors", "tokens"],
                [[a["model"], a["calls"], a["errors"], a["tokens"]] for a in snap["ai"]])
        + "</section>",
        f"<section><h2>Stripe webhooks</h2><div class=num>{hooks['events']} events · lag p50 "
        f"{_seconds(hooks.get('lag_seconds_p50'))} · p95 "
        f"{_seconds(hooks.get('lag_seconds_p95'))}</div>"
        + bars(sorted(hooks["by_outcome"].items()), "events by outcome")
        + "</section>",
        "<section><h2>Bookings</h2>"
        + bars(sorted(snap["bookings"].items()), "bookings by status") + "</section>",
        "<section><h2>Booking emails</h2>" + email_section(rep["email"]) + "</section>",
    ]
    sections.append('<div class="grid">' + "".join(grid) + "</div>")
    sections.extend(monitoring.sections(rep["api"], rep["queries"]))
    window = f"{snap['window_seconds'] / 60:.0f} min"
    return PAGE.format(css=PAGE_CSS, who=escape(who), window=window,
                       content="".join(sections))
