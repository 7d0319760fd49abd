"""JobContext: what a handler sees of its job, and how it reports back.

    @handler("demo.steps")
    def steps(ctx: JobContext) -> dict:
        done = ctx.checkpoint.get("done", 0)          # resume after the last checkpoint
        for step in range(done + 1, ctx.input["steps"] + 1):
            ctx.check_cancel()                        # JobCancelled / JobLost end the handler
            work(step)
            ctx.save_checkpoint("done", step, progress=100 * step // ctx.input["steps"])
        return {"steps": ctx.input["steps"]}

Checkpoints are written at once (the handler continues only once the database has them);
progress alone is written at most every PROGRESS_INTERVAL seconds (and with the next
checkpoint). Every write also extends the job's lease.

A handler reaches the database only through its context: the methods under "what handlers
may do in SQL" below, one per private.* function the worker's role may call for them
(backed by JobStore, worker/store.py). Handlers hold no connection and write no SQL.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from wayfare.logs import get_logger
from worker.errors import JobCancelled, JobLost
from worker.store import TRANSIENT, ClaimedJob, JobStore, retry_while_leased

log = get_logger("worker.context")

PROGRESS_INTERVAL = 0.5


class JobContext:
    def __init__(self, job: ClaimedJob, store: JobStore) -> None:
        self.job = job
        self._checkpoint: dict[str, Any] | None = None
        self._store = store
        # plain flags (a context is made per job, thousands a second): the Event that wakes
        # ctx.sleep() is made only by a handler that sleeps
        self._cancelled = False
        self._lost = False
        self._wakeup: threading.Event | None = None
        self._pending_progress: int | None = None
        self._last_write = 0.0
        self.cancel_seen_at: float | None = None

    # ------------------------------------------------------------------ what the job is
    @property
    def checkpoint(self) -> dict[str, Any]:
        """The job's checkpoints as stored (from earlier attempts too), plus those saved since."""
        if self._checkpoint is None:
            self._checkpoint = dict(self.job.checkpoints)
        return self._checkpoint

    @property
    def job_id(self) -> str:
        return self.job.id

    @property
    def type(self) -> str:
        return self.job.type

    @property
    def input(self) -> dict[str, Any]:
        return self.job.input

    @property
    def attempt(self) -> int:
        """1 on the first claim, 2 on the first retry or resume, ..."""
        return self.job.attempt

    @property
    def max_attempts(self) -> int:
        return self.job.max_attempts

    @property
    def request_id(self) -> str | None:
        return self.job.request_id

    @property
    def user_id(self) -> str | None:
        return self.job.user_id

    # ------------------------------------------------------------------ stopping
    @property
    def cancelled(self) -> bool:
        """The owner asked to cancel the job (seen through NOTIFY, a heartbeat or a write)."""
        return self._cancelled

    @property
    def lost(self) -> bool:
        return self._lost

    def check_cancel(self) -> None:
        """Raise JobLost when the lease is gone, JobCancelled when the owner asked to stop."""
        if self._lost:
            raise JobLost(self.job_id)
        if self._cancelled:
            raise JobCancelled(self.job_id)

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake (and raise, as check_cancel) as soon as the job must stop."""
        self.check_cancel()
        if seconds > 0:
            if self._wakeup is None:
                self._wakeup = threading.Event()
            if not (self._cancelled or self._lost):  # a flag set before the Event existed
                self._wakeup.wait(seconds)
        self.check_cancel()

    def mark_cancelled(self) -> None:
        if not self._cancelled:
            self.cancel_seen_at = time.monotonic()
            self._cancelled = True
            self._wake()

    def mark_lost(self) -> None:
        self._lost = True
        self._wake()

    def _wake(self) -> None:
        wakeup = self._wakeup
        if wakeup is not None:
            wakeup.set()

    # ------------------------------------------------------------------ reporting
    def progress(self, percent: int | float) -> None:
        """Report progress 0-100 (written now, or with the next write within 0.5 s)."""
        self._pending_progress = max(0, min(100, int(percent)))
        if time.monotonic() - self._last_write >= PROGRESS_INTERVAL:
            self._write(None)

    def save_checkpoint(self, key: str, value: Any, *, progress: int | float | None = None,
                        ) -> None:
        """Store checkpoints[key] = value (JSON) durably before returning."""
        self.save_checkpoints({key: value}, progress=progress)

    def save_checkpoints(self, values: dict[str, Any], *,
                         progress: int | float | None = None) -> None:
        """Merge `values` into the job's checkpoints durably before returning."""
        json.dumps(values)  # fail here, in the handler, when it is not JSON
        if progress is not None:
            self._pending_progress = max(0, min(100, int(progress)))
        self._write(values)
        self.checkpoint.update(values)

    def flush(self) -> None:
        """Write pending progress now."""
        if self._pending_progress is not None:
            self._write(None)

    def _write(self, checkpoint: dict[str, Any] | None) -> None:
        if self._lost:
            raise JobLost(self.job_id)
        progress = self._pending_progress
        try:  # the database is away: keep trying while the lease may still be ours
            state = retry_while_leased(
                lambda: self._store.heartbeat(self.job, progress=progress, checkpoint=checkpoint),
                max(self.job.lease_seconds, 1),
                on_retry=lambda: log.warning("job.write_retry", job_id=self.job_id))
        except TRANSIENT:
            self.mark_lost()
            raise JobLost(self.job_id) from None
        self._last_write = time.monotonic()
        if progress == self._pending_progress:
            self._pending_progress = None
        if state == "lost":
            self.mark_lost()
            raise JobLost(self.job_id)
        if state == "cancel":
            self.mark_cancelled()

    # ------------------------------------------------------------------ what handlers may do in SQL
    # Bookings (docs/payments.md): the payment handlers' reads and writes.
    def booking_for_payment(self, booking_id: str) -> dict[str, Any] | None:
        """The booking as the payment handlers need it (None: it no longer exists)."""
        return self._store.booking_for_payment(booking_id)

    def attach_payment_intent(self, booking_id: str, payment_intent_id: str,
                              client_secret: str | None) -> str | None:
        """Store the booking's PaymentIntent; returns the booking's status afterwards."""
        return self._store.attach_payment_intent(booking_id, payment_intent_id, client_secret)

    def cancel_unpaid_booking(self, booking_id: str, payment_intent_id: str | None,
                              ) -> str | None:
        """Cancel an unpaid booking whose PaymentIntent is this one (or none); returns its
        status, or `retry` when another PaymentIntent was attached meanwhile."""
        return self._store.cancel_unpaid_booking(booking_id, payment_intent_id)

    def record_refund(self, booking_id: str, amount_refunded: int) -> str | None:
        """Record a refund of this amount (cents); returns the booking's status."""
        return self._store.record_refund(booking_id, amount_refunded)

    def record_booking_error(self, booking_id: str, message: str, *,
                             mark_failed: bool = False) -> str | None:
        """Show the booking's owner a user-safe reason; `mark_failed` also moves an unpaid
        booking to payment_failed."""
        return self._store.record_booking_error(booking_id, message, mark_failed)

    def confirm_booking(self, booking_id: str) -> str | None:
        """paid -> confirmed; returns the status (None: no such booking)."""
        return self._store.confirm_booking(booking_id)

    # Booking emails (docs/payments.md, "Emails").
    def email_to_send(self, outbox_id: str) -> dict[str, Any] | None:
        """Lock the outbox row and count this attempt (None: the row is gone)."""
        return self._store.email_to_send(outbox_id)

    def email_sent(self, outbox_id: str) -> str | None:
        return self._store.email_sent(outbox_id)

    def email_failed(self, outbox_id: str, error: str, *, permanent: bool) -> str | None:
        return self._store.email_failed(outbox_id, error, permanent)

    # AI calls (docs/ai-providers.md).
    def log_ai_call(self, *, provider: str, model: str, purpose: str, prompt: str | None,
                    response: str | None, structured: Any, usage: dict[str, int],
                    duration_ms: int, attempts: int, error: str | None) -> bool:
        """One private.ai_logs row for this job (texts already redacted: the database keeps
        them only with the user's consent). When the database still finds personal data in
        the texts it refuses them and the row keeps usage only: returns False then."""
        return self._store.log_ai_call({
            "user_id": self.user_id, "job_id": self.job_id, "request_id": self.request_id,
            "provider": provider, "model": model, "purpose": purpose, "prompt": prompt,
            "response": response, "structured": structured, "usage": usage,
            "duration_ms": duration_ms, "attempts": attempts, "error": error})
