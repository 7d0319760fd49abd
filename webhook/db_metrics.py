"""Database-derived series for `GET /metrics` (docs/ops.md), read from
private.ops_snapshot() at scrape time (cached for a few seconds):

- wayfare_queue_depth{type, status}            jobs queued / processing now
- wayfare_queue_oldest_age_seconds             age of the oldest runnable queued job
- wayfare_jobs_finished_last_hour{type, outcome}
- wayfare_job_run_seconds_last_hour{type, quantile}   p50 / p95 of run time
- wayfare_job_latency_seconds_last_hour{quantile}     created to finished, p50 / p95 / p99
- wayfare_ai_tokens_last_hour{model}, wayfare_ai_calls_last_hour{model}

These are gauges over a sliding hour: the database keeps finished jobs and AI logs only for
their retention, so monotonic counters cannot be derived from it. A scrape whose database is
away reports wayfare_ops_snapshot_up 0 and nothing else from here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from wayfare.logs import get_logger

log = get_logger("webhook.db_metrics")
CACHE_SECONDS = 5.0


class SnapshotCollector(Collector):
    def __init__(self, load: Callable[[], dict[str, Any]]) -> None:
        self.load = load
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, Any] | None] = (0.0, None)

    def snapshot(self) -> dict[str, Any] | None:
        with self._lock:
            taken, snap = self._cached
            if snap is None or time.monotonic() - taken > CACHE_SECONDS:
                try:
                    snap = self.load()
                except Exception as exc:  # the database may be away: say so, do not fail
                    log.warning("metrics.snapshot_failed", error_type=type(exc).__name__)
                    snap = None
                self._cached = (time.monotonic(), snap)
            return snap

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.snapshot()
        up = GaugeMetricFamily("wayfare_ops_snapshot_up", "1 when the database answered.")
        up.add_metric([], 1 if snap else 0)
        yield up
        if not snap:
            return
        depth = GaugeMetricFamily("wayfare_queue_depth", "Jobs now queued or processing.",
                                  labels=["type", "status"])
        for row in snap["queue"]["by_type"]:
            depth.add_metric([row["type"], "queued"], row["queued"])
            depth.add_metric([row["type"], "processing"], row["processing"])
        yield depth
        oldest = GaugeMetricFamily("wayfare_queue_oldest_age_seconds",
                                   "Age of the oldest runnable queued job (0 when none).")
        oldest.add_metric([], snap["queue"].get("oldest_queued_seconds") or 0)
        yield oldest
        finished = GaugeMetricFamily("wayfare_jobs_finished_last_hour",
                                     "Jobs finished in the last hour by type and outcome.",
                                     labels=["type", "outcome"])
        run = GaugeMetricFamily("wayfare_job_run_seconds_last_hour",
                                "Run time of jobs finished in the last hour.",
                                labels=["type", "quantile"])
        for row in snap["jobs"]["by_type"]:
            for outcome in ("completed", "failed", "cancelled"):
                finished.add_metric([row["type"], outcome], row[outcome])
            for quantile in ("p50", "p95"):
                value = row.get(f"run_seconds_{quantile}")
                if value is not None:
                    run.add_metric([row["type"], quantile], value)
        yield finished
        yield run
        latency = GaugeMetricFamily("wayfare_job_latency_seconds_last_hour",
                                    "Created-to-finished latency of completed jobs.",
                                    labels=["quantile"])
        for quantile, value in (snap["jobs"].get("latency_seconds") or {}).items():
            if value is not None:
                latency.add_metric([quantile], value)
        yield latency
        tokens = GaugeMetricFamily("wayfare_ai_tokens_last_hour", "AI tokens by model.",
                                   labels=["model"])
        calls = GaugeMetricFamily("wayfare_ai_calls_last_hour", "AI calls by model.",
                                  labels=["model"])
        for row in snap["ai"]:
            tokens.add_metric([row["model"]], row["tokens"])
            calls.add_metric([row["model"]], row["calls"])
        yield tokens
        yield calls


def init_app(app: Flask, load: Callable[[], dict[str, Any]]) -> None:
    """Register the collector on the app's metrics registry (after metrics.init_app)."""
    registry = app.extensions["wayfare.metrics"].registry
    registry.register(SnapshotCollector(load))
