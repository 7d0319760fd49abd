"""API latency by endpoint and query times per RPC, for /ops and /metrics (issue 13).

- **API latency and error rate by endpoint** from the local gateway's JSON access log
  (devstack/localapi.py writes `{"time","method","path","status","duration_s",...}` lines to
  `<home>/access.log`): requests, p50/p95/p99 and the 5xx rate per `METHOD path` (ids in the
  path collapsed to `:id`) over the last OPS_API_WINDOW_S (900 s). The log is
  WAYFARE_API_ACCESS_LOG (`make run` sets it to `.local/api/access.log`; unset: no section).
  On hosted Supabase there is no such file: the same numbers come from the project's API logs
  (docs/deploy.md, "Hosted API latency and errors").
- **Alerts** per endpoint: p95 over OPS_P95_ALERT_S (3 s) and 5xx rate over
  OPS_ERROR_RATE_ALERT (5 %), each once the endpoint has OPS_API_MIN_REQUESTS (20) requests in
  the window (one failed request out of two is not an outage).
- **Query times per RPC** from pg_stat_statements through private.rpc_query_stats(): calls,
  mean, max and total execution time of every public function PostgREST called.

/metrics gets them as gauges: wayfare_api_latency_seconds{endpoint,quantile},
wayfare_api_requests_window{endpoint}, wayfare_api_error_rate{endpoint},
wayfare_db_rpc_calls{rpc}, wayfare_db_rpc_mean_seconds{rpc}, wayfare_db_rpc_max_seconds{rpc},
wayfare_db_rpc_total_seconds{rpc}.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from markupsafe import escape
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from wayfare.logs import get_logger
from webhook.db import Database

log = get_logger("webhook.monitoring")
MAX_TAIL_BYTES = 32 * 1024 * 1024
CACHE_SECONDS = 5.0
ID_SEGMENT = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+|[A-Za-z0-9_-]{32,})$")


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def access_log_path() -> Path | None:
    configured = os.environ.get("WAYFARE_API_ACCESS_LOG")
    return Path(configured) if configured else None


def endpoint_of(method: str, path: str) -> str:
    segments = [":id" if ID_SEGMENT.match(s) else s for s in path.split("?")[0].split("/")]
    return f"{method.upper()} {'/'.join(segments) or '/'}"


def read_entries(path: Path, window_s: float, now: float | None = None) -> list[dict[str, Any]]:
    """The access log's entries of the last `window_s` seconds (from its last 32 MB)."""
    now = time.time() if now is None else now
    since = now - window_s
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - MAX_TAIL_BYTES))
            if size > MAX_TAIL_BYTES:
                handle.readline()  # a partial line
            raw = handle.read()
    except OSError:
        return []
    out = []
    for line in raw.splitlines():
        try:
            entry = json.loads(line)
            moment = datetime.fromisoformat(entry["time"]).timestamp()
            duration = float(entry["duration_s"])
            status = int(entry["status"])
        except (ValueError, KeyError, TypeError):
            continue
        if moment >= since:
            out.append({"endpoint": endpoint_of(str(entry.get("method", "?")),
                                                str(entry.get("path", "?"))),
                        "status": status, "duration_s": duration})
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return values[max(0, math.ceil(q * len(values)) - 1)]


