"""The one door to Postgres of every Wayfare process: the worker (worker/store.py), the web
service and its replay command (webhook/db.py), and the health probe (wayfare/healthcheck.py).
Nothing else in worker/, webhook/ or wayfare/ imports psycopg_pool or calls psycopg.connect
(a lint-imports contract in pyproject.toml and tests/test_db_door.py check it).

It owns

- **the connections**: `Door`, a psycopg pool of session connections (autocommit), and
  `connect()`, one connection of its own (the worker's LISTEN; `probe()`, the health check).
  Both need a session connection (direct, or Supavisor in session mode): the role and
  psycopg's prepared statements live in the session.
- **what every connection runs first** (`setup`, from a `Session`): its `statement_timeout`
  and `idle_in_transaction_session_timeout`, then `set role <the process's role>` when the
  login is a member of that role (`postgres` and `service_role` are, by the migrations; a
  separate login is made with `in role wayfare_worker`), so the process can do only what its
  role is granted (docs/security.md). A login that is not a member keeps its own role, and
  the process logs `db.role_not_member` once.
- **calling SQL**: `Door.value()` and `Door.rows()` run one statement, each caller's
  statements written once as constants beside their named methods (JobStore in
  worker/store.py, Database in webhook/db.py); `Door.connection()` lends a connection for a
  few statements in one round trip (the worker's claim pipeline).
- **database errors as the error contract** (wayfare/errors.py, docs/errors.md):

      private.raise_error (SQLSTATE PGRST)        ContractError: its code, status, field
      cancelled by the statement time limit       DatabaseTimeout: 408 TIMEOUT, Retry-After
      no connection within the wait, or lost      DatabaseUnavailable: 503, Retry-After
      a value Postgres refuses (class 22, 54)     ValueRefused: 400 VALIDATION_FAILED

  All four are `ApiError`s, so the web service answers them as they are; anything else
  passes unchanged (a bug of ours: 500 INTERNAL there, a retry in the worker).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from wayfare.errors import ApiError
from wayfare.logs import get_logger

log = get_logger("wayfare.db")

Connection = psycopg.Connection[Any]
T = TypeVar("T")


# ---------------------------------------------------------------------- errors
class DatabaseUnavailable(ApiError):
    """No connection within the wait, or the connection broke: 503, retry later."""

    def __init__(self, reason: str = "unreachable") -> None:
        super().__init__("INTERNAL", "The service is temporarily unavailable.", status=503,
                         headers={"Retry-After": "5"})
        self.reason = reason


class DatabaseTimeout(ApiError):
    """A statement ran past its time limit and was cancelled (its transaction rolled back,
    nothing of it remains): 408 TIMEOUT, retryable."""

    def __init__(self, limit_ms: int | None) -> None:
        super().__init__("TIMEOUT", headers={"Retry-After": "5"})
        self.limit_ms = limit_ms


class ContractError(ApiError):
    """An error raised in SQL by private.raise_error (SQLSTATE PGRST): the code, message,
    field, status and extra headers it was raised with (docs/errors.md)."""

    @classmethod
    def from_postgres(cls, exc: psycopg.Error) -> ContractError:
        try:
            body = json.loads(exc.diag.message_primary or "")
            details = json.loads(body.get("details") or "{}")
            extra = json.loads(exc.diag.message_detail or "{}")
            headers = {str(k): str(v) for k, v in (extra.get("headers") or {}).items()
                       if str(k).lower() != "x-request-id"}  # the web service sets its own
            return cls(str(body.get("code", "INTERNAL")), body.get("message") or None,
                       field=details.get("field"), headers=headers,
                       status=extra.get("status") if isinstance(extra.get("status"), int)
                       else None)
        except (ValueError, AttributeError, TypeError):
            return cls("INTERNAL")


class ValueRefused(ApiError):
    """Postgres refused a value (data exception, class 22: out of range, not valid text;
    program limit, class 54: nested too deep): retrying the same value cannot help."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__("VALIDATION_FAILED", "The database refused a value.")
        self.sqlstate = sqlstate


