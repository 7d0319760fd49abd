"""The worker's side of Postgres: one method per worker function in the database
(docs/jobs.md), over the worker's door (wayfare/db.py: a pool of session connections running
as WORKER_DB_ROLE, errors mapped to the error contract). Job handlers reach it only through
their JobContext (worker/context.py), never with SQL of their own."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg.types.json import Jsonb

from wayfare import db
from wayfare.logs import get_logger

log = get_logger("worker.store")

# Errors that mean "the database is (for now) unreachable": retry, never crash. They include
# a statement cancelled by the session's statement_timeout (DatabaseTimeout).
TRANSIENT = db.TRANSIENT

T = TypeVar("T")


def retry_while_leased(call: Callable[[], T], lease_seconds: float,
                       on_retry: Callable[[], None] | None = None) -> T:
    """Run `call`, retrying (backoff 50 ms doubling to 1 s) while the database is away and the
    lease may still be ours; past `lease_seconds` the last TRANSIENT error is raised."""
    deadline = time.monotonic() + lease_seconds
    delay = 0.05
    while True:
        try:
            return call()
        except TRANSIENT:
            if time.monotonic() + delay > deadline:
                raise
            if on_retry is not None:
                on_retry()
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


CONNECT_TIMEOUT = 10  # seconds to connect
IDLE_IN_TRANSACTION_MS = 60_000  # a transaction the worker left open (a bug) ends after a minute


class ClaimedJob:
    """A claimed job. Its input and checkpoints arrive as JSON text and are parsed on first
    use, in the handler's thread (the claim loop claims thousands a second)."""

    __slots__ = ("_checkpoints", "_checkpoints_text", "_input", "_input_text", "attempt",
                 "created_at", "id", "lease_seconds", "max_attempts", "request_id", "type",
                 "user_id")

    def __init__(self, id: str, type: str, input_text: str | None,
                 checkpoints_text: str | None, attempt: int, max_attempts: int,
                 lease_seconds: int, request_id: str | None, user_id: str | None,
                 created_at: datetime) -> None:
        self.id = id
        self.type = type
        self._input_text = input_text
        self._checkpoints_text = checkpoints_text
        self._input: dict[str, Any] | None = None
        self._checkpoints: dict[str, Any] | None = None
        self.attempt = attempt
        self.max_attempts = max_attempts
        self.lease_seconds = lease_seconds
        self.request_id = request_id
        self.user_id = user_id
        self.created_at = created_at

    @property
    def input(self) -> dict[str, Any]:
        if self._input is None:
            self._input = json.loads(self._input_text) if self._input_text else {}
        return self._input

    @property
    def checkpoints(self) -> dict[str, Any]:
        if self._checkpoints is None:
            self._checkpoints = (json.loads(self._checkpoints_text)
                                 if self._checkpoints_text else {})
        return self._checkpoints

    @property
    def key(self) -> tuple[str, int]:
        """The lease token: this job at this attempt."""
        return (self.id, self.attempt)

    def __repr__(self) -> str:  # never the input: it may hold personal data
        return f"ClaimedJob({self.id}, {self.type}, attempt={self.attempt})"


CLAIM_SQL = (
    "select id::text, type, input::text, checkpoints::text, attempt, max_attempts,"
    " lease_seconds, request_id, user_id::text, created_at"
    " from private.claim_jobs(%s, %s::text[], %s)"
)
COMPLETE_SQL = (
    "select private.complete_jobs(%s, %s::text[]::uuid[], %s::text[]::jsonb[], %s::int[])::text"
)


