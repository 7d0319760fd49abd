"""Completions waiting to be written. Handler threads add (job, result); the claim loop
writes them in batches: with its next claim, in the same transaction (one commit for both),
or alone once they are due (see `due`). Under load that is one commit per batch of jobs;
when the worker is quiet, a finished job is written at once."""

from __future__ import annotations

import logging
import threading
import time

from wayfare.logs import get_logger, log_context
from worker.inflight import Inflight, InflightSet
from worker.stats import TypeStats

log = get_logger("worker.completions")

MAX_AGE = 0.01  # seconds a completion may wait for a claim to ride along with
SLOW_LOG_SECONDS = 1.0  # jobs that ran at least this long are logged one by one at INFO


class Completions:
    def __init__(self, inflight: InflightSet, stats: TypeStats, *, batch: int) -> None:
        self.inflight = inflight
        self.stats = stats
        self.batch = max(1, batch)
        self._lock = threading.Lock()
        self._items: list[tuple[Inflight, str]] = []
        self._oldest = 0.0

    def add(self, item: Inflight, result_json: str) -> int:
        """Queue a completion; returns how many are waiting."""
        with self._lock:
            if not self._items:
                self._oldest = time.monotonic()
            self._items.append((item, result_json))
            return len(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def due_in(self) -> float | None:
        """Seconds until the waiting completions must be written (None: none waiting)."""
        with self._lock:
            if not self._items:
                return None
            if len(self._items) >= self.batch:
                return 0.0
            return max(0.0, self._oldest + MAX_AGE - time.monotonic())

    def take(self, limit: int = 1000) -> list[tuple[Inflight, str]]:
        with self._lock:
            taken, self._items = self._items[:limit], self._items[limit:]
            if self._items:
                self._oldest = time.monotonic()
            return taken

    def put_back(self, items: list[tuple[Inflight, str]]) -> None:
        """A write failed: keep them for the next try."""
        with self._lock:
            self._items[:0] = items
            self._oldest = time.monotonic() - MAX_AGE

    def written(self, items: list[tuple[Inflight, str]], done: set[str]) -> None:
        """The database answered: forget these jobs, and say which were not ours any more."""
        now = time.monotonic()
        for item, _ in items:
            self.inflight.remove(item.job.id)
            ran = (item.finished or now) - (item.started or now)
            if item.job.id in done:
                self.stats.count(item.job.type, "completed")
                level = logging.INFO if ran >= SLOW_LOG_SECONDS else logging.DEBUG
                if log.isEnabledFor(level):
                    with log_context(job_id=item.job.id, request_id=item.job.request_id):
                        log.log(level, "job.completed", job_type=item.job.type,
                                attempt=item.job.attempt, seconds=round(ran, 3))
            else:
                self.stats.count(item.job.type, "lost")
                with log_context(job_id=item.job.id, request_id=item.job.request_id):
                    log.warning("job.lease_lost", job_type=item.job.type, at="complete")
