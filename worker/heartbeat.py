"""Heartbeats: a thread that extends the leases of every job this worker holds in one round
trip, at a third of the shortest lease, and reads back each job's state: 'cancel' tells the
handler to stop; 'lost' tells it that the job is no longer ours. A handler that ignores a
cancellation for a whole heartbeat interval is cancelled for it (its result is discarded).
Between pg_cron's minutely runs it also recovers expired leases, every WORKER_RECOVER_INTERVAL.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from wayfare.logs import get_logger, log_context
from worker.inflight import Inflight, InflightSet
from worker.stats import TypeStats
from worker.store import TRANSIENT, JobStore

log = get_logger("worker.heartbeat")

IDLE_TICK = 1.0
STATS_SECONDS = 60.0


class Heartbeater(threading.Thread):
    def __init__(self, store: JobStore, inflight: InflightSet, stats: TypeStats, *,
                 recover_interval: float, on_recovered: Callable[[], None],
                 stop: threading.Event) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.store = store
        self.inflight = inflight
        self.stats = stats
        self.recover_interval = recover_interval
        self.on_recovered = on_recovered
        self.stop_event = stop

    def interval(self) -> float:
        leases = [i.job.lease_seconds for i in self.inflight.snapshot()]
        return max(0.2, min(leases) / 3) if leases else IDLE_TICK

    def run(self) -> None:
        next_recover = time.monotonic() + random.uniform(0, self.recover_interval)
        next_stats = time.monotonic() + STATS_SECONDS
        last_beat = 0.0
        while not self.stop_event.wait(min(self.interval(), IDLE_TICK)):
            now = time.monotonic()
            try:
                if now - last_beat >= self.interval() - 0.05:
                    self.beat()
                    last_beat = time.monotonic()
                if now >= next_recover:
                    next_recover = now + self.recover_interval
                    recovered = self.store.recover_expired_leases()
                    if recovered:
                        log.info("worker.leases_recovered", jobs=recovered)
                        self.on_recovered()
            except TRANSIENT as exc:
                log.warning("worker.heartbeat_failed", error_type=type(exc).__name__)
            if now >= next_stats:
                next_stats = now + STATS_SECONDS
                outcomes = self.stats.take_outcomes()
                if outcomes:
                    log.info("worker.stats", held=len(self.inflight), outcomes=outcomes)

    def beat(self) -> None:
        items = self.inflight.snapshot()
        if not items:
            return
        states = self.store.heartbeat_many(i.job.key for i in items)
        interval = self.interval()
        now = time.monotonic()
        for item in items:
            if item.finished is not None:
                continue  # its completion is being written
            state = states.get(item.job.id, "lost")
            if state == "lost":
                if not item.ctx.lost:
                    with log_context(job_id=item.job.id, request_id=item.job.request_id):
                        log.warning("job.lease_lost", job_type=item.job.type)
                item.ctx.mark_lost()
            elif state == "cancel":
                item.ctx.mark_cancelled()
                seen = item.ctx.cancel_seen_at or now
                if item.started is not None and now - seen >= interval:
                    self.force_cancel(item)

    def force_cancel(self, item: Inflight) -> None:
        """The handler did not stop within a heartbeat: cancel the job without it."""
        with log_context(job_id=item.job.id, request_id=item.job.request_id):
            if self.store.cancel_confirmed(item.job):
                log.info("job.cancelled", job_type=item.job.type, forced=True)
                self.stats.count(item.job.type, "cancelled")
            item.ctx.mark_lost()