# What a caller may retry: the database is away for now (its own retry loops: the worker).
TRANSIENT: tuple[type[Exception], ...] = (DatabaseUnavailable, DatabaseTimeout,
                                          psycopg.OperationalError, psycopg.InterfaceError)


def connection_lost(exc: psycopg.Error) -> bool:
    """The connection is gone (no SQLSTATE, class 08, or the server shutting down), as
    opposed to a statement refused by the server (54 program limits, 57014, 55P03)."""
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


def map_error(exc: psycopg.Error, limit_ms: int | None = None) -> Exception:
    """The error contract's exception for a database error, or `exc` itself."""
    if isinstance(exc, PoolTimeout):
        return DatabaseUnavailable("no connection within the wait")
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return DatabaseTimeout(limit_ms)
    state = exc.sqlstate
    if state == "PGRST":
        return ContractError.from_postgres(exc)
    if isinstance(exc, psycopg.OperationalError) and connection_lost(exc):
        return DatabaseUnavailable(type(exc).__name__)
    if state and state[:2] in ("22", "54"):
        return ValueRefused(state)
    return exc


@contextlib.contextmanager
def mapped_errors(limit_ms: int | None = None) -> Iterator[None]:
    """Raise database errors inside the block as the error contract's (map_error)."""
    try:
        yield
    except psycopg.Error as exc:
        mapped = map_error(exc, limit_ms)
        if mapped is exc:
            raise
        raise mapped from exc


# ---------------------------------------------------------------------- sessions
@dataclass(frozen=True)
class Session:
    """What every connection of a process is: its name in pg_stat_activity, the role it
    switches to, its time limits (milliseconds; 0: none)."""

    application_name: str
    role: str = ""  # "": keep the login's role
    statement_timeout_ms: int = 0
    idle_in_transaction_ms: int = 0
    connect_timeout: int = 10  # seconds
    keepalives: bool = False  # notice a dead server on an idle connection within a minute

    def connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"autocommit": True,
                                  "application_name": self.application_name[:63],
                                  "connect_timeout": self.connect_timeout}
        if self.keepalives:
            kwargs.update(keepalives=1, keepalives_idle=30, keepalives_interval=10,
                          keepalives_count=3)
        return kwargs

    def named(self, application_name: str) -> Session:
        return replace(self, application_name=application_name)


_warned_roles: set[str] = set()
_warned_lock = threading.Lock()

SETUP_SQL = ("select pg_catalog.set_config('statement_timeout', %s, false),"
             " pg_catalog.set_config('idle_in_transaction_session_timeout', %s, false),"
             " (select pg_catalog.pg_has_role(current_user, r.oid, 'member')"
             "  from pg_catalog.pg_roles as r where r.rolname = %s)")


def setup(conn: Connection, session: Session) -> bool:
    """Run on every new connection (the pool's `configure`, and `connect()`): the time
    limits, then `set role` when the login is a member of the session's role. True when it
    switched."""
    row = conn.execute(SETUP_SQL, (str(max(0, int(session.statement_timeout_ms))),
                                   str(max(0, int(session.idle_in_transaction_ms))),
                                   session.role)).fetchone()
    if not session.role:
        return False
    if row and row[2]:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(session.role)))
        return True
    with _warned_lock:
        first = session.role not in _warned_roles
        _warned_roles.add(session.role)
    if first:  # once per process: every connection of it would say the same
        log.warning("db.role_not_member", role=session.role)
    return False


# ---------------------------------------------------------------------- connections
def connect(url: str, session: Session) -> Connection:
    """One connection of its own, set up like the pool's (LISTEN, one-shot commands); use it
    in a `with` block. A server out of reach raises DatabaseUnavailable."""
    try:
        conn = psycopg.connect(url, **session.connect_kwargs())
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(type(exc).__name__) from exc
    try:
        with mapped_errors(session.statement_timeout_ms):
            setup(conn, session)
    except BaseException:
        conn.close()
        raise
    return conn


