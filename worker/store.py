"""The worker's side of Postgres: a connection pool of session connections (running as
WORKER_DB_ROLE) and one method per worker function in the database (docs/jobs.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from wayfare.logs import get_logger

log = get_logger("worker.store")

# Errors that mean "the database is (for now) unreachable": retry, never crash. They include
# psycopg.errors.QueryCanceled: a statement cancelled by the session's statement_timeout.
TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)

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
        self.role = role
        self.statement_timeout_ms = max(0, int(statement_timeout * 1000))
        self.application_name = application_name[:63]
        self._role_checked = False
        self.pool = ConnectionPool(
            database_url,
            min_size=min(3, size),
            max_size=size,
            kwargs=self.connect_kwargs(),
            configure=self._configure,
            open=False,
            name="wayfare-worker",
            timeout=10.0,
            reconnect_timeout=24 * 3600.0,  # keep trying: Postgres may be down for a while
        )

    def connect_kwargs(self) -> dict[str, Any]:
        return {
            "autocommit": True,
            "application_name": self.application_name,
            "connect_timeout": CONNECT_TIMEOUT,
            # notice a dead server on an idle connection within about a minute
            "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
            "keepalives_count": 3,
        }

    def configure_session(self, conn: psycopg.Connection[Any]) -> None:
        """Bound every statement of this session (WORKER_STATEMENT_TIMEOUT: a statement that
        runs longer, e.g. behind a lock, is cancelled and retried like a lost connection);
        then `set role` to the worker's role when the connecting user may (a member)."""
        conn.execute("select pg_catalog.set_config('statement_timeout', %s, false),"
                     " pg_catalog.set_config('idle_in_transaction_session_timeout', %s, false)",
                     (str(self.statement_timeout_ms), str(IDLE_IN_TRANSACTION_MS)))
        if not self.role:
            return
        member = conn.execute("select pg_catalog.pg_has_role(current_user, %s, 'member')",
                              (self.role,)).fetchone()
        if member and member[0]:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(self.role)))
        elif not self._role_checked:
            log.warning("worker.role_not_member", role=self.role)
        self._role_checked = True

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        self.configure_session(conn)

    def open(self, wait: bool = True) -> None:
        self.pool.open(wait=False)
        if wait:
            try:
                self.pool.wait(timeout=30.0)
            except Exception:  # the database may be down: connections keep being retried
                log.warning("worker.db_unavailable_at_start")

    def close(self) -> None:
        self.pool.close(timeout=5.0)

    # ------------------------------------------------------------------ the worker functions
    def claim(self, types: Sequence[str], batch: int,
              completions: Sequence[tuple[ClaimedJob, str]] = ()) -> tuple[
                  list[ClaimedJob], set[str]]:
        """Claim up to `batch` jobs of these types. Completions given are written in the
        same transaction and round trip (a pipeline): one commit for both.
        Returns (the jobs claimed, the ids completed)."""
        claim_args = (self.worker_id, list(types), batch)
        done: set[str] = set()
        with self.pool.connection() as conn:
            if completions:
                with conn.pipeline(), conn.transaction():
                    completed = conn.execute(COMPLETE_SQL, self._complete_args(completions))
                    claimed = conn.execute(CLAIM_SQL, claim_args)
                done = {r[0] for r in completed.fetchall()}
                rows = claimed.fetchall()
            else:
                rows = conn.execute(CLAIM_SQL, claim_args).fetchall()
        return [ClaimedJob(*r) for r in rows], done

    def heartbeat_many(self, held: Iterable[tuple[str, int]]) -> dict[str, str]:
        ids, attempts = _columns(held)
        if not ids:
            return {}
        with self.pool.connection() as conn:
            rows = conn.execute(
                "select job_id::text, state from private.heartbeat_jobs(%s, %s::text[]::uuid[],"
                " %s::int[])",
                (self.worker_id, ids, attempts),
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    def heartbeat(self, job: ClaimedJob, *, progress: int | None = None,
                  checkpoint: dict[str, Any] | None = None) -> str:
        with self.pool.connection() as conn:
            row = conn.execute(
                "select private.heartbeat_job(%s, %s, %s, %s, %s::jsonb)",
                (job.id, self.worker_id, job.attempt, progress,
                 None if checkpoint is None else json.dumps(checkpoint)),
            ).fetchone()
        return row[0] if row else "lost"

    def complete_many(self, items: Sequence[tuple[ClaimedJob, str]]) -> set[str]:
        """items: (job, result as JSON text). Returns the ids completed."""
        if not items:
            return set()
        with self.pool.connection() as conn:
            rows = conn.execute(COMPLETE_SQL, self._complete_args(items)).fetchall()
        return {r[0] for r in rows}

    def _complete_args(self, items: Sequence[tuple[ClaimedJob, str]]) -> tuple[Any, ...]:
        return (self.worker_id, [j.id for j, _ in items], [r for _, r in items],
                [j.attempt for j, _ in items])

    def fail(self, job: ClaimedJob, *, error: str, retryable: bool,
             user_message: str | None = None) -> str:
        with self.pool.connection() as conn:
            row = conn.execute(
                "select private.fail_job(%s, %s, %s, %s, %s, %s)",
                (job.id, self.worker_id, job.attempt, error[:4000], retryable, user_message),
            ).fetchone()
        return row[0] if row else "lost"

    def cancel_confirmed(self, job: ClaimedJob) -> bool:
        with self.pool.connection() as conn:
            row = conn.execute("select private.cancel_confirmed(%s, %s, %s)",
                               (job.id, self.worker_id, job.attempt)).fetchone()
        return bool(row and row[0])

    def release_many(self, held: Iterable[tuple[str, int]]) -> int:
        ids, attempts = _columns(held)
        if not ids:
            return 0
        with self.pool.connection() as conn:
            row = conn.execute("select private.release_jobs(%s, %s::text[]::uuid[], %s::int[])",
                               (self.worker_id, ids, attempts)).fetchone()
        return int(row[0]) if row else 0

    def held(self) -> list[tuple[str, int]]:
        """(job id, attempt) of every lease this worker holds, as the database says."""
        with self.pool.connection() as conn:
            rows = conn.execute("select job_id::text, attempt from private.held_jobs(%s)",
                                (self.worker_id,)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def recover_expired_leases(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute("select private.recover_expired_leases()").fetchone()
        return int(row[0]) if row else 0

    def type_lanes(self) -> dict[str, str]:
        """Every known job type and its lane ('' where the database has no lanes yet)."""
        with self.pool.connection() as conn:
            rows = conn.execute("select t.type, coalesce(to_jsonb(t) ->> 'lane', '')"
                                " from private.job_types as t").fetchall()
        return {r[0]: r[1] for r in rows}


def _columns(held: Iterable[tuple[str, int]]) -> tuple[list[str], list[int]]:
    pairs = list(held)
    return [p[0] for p in pairs], [p[1] for p in pairs]
