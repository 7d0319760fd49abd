"""Run one claimed job through its handler and record the outcome: completed (handed to
`on_result`, which batches completions), retried or failed (fail_job), cancelled
(cancel_confirmed), or dropped when the lease was lost. Handler exceptions never escape; job
input is never logged."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TypeVar

from wayfare.logs import get_logger, log_context
from worker.errors import JobCancelled, JobLost, PermanentError
from worker.inflight import Inflight, InflightSet
from worker.registry import Handler
from worker.stats import TypeStats
from worker.store import TRANSIENT, JobStore, retry_while_leased

log = get_logger("worker.runner")

T = TypeVar("T")


class Runner:
    def __init__(self, store: JobStore, on_result: Callable[[Inflight, str], None],
                 inflight: InflightSet, stats: TypeStats, handlers: dict[str, Handler]) -> None:
        self.store = store
        self.on_result = on_result
        self.inflight = inflight
        self.stats = stats
        self.handlers = handlers

    def run(self, item: Inflight) -> None:
        job, ctx = item.job, item.ctx
        with log_context(job_id=job.id, request_id=job.request_id):
            if ctx.lost:
                self.inflight.remove(job.id)
                return
            if ctx.cancelled:
                self._cancel(item)
                return
            fn = self.handlers.get(job.type)
            if fn is None:  # only claimed types are handled: defensive
                self._write(item, lambda: self.store.release_many([job.key]))
                self.inflight.remove(job.id)
                return
            item.started = time.monotonic()
            if item.slow:
                log.info("job.started", job_type=job.type, attempt=job.attempt)
            try:
                result = fn(ctx)
            except JobCancelled:
                self._finished(item)
                self._cancel(item)
            except JobLost:
                self._finished(item)
                self.inflight.remove(job.id)
                self.stats.count(job.type, "lost")
                log.warning("job.lease_lost", job_type=job.type, at="handler")
            except PermanentError as exc:
                self._finished(item)
                self._fail(item, exc, retryable=False, user_message=exc.user_message)
            except Exception as exc:  # anything else is worth another attempt
                self._finished(item)
                self._fail(item, exc, retryable=True)
            else:
                self._finished(item)
                try:
                    result_json = json.dumps(result)
                except (TypeError, ValueError) as exc:  # a bug in the handler: no retry helps
                    self._fail(item, exc, retryable=False)
                else:
                    self.on_result(item, result_json)

    def _finished(self, item: Inflight) -> None:
        item.finished = time.monotonic()
        self.stats.observe(item.job.type, item.finished - (item.started or item.finished))

    def _cancel(self, item: Inflight) -> None:
        if self._write(item, lambda: self.store.cancel_confirmed(item.job)):
            self.stats.count(item.job.type, "cancelled")
            log.info("job.cancelled", job_type=item.job.type, attempt=item.job.attempt)
        self.inflight.remove(item.job.id)

    def _fail(self, item: Inflight, exc: BaseException, *, retryable: bool,
              user_message: str | None = None) -> None:
        job = item.job
        error = f"{type(exc).__name__}: {exc}"
        status = self._write(item, lambda: self.store.fail(
            job, error=error, retryable=retryable, user_message=user_message))
        self.inflight.remove(job.id)
        self.stats.count(job.type, status or "lost")
        # the exception's class, never its message: it may quote the job's input
        fields = {"job_type": job.type, "attempt": job.attempt, "error_type": type(exc).__name__,
                  "outcome": status}
        if status == "failed":
            log.warning("job.failed", **fields)
        else:
            log.info("job.attempt_failed", **fields)

    def _write(self, item: Inflight, call: Callable[[], T]) -> T | None:
        """Retry a write while the database is away and the lease may still be ours."""
        try:
            return retry_while_leased(call, item.job.lease_seconds)
        except TRANSIENT as exc:
            log.warning("worker.write_abandoned", error_type=type(exc).__name__)
            return None