class JobStore:
    def __init__(self, database_url: str, *, worker_id: str, role: str = "", size: int = 7,
                 application_name: str = "wayfare-worker", statement_timeout: float = 30.0,
                 ) -> None:
        self.worker_id = worker_id
        self.database_url = database_url
        # WORKER_STATEMENT_TIMEOUT bounds every statement: one that runs longer (behind a
        # lock, say) is cancelled and retried like a lost connection
        self.session = db.Session(
            application_name=application_name, role=role,
            statement_timeout_ms=max(0, int(statement_timeout * 1000)),
            idle_in_transaction_ms=IDLE_IN_TRANSACTION_MS, connect_timeout=CONNECT_TIMEOUT,
            keepalives=True)
        self.door = db.Door(
            database_url, self.session, min_size=3, max_size=size, wait=10.0,
            name="wayfare-worker",
            reconnect_timeout=24 * 3600.0,  # keep trying: Postgres may be down for a while
        )

    def connect(self, application_name: str) -> db.Connection:
        """A connection of its own (the listener's), set up like the pool's."""
        return db.connect(self.database_url, self.session.named(application_name))

    def open(self, wait: bool = True) -> None:
        if not self.door.open(wait=30.0 if wait else None):
            # the database may be down: connections keep being retried
            log.warning("worker.db_unavailable_at_start")

    def close(self) -> None:
        self.door.close(timeout=5.0)

    # ------------------------------------------------------------------ the worker functions
    def claim(self, types: Sequence[str], batch: int,
              completions: Sequence[tuple[ClaimedJob, str]] = ()) -> tuple[
                  list[ClaimedJob], set[str]]:
        """Claim up to `batch` jobs of these types. Completions given are written in the
        same transaction and round trip (a pipeline): one commit for both.
        Returns (the jobs claimed, the ids completed)."""
        claim_args = (self.worker_id, list(types), batch)
        if not completions:
            return [ClaimedJob(*r) for r in self.door.rows(CLAIM_SQL, claim_args)], set()
        with self.door.connection() as conn:
            with conn.pipeline(), conn.transaction():
                completed = conn.execute(COMPLETE_SQL, self._complete_args(completions))
                claimed = conn.execute(CLAIM_SQL, claim_args)
            done = {r[0] for r in completed.fetchall()}
            rows = claimed.fetchall()
        return [ClaimedJob(*r) for r in rows], done

    def heartbeat_many(self, held: Iterable[tuple[str, int]]) -> dict[str, str]:
        ids, attempts = _columns(held)
        if not ids:
            return {}
        rows = self.door.rows(
            "select job_id::text, state from private.heartbeat_jobs(%s, %s::text[]::uuid[],"
            " %s::int[])", (self.worker_id, ids, attempts))
        return {r[0]: r[1] for r in rows}

    def heartbeat(self, job: ClaimedJob, *, progress: int | None = None,
                  checkpoint: dict[str, Any] | None = None) -> str:
        state = self.door.value(
            "select private.heartbeat_job(%s, %s, %s, %s, %s::jsonb)",
            (job.id, self.worker_id, job.attempt, progress,
             None if checkpoint is None else json.dumps(checkpoint)))
        return state or "lost"

    def complete_many(self, items: Sequence[tuple[ClaimedJob, str]]) -> set[str]:
        """items: (job, result as JSON text). Returns the ids completed."""
        if not items:
            return set()
        return {r[0] for r in self.door.rows(COMPLETE_SQL, self._complete_args(items))}

    def _complete_args(self, items: Sequence[tuple[ClaimedJob, str]]) -> tuple[Any, ...]:
        return (self.worker_id, [j.id for j, _ in items], [r for _, r in items],
                [j.attempt for j, _ in items])

    def fail(self, job: ClaimedJob, *, error: str, retryable: bool,
             user_message: str | None = None) -> str:
        state = self.door.value(
            "select private.fail_job(%s, %s, %s, %s, %s, %s)",
            (job.id, self.worker_id, job.attempt, error[:4000], retryable, user_message))
        return state or "lost"

    def cancel_confirmed(self, job: ClaimedJob) -> bool:
        return bool(self.door.value("select private.cancel_confirmed(%s, %s, %s)",
                                    (job.id, self.worker_id, job.attempt)))

    def release_many(self, held: Iterable[tuple[str, int]]) -> int:
        ids, attempts = _columns(held)
        if not ids:
            return 0
        return int(self.door.value(
            "select private.release_jobs(%s, %s::text[]::uuid[], %s::int[])",
            (self.worker_id, ids, attempts)) or 0)

    def held(self) -> list[tuple[str, int]] | None:
        """(job id, attempt) of every lease this worker holds, as the database says; None
        when the database has no private.held_jobs (a schema older than the worker)."""
        try:
            rows = self.door.rows("select job_id::text, attempt from private.held_jobs(%s)",
                                  (self.worker_id,))
        except psycopg.errors.UndefinedFunction:
            return None
        return [(r[0], r[1]) for r in rows]

    def recover_expired_leases(self) -> int:
        return int(self.door.value("select private.recover_expired_leases()") or 0)

    def type_lanes(self) -> dict[str, str]:
        """Every known job type and its lane ('' where the database has no lanes yet)."""
        rows = self.door.rows("select t.type, coalesce(to_jsonb(t) ->> 'lane', '')"
                              " from private.job_types as t")
        return {r[0]: r[1] for r in rows}

    # ------------------------------------------------------------------ for job handlers
    # What handlers may do in SQL, one method per private.* function; they call these
    # through their JobContext (worker/context.py).
    def booking_for_payment(self, booking_id: str) -> dict[str, Any] | None:
        return self.door.value("select private.booking_for_payment(%s)", (booking_id,))

    def attach_payment_intent(self, booking_id: str, payment_intent_id: str,
                              client_secret: str | None) -> str | None:
        return self.door.value("select private.attach_payment_intent(%s, %s, %s)",
                               (booking_id, payment_intent_id, client_secret))

    def cancel_unpaid_booking(self, booking_id: str, payment_intent_id: str | None,
                              ) -> str | None:
        return self.door.value("select private.cancel_unpaid_booking(%s, %s)",
                               (booking_id, payment_intent_id))

    def record_refund(self, booking_id: str, amount_refunded: int) -> str | None:
        return self.door.value("select private.record_refund(%s, %s)",
                               (booking_id, amount_refunded))

    def record_booking_error(self, booking_id: str, message: str, mark_failed: bool,
                             ) -> str | None:
        return self.door.value("select private.record_booking_error(%s, %s, %s)",
                               (booking_id, message, mark_failed))

    def confirm_booking(self, booking_id: str) -> str | None:
        return self.door.value("select private.confirm_booking(%s)", (booking_id,))

    def email_to_send(self, outbox_id: str) -> dict[str, Any] | None:
        return self.door.value("select private.email_to_send(%s)", (outbox_id,))

    def email_sent(self, outbox_id: str) -> str | None:
        return self.door.value("select private.email_sent(%s)", (outbox_id,))

    def email_failed(self, outbox_id: str, error: str, permanent: bool) -> str | None:
        return self.door.value("select private.email_failed(%s, %s, %s)",
                               (outbox_id, error, permanent))

    def log_ai_call(self, call: dict[str, Any]) -> bool:
        """One private.ai_logs row (keys: LOG_AI_CALL's parameters). When the database's PII
        guard refuses the texts (a check violation) the row is kept with usage only; returns
        whether the texts were kept."""
        row = {**call, "structured": _jsonb(call.get("structured")),
               "usage": _jsonb(call.get("usage"))}
        try:
            self.door.value(LOG_AI_CALL, row)
            return True
        except psycopg.errors.CheckViolation:
            self.door.value(LOG_AI_CALL, {**row, "prompt": None, "response": None,
                                          "structured": None})
            return False


LOG_AI_CALL = """
    select private.log_ai_call(
        user_id => %(user_id)s, job_id => %(job_id)s, request_id => %(request_id)s,
        provider => %(provider)s, model => %(model)s, purpose => %(purpose)s,
        prompt_redacted => %(prompt)s, response_redacted => %(response)s,
        structured_output => %(structured)s, token_usage => %(usage)s,
        duration_ms => %(duration_ms)s, attempts => %(attempts)s, error => %(error)s)
"""


def _jsonb(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)


def _columns(held: Iterable[tuple[str, int]]) -> tuple[list[str], list[int]]:
    pairs = list(held)
    return [p[0] for p in pairs], [p[1] for p in pairs]
