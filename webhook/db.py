"""The web service's Postgres access: one psycopg pool, autocommit, as role wayfare_web.

Every statement has a time limit, so no route hangs on a lock or a slow query: the session's
`statement_timeout` is the webhook route's limit (WEB_STATEMENT_TIMEOUT_MS, 5000), and other
routes run theirs in a transaction with `set_config('statement_timeout', ..., true)`
(/readyz 1000 ms, /ops and the /metrics snapshot WEB_OPS_STATEMENT_TIMEOUT_MS, 3000). A
statement cancelled by its limit raises DatabaseTimeout (the route answers 408 TIMEOUT; the
statement's transaction was rolled back, so nothing of it remains); no connection within
the pool's wait raises DatabaseUnavailable (503).

Each new connection runs `set role wayfare_web` when its login is a member (postgres and
service_role are, by the payments migration), so the service can do nothing but record Stripe
events and answer `select 1`. Needs a session connection (direct, or Supavisor in session
mode): the role and psycopg's prepared statements live in the session.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from wayfare.logs import get_logger

ROLE = "wayfare_web"
log = get_logger("webhook.db")
READY_STATEMENT_MS = 1000


def _ms(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


class DatabaseTimeout(Exception):
    """A statement ran past its route's time limit and was cancelled (408 TIMEOUT)."""

    def __init__(self, limit_ms: int) -> None:
        self.limit_ms = limit_ms
        super().__init__(f"statement cancelled after {limit_ms} ms")


class DatabaseUnavailable(Exception):
    """No connection within the timeout, or the connection broke: retry later (503)."""


class EventUnprocessable(Exception):
    """Postgres refused a value of a verified event (out of range, nested too deep): retrying
    cannot help, so the service answers 400 and stores the delivery as rejected."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class ContractError(Exception):
    """A contract error raised in SQL by private.raise_error (sqlstate PGRST)."""

    code: str
    message: str
    field: str | None


def _configure(conn: psycopg.Connection[Any], statement_ms: int) -> None:
    conn.execute(f"set statement_timeout = {int(statement_ms)}")
    member = conn.execute(
        "select pg_has_role(current_user, %s, 'member') "
        "from pg_roles where rolname = %s", (ROLE, ROLE)).fetchone()
    if member and member[0]:
        conn.execute(f"set role {ROLE}")
    else:
        log.warning("db.role_missing", role=ROLE)


class Database:
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8,
                 timeout: float = 2.0, statement_ms: int | None = None,
                 ops_statement_ms: int | None = None) -> None:
        self.timeout = timeout
        self.statement_ms = statement_ms or _ms("WEB_STATEMENT_TIMEOUT_MS", 5000)
        self.ops_statement_ms = ops_statement_ms or _ms("WEB_OPS_STATEMENT_TIMEOUT_MS", 3000)
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=timeout,
            kwargs={"autocommit": True, "connect_timeout": 3,
                    "application_name": "wayfare-webhook"},
            configure=lambda conn: _configure(conn, self.statement_ms),
            name="webhook",
        )

    def open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()

    def _call(self, query: str, params: tuple[Any, ...], timeout: float | None = None,
              statement_ms: int | None = None) -> Any:
        """One statement on a pooled connection. A connection that turns out broken (the
        server restarted since it was pooled) is dropped by the pool and the statement runs
        once more on another: every statement here is idempotent (events are stored once by
        id), so that is safe, and cheaper than checking each connection before use."""
        for attempt in (1, 2):
            try:
                with self.pool.connection(timeout=timeout or self.timeout) as conn:
                    if statement_ms is None or statement_ms == self.statement_ms:
                        row = conn.execute(query, params).fetchone()
                    else:
                        with conn.transaction():
                            conn.execute("select pg_catalog.set_config('statement_timeout', %s,"
                                         " true)", (f"{int(statement_ms)}ms",))
                            row = conn.execute(query, params).fetchone()
                return row[0] if row else None
            except PoolTimeout as exc:
                raise DatabaseUnavailable("no database connection") from exc
            except psycopg.errors.QueryCanceled as exc:
                limit = statement_ms or self.statement_ms
                log.warning("db.statement_timeout", limit_ms=limit)
                raise DatabaseTimeout(limit) from exc
            except psycopg.OperationalError as exc:
                if not _connection_lost(exc):
                    raise  # a statement error (limits, cancellation), not a broken connection
                if attempt == 2:
                    raise DatabaseUnavailable(type(exc).__name__) from exc
                log.warning("db.connection_broken", error_type=type(exc).__name__)
                self.pool.check()  # drop the other broken idle connections too
            except psycopg.Error as exc:
                if exc.diag.sqlstate == "PGRST":
                    raise _contract_error(exc) from exc
                raise
        raise DatabaseUnavailable("unreachable")

    def record_stripe_event(self, payload: str, request_id: str) -> dict[str, Any]:
        """Store and apply one verified event (its raw JSON text): {eventId, outcome, ...}."""
        try:
            return self._call("select private.record_stripe_event(%s::jsonb, %s)",
                              (payload, request_id))
        except (psycopg.errors.DataError, psycopg.errors.ProgramLimitExceeded) as exc:
            raise EventUnprocessable(f"refused_by_database:{exc.diag.sqlstate}") from exc

    def record_rejected_stripe_event(self, payload: str, reason: str, event_id: str | None,
                                     event_type: str | None, request_id: str) -> None:
        """Keep a verified delivery that is not an applicable event (once per body)."""
        self._call("select private.record_rejected_stripe_event(%s, %s, %s, %s, %s)",
                   (payload, reason, event_id, event_type, request_id))

    def ping(self, timeout: float = 1.0) -> bool:
        return self._call("select true", (), timeout=timeout,
                          statement_ms=READY_STATEMENT_MS) is True

    def ops_query(self, query: str) -> Any:
        """One read of /ops or the /metrics snapshot (`select private.x()`), within the ops
        time limit."""
        return self._call(query, (), statement_ms=self.ops_statement_ms)


def _connection_lost(exc: psycopg.OperationalError) -> bool:
    """The connection is gone (no SQLSTATE, class 08, or the server shutting down), as opposed
    to a statement refused by the server (54 program limits, 57014 cancellation, 55P03)."""
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


def _contract_error(exc: psycopg.Error) -> ContractError:
    try:
        body = json.loads(exc.diag.message_primary or "")
        details = json.loads(body.get("details") or "{}")
        return ContractError(body.get("code", "INTERNAL"), body.get("message", ""),
                             details.get("field"))
    except (ValueError, AttributeError):
        return ContractError("INTERNAL", "", None)
