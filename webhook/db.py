"""The web service's statements, one method each, over its door to Postgres (wayfare/db.py:
the pool, `set role wayfare_web`, and database errors as the error contract). Routes
(stripe_webhooks.py, health.py, ops.py, monitoring.py, db_metrics.py) and the replay command
(replay.py) reach SQL only through a `Database`.

Every statement has a time limit, so no route hangs on a lock or a slow query: the session's
`statement_timeout` is the webhook route's limit (WEB_STATEMENT_TIMEOUT_MS, 5000), and other
reads run theirs in a transaction of their own (/readyz 1000 ms; /ops and the /metrics
snapshot WEB_OPS_STATEMENT_TIMEOUT_MS, 3000). A statement cancelled by its limit raises
DatabaseTimeout (408 TIMEOUT; its transaction was rolled back, so nothing of it remains); no
connection within the pool's wait raises DatabaseUnavailable (503).

Each new connection runs `set role wayfare_web` when its login is a member (postgres and
service_role are, by the migrations), so the service can do nothing but record Stripe events
and read the ops snapshots.
"""

from __future__ import annotations

import os
from typing import Any, LiteralString

from wayfare import db
from wayfare.db import ContractError, DatabaseTimeout, DatabaseUnavailable, ValueRefused

__all__ = ["ContractError", "Database", "DatabaseTimeout", "DatabaseUnavailable",
           "EventUnprocessable"]

ROLE = "wayfare_web"
READY_STATEMENT_MS = 1000


def _ms(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


class EventUnprocessable(Exception):
    """Postgres refused a value of a verified event (out of range, nested too deep): retrying
    cannot help, so the service answers 400 and stores the delivery as rejected."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Database:
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8,
                 timeout: float = 2.0, statement_ms: int | None = None,
                 ops_statement_ms: int | None = None,
                 application_name: str = "wayfare-webhook") -> None:
        self.statement_ms = statement_ms or _ms("WEB_STATEMENT_TIMEOUT_MS", 5000)
        self.ops_statement_ms = ops_statement_ms or _ms("WEB_OPS_STATEMENT_TIMEOUT_MS", 3000)
        session = db.Session(application_name=application_name, role=ROLE,
                             statement_timeout_ms=self.statement_ms, connect_timeout=3)
        self.door = db.Door(url, session, min_size=min_size, max_size=max_size,
                            wait=timeout, name="webhook")

    def open(self, wait: float | None = None) -> bool:
        return self.door.open(wait=wait)

    def close(self) -> None:
        self.door.close()

    # Every statement below may run twice (events are stored once by id; the rest read), so
    # each runs once more on another connection when its pooled one turns out broken.
    def record_stripe_event(self, payload: str, request_id: str) -> dict[str, Any]:
        """Store and apply one verified event (its raw JSON text): {eventId, outcome, ...}."""
        try:
            return self.door.value("select private.record_stripe_event(%s::jsonb, %s)",
                                   (payload, request_id), idempotent=True)
        except ValueRefused as exc:
            raise EventUnprocessable(f"refused_by_database:{exc.sqlstate}") from exc

    def record_rejected_stripe_event(self, payload: str, reason: str, event_id: str | None,
                                     event_type: str | None, request_id: str) -> None:
        """Keep a verified delivery that is not an applicable event (once per body)."""
        self.door.value("select private.record_rejected_stripe_event(%s, %s, %s, %s, %s)",
                        (payload, reason, event_id, event_type, request_id), idempotent=True)

    def ping(self, timeout: float = 1.0) -> bool:
        return self.door.value("select true", wait=timeout, statement_ms=READY_STATEMENT_MS,
                               idempotent=True) is True

    def ops_snapshot(self) -> dict[str, Any]:
        """private.ops_snapshot(): queue, jobs, webhooks, AI use, bookings (docs/ops.md)."""
        return self._ops("select private.ops_snapshot()")

    def email_outbox_snapshot(self) -> dict[str, Any]:
        """private.email_outbox_snapshot(): booking emails by status, failed ones."""
        return self._ops("select private.email_outbox_snapshot()")

    def rpc_query_stats(self) -> dict[str, Any]:
        """private.rpc_query_stats(): query times per RPC from pg_stat_statements."""
        return self._ops("select private.rpc_query_stats()")

    def _ops(self, query: LiteralString) -> Any:
        """A read of /ops or /metrics, within the ops time limit."""
        return self.door.value(query, statement_ms=self.ops_statement_ms, idempotent=True)