def api_latency(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_endpoint.setdefault(entry["endpoint"], []).append(entry)
    rows = []
    for endpoint, items in by_endpoint.items():
        durations = sorted(e["duration_s"] for e in items)
        errors = sum(1 for e in items if e["status"] >= 500)
        rows.append({"endpoint": endpoint, "requests": len(items),
                     "p50_s": percentile(durations, 0.50), "p95_s": percentile(durations, 0.95),
                     "p99_s": percentile(durations, 0.99), "errors": errors,
                     "error_rate": errors / len(items)})
    return sorted(rows, key=lambda r: (-r["p95_s"], r["endpoint"]))


def api_report(now: float | None = None) -> dict[str, Any]:
    window = _float("OPS_API_WINDOW_S", 900.0)
    path = access_log_path()
    if path is None:
        return {"available": False, "window_seconds": window, "endpoints": [],
                "reason": "no gateway access log here (hosted: the project's API logs, "
                          "docs/deploy.md)"}
    return {"available": True, "window_seconds": window, "source": path.name,
            "endpoints": api_latency(read_entries(path, window, now))}


def api_alerts(api: dict[str, Any]) -> list[str]:
    p95_limit = _float("OPS_P95_ALERT_S", 3.0)
    rate_limit = _float("OPS_ERROR_RATE_ALERT", 0.05)
    minimum = _float("OPS_API_MIN_REQUESTS", 20)
    out = []
    for row in api.get("endpoints") or []:
        if row["requests"] < minimum:
            continue
        if row["p95_s"] > p95_limit:
            out.append(f"{row['endpoint']} p95 {row['p95_s']:.2f} s is over {p95_limit:g} s")
        if row["error_rate"] > rate_limit:
            out.append(f"{row['endpoint']} error rate {row['error_rate']:.1%} is over "
                       f"{rate_limit:.0%} ({row['errors']} of {row['requests']} answered 5xx)")
    return out


def query_report(database: Database) -> dict[str, Any]:
    try:
        return dict(database.rpc_query_stats())
    except Exception as exc:  # an older schema, the database away: say so, do not fail /ops
        log.warning("ops.query_stats_failed", error_type=type(exc).__name__)
        return {"available": False, "reason": "query statistics unavailable", "rpcs": []}


# ------------------------------------------------------------------------------ charts
def _fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def hbars(rows: Sequence[tuple[str, float]], title: str, fmt: Callable[[float], str],
          limit: float | None = None) -> str:
    """A horizontal bar chart: full labels on the left, each value written at its bar, an axis
    from 0 to the largest value (and a dashed line at `limit`, e.g. the alert threshold)."""
    if not rows:
        return f"<p><small>{escape(title)}: no data in the window</small></p>"
    label_w, bar_w, row_h, top_pad = 250, 260, 18, 26
    width = label_w + bar_w + 80
    height = top_pad + row_h * len(rows) + 22
    top = max([v for _, v in rows] + ([limit] if limit else [])) or 1.0
    parts = [f'<text x="0" y="14" font-size="12" font-weight="600">{escape(title)}</text>']
    for i, (label, value) in enumerate(rows):
        y = top_pad + i * row_h
        w = bar_w * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" font-size="11" '
                     f'text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="12" '
                     f'fill="#4b7bec"/><text x="{label_w + w + 4:.1f}" y="{y + 13}" '
                     f'font-size="11">{escape(fmt(value))}</text>')
    axis_y = top_pad + row_h * len(rows) + 4
    parts.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + bar_w}" y2="{axis_y}" '
                 'stroke="#667"/>'
                 f'<text x="{label_w}" y="{axis_y + 14}" font-size="10" fill="#667">0</text>'
                 f'<text x="{label_w + bar_w}" y="{axis_y + 14}" font-size="10" fill="#667" '
                 f'text-anchor="end">{escape(fmt(top))}</text>')
    if limit:
        x = label_w + bar_w * limit / top
        parts.append(f'<line x1="{x:.1f}" y1="{top_pad}" x2="{x:.1f}" y2="{axis_y}" '
                     'stroke="#c92a2a" stroke-dasharray="4 3"/>'
                     f'<text x="{x + 3:.1f}" y="{top_pad - 3}" font-size="10" fill="#c92a2a">'
                     f'alert {escape(fmt(limit))}</text>')
    return (f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
            + "".join(parts) + "</svg>")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def sections(api: dict[str, Any], queries: dict[str, Any]) -> list[str]:
    """The two /ops sections (HTML)."""
    minutes = api["window_seconds"] / 60
    if api["available"]:
        rows = api["endpoints"][:15]
        body = (hbars([(r["endpoint"], r["p95_s"]) for r in rows],
                      "p95 latency by endpoint", _fmt_s, _float("OPS_P95_ALERT_S", 3.0))
                + _table(["endpoint", "requests", "p50", "p95", "p99", "5xx rate"],
                         [[r["endpoint"], r["requests"], _fmt_s(r["p50_s"]), _fmt_s(r["p95_s"]),
                           _fmt_s(r["p99_s"]), f"{r['error_rate']:.1%}"] for r in rows]))
    else:
        body = f"<p><small>{escape(api['reason'])}</small></p>"
    api_html = (f"<section><h2>API latency by endpoint (gateway, last {minutes:.0f} min)</h2>"
                + body + "</section>")
    if queries.get("available"):
        rpcs = queries["rpcs"][:15]
        body = (hbars([(r["rpc"], float(r["mean_ms"] or 0)) for r in rpcs],
                      "mean query time per RPC", lambda v: f"{v:.1f} ms")
                + _table(["rpc", "calls", "mean", "max", "total"],
                         [[r["rpc"], r["calls"], f"{float(r['mean_ms']):.1f} ms",
                           f"{float(r['max_ms']):.1f} ms", f"{float(r['total_ms']):.0f} ms"]
                          for r in rpcs]))
    else:
        body = f"<p><small>{escape(str(queries.get('reason')))}</small></p>"
    query_html = ("<section><h2>Query time per RPC (pg_stat_statements, since reset)</h2>"
                  + body + "</section>")
    return [api_html, query_html]