def probe(url: str, session: Session) -> None:
    """`select 1` on a connection of its own (the health check); raises the contract's
    errors (DatabaseUnavailable, DatabaseTimeout) when the database does not answer."""
    with connect(url, session) as conn, mapped_errors(session.statement_timeout_ms):
        conn.execute("select 1")


class Door:
    """A process's pool of connections (each set up by `setup`) and the way to run SQL on
    them with database errors mapped to the error contract."""

    def __init__(self, url: str, session: Session, *, min_size: int = 1, max_size: int = 4,
                 wait: float = 10.0, name: str = "wayfare",
                 reconnect_timeout: float = 300.0) -> None:
        self.session = session
        self.wait = wait
        self._pool = ConnectionPool(
            url,
            min_size=min(min_size, max_size),
            max_size=max_size,
            kwargs=session.connect_kwargs(),
            configure=lambda conn: setup(conn, session),
            open=False,
            name=name,
            timeout=wait,
            reconnect_timeout=reconnect_timeout,
        )

    def open(self, wait: float | None = None) -> bool:
        """Start connecting in the background; with `wait`, block up to that many seconds
        for min_size connections. False when they did not come (they keep being tried)."""
        self._pool.open(wait=False)
        if wait is None:
            return True
        try:
            self._pool.wait(timeout=wait)
        except PoolTimeout:
            return False
        return True

    def close(self, timeout: float = 5.0) -> None:
        self._pool.close(timeout=timeout)

    def value(self, query: LiteralString | sql.Composable, params: Any = (), *,
              statement_ms: int | None = None, wait: float | None = None,
              idempotent: bool = False) -> Any:
        """The first column of the first row (None without a row)."""
        return self._run(_first_value, query, params, statement_ms, wait, idempotent)

    def rows(self, query: LiteralString | sql.Composable, params: Any = (), *,
             statement_ms: int | None = None, wait: float | None = None,
             idempotent: bool = False) -> list[tuple[Any, ...]]:
        """Every row, as tuples."""
        return self._run(_all_rows, query, params, statement_ms, wait, idempotent)

    @contextlib.contextmanager
    def connection(self, wait: float | None = None) -> Iterator[Connection]:
        """A pooled connection for a few statements (a pipeline, a transaction), errors
        mapped as everywhere else. No retry: the caller knows what is safe to repeat."""
        with mapped_errors(self.session.statement_timeout_ms), \
                self._pool.connection(timeout=wait or self.wait) as conn:
            yield conn

    def _run(self, fetch: Callable[[psycopg.Cursor[Any]], T], query: Any, params: Any,
             statement_ms: int | None, wait: float | None, idempotent: bool) -> T:
        """One statement on a pooled connection, within `statement_ms` when it differs from
        the session's limit (set for its own transaction only). With `idempotent`, a
        connection that turns out broken (the server restarted since it was pooled) is
        dropped and the statement runs once more on another: cheaper than checking each
        connection before use, and safe only for a statement that may run twice."""
        limit = self.session.statement_timeout_ms if statement_ms is None else statement_ms
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._pool.connection(timeout=wait or self.wait) as conn:
                    if limit == self.session.statement_timeout_ms:
                        return fetch(conn.execute(query, params))
                    with conn.transaction():
                        conn.execute("select pg_catalog.set_config('statement_timeout', %s,"
                                     " true)", (f"{int(limit)}ms",))
                        return fetch(conn.execute(query, params))
            except psycopg.Error as exc:
                mapped = map_error(exc, limit or None)
                if (idempotent and attempt == 1 and isinstance(mapped, DatabaseUnavailable)
                        and not isinstance(exc, PoolTimeout)):
                    log.warning("db.connection_broken", error_type=type(exc).__name__)
                    self._pool.check()  # drop the other broken idle connections too
                    continue
                if mapped is exc:
                    raise
                raise mapped from exc


def _first_value(cursor: psycopg.Cursor[Any]) -> Any:
    row = cursor.fetchone()
    return row[0] if row else None


def _all_rows(cursor: psycopg.Cursor[Any]) -> list[tuple[Any, ...]]:
    return cursor.fetchall()
