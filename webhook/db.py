"""The web service's Postgres access: one psycopg pool, autocommit, as role wayfare_web.

Each new connection runs `set role wayfare_web` when its login is a member (postgres and
service_role are, by the payments migration), so the service can do nothing but record Stripe
events and answer `select 1`. Needs a session connection (direct, or Supavisor in session
mode): the role and psycopg's prepared statements live in the session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from wayfare.logs import get_logger

ROLE = "wayfare_web"
log = get_logger("webhook.db")


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


def _configure(conn: psycopg.Connection[Any]) -> None:
    member = conn.execute(
        "select pg_has_role(current_user, %s, 'member') "
        "from pg_roles where rolname = %s", (ROLE, ROLE)).fetchone()
    if member and member[0]:
        conn.execute(f"set role {ROLE}")
    else:
        log.warning("db.role_missing", role=ROLE)


class Database:
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8,
                 timeout: float = 2.0) -> None:
        self.timeout = timeout
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=timeout,
            kwargs={"autocommit": True, "connect_timeout": 3,
                    "application_name": "wayfare-webhook"},
            configure=_configure,
            name="webhook",
        )

    def open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()

    def _call(self, query: str, params: tuple[Any, ...], timeout: float | None = None) -> Any:
        """One statement on a pooled connection. A connection that turns out broken (the
        server restarted since it was pooled) is dropped by the pool and the statement runs
        once more on another: every statement here is idempotent (events are stored once by
        id), so that is safe, and cheaper than checking each connection before use."""
        for attempt in (1, 2):
            try:
                with self.pool.connection(timeout=timeout or self.timeout) as conn:
                    row = conn.execute(query, params).fetchone()
                return row[0] if row else None
            except PoolTimeout as exc:
                raise DatabaseUnavailable("no database connection") from exc
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
        return self._call("select true", (), timeout=timeout) is True


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