# ------------------------------------------------------------------------------ /metrics
class MonitoringCollector(Collector):
    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, Any], dict[str, Any]] | None = None

    def reports(self) -> tuple[dict[str, Any], dict[str, Any]]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > CACHE_SECONDS:
                self._cached = (time.monotonic(), api_report(), query_report(self.database))
            return self._cached[1], self._cached[2]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        api, queries = self.reports()
        latency = GaugeMetricFamily("wayfare_api_latency_seconds",
                                    "API latency by endpoint over the window (gateway log).",
                                    labels=["endpoint", "quantile"])
        requests = GaugeMetricFamily("wayfare_api_requests_window",
                                     "API requests by endpoint in the window.",
                                     labels=["endpoint"])
        errors = GaugeMetricFamily("wayfare_api_error_rate",
                                   "Share of 5xx answers by endpoint in the window.",
                                   labels=["endpoint"])
        for row in api["endpoints"]:
            for quantile in ("p50", "p95", "p99"):
                latency.add_metric([row["endpoint"], quantile], row[f"{quantile}_s"])
            requests.add_metric([row["endpoint"]], row["requests"])
            errors.add_metric([row["endpoint"]], row["error_rate"])
        yield latency
        yield requests
        yield errors
        families = {
            "calls": GaugeMetricFamily("wayfare_db_rpc_calls",
                                       "Calls per RPC (pg_stat_statements).", labels=["rpc"]),
            "mean_ms": GaugeMetricFamily("wayfare_db_rpc_mean_seconds",
                                         "Mean execution time per RPC.", labels=["rpc"]),
            "max_ms": GaugeMetricFamily("wayfare_db_rpc_max_seconds",
                                        "Longest execution per RPC.", labels=["rpc"]),
            "total_ms": GaugeMetricFamily("wayfare_db_rpc_total_seconds",
                                          "Total execution time per RPC.", labels=["rpc"]),
        }
        for row in queries.get("rpcs") or []:
            for key, family in families.items():
                value = float(row[key] or 0)
                family.add_metric([row["rpc"]], value if key == "calls" else value / 1000)
        yield from families.values()


def init_app(app: Flask, database: Database) -> None:
    """Register the collector on the app's metrics registry (after metrics.init_app)."""
    app.extensions["wayfare.metrics"].registry.register(MonitoringCollector(database))
