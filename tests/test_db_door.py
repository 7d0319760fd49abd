"""The one door to Postgres (wayfare/db.py), against the real database: what every connection
runs first (time limits, `set role` for a member login only), database errors as the error
contract (a contract error keeps its code and status; an unreachable database or an
exhausted pool is 503), the job handlers' SQL through their JobContext, and the rule that
nothing else opens connections or writes SQL in handlers."""

from __future__ import annotations

import ast
import json
import logging
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb

from tests.harness.users import create_user
from wayfare import db
from wayfare.errors import ApiError
from webhook.db import Database, EventUnprocessable
from worker.context import JobContext
from worker.store import JobStore

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def door(db_url: str) -> Iterator[db.Door]:
    opened = db.Door(db_url, db.Session("wayfare-test-door", statement_timeout_ms=2000),
                     max_size=2, wait=2.0)
    opened.open(wait=10.0)
    yield opened
    opened.close()


@pytest.fixture
def outsider(db_url: str) -> Iterator[str]:
    """A login that is not a member of wayfare_web or wayfare_worker."""
    name = f"door_outsider_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login password {}").format(
            sql.Identifier(name), sql.Literal(password)))
    yield make_conninfo(db_url, user=name, password=password)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("select pg_terminate_backend(pid) from pg_stat_activity"
                     " where usename = %s", (name,))
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


# ---------------------------------------------------------------------- sessions
def test_a_member_login_switches_to_the_process_role(db_url: str) -> None:
    session = db.Session("wayfare-test-role", role="wayfare_web", statement_timeout_ms=1234,
                         idle_in_transaction_ms=4321)
    door = db.Door(db_url, session, max_size=1)
    door.open(wait=10.0)
    try:
        row = door.rows("select current_user::text, session_user::text,"
                        " current_setting('statement_timeout'),"
                        " current_setting('idle_in_transaction_session_timeout'),"
                        " current_setting('application_name')")[0]
    finally:
        door.close()
    assert row == ("wayfare_web", "postgres", "1234ms", "4321ms", "wayfare-test-role")
    with db.connect(db_url, session.named("wayfare-test-listen")) as conn:  # the same setup
        assert conn.execute("select current_user::text, current_setting('statement_timeout')"
                            ).fetchone() == ("wayfare_web", "1234ms")


def test_a_login_that_is_not_a_member_keeps_its_role_and_says_so(
        outsider: str, caplog: pytest.LogCaptureFixture) -> None:
    db._warned_roles.discard("wayfare_worker")
    session = db.Session("wayfare-test-outsider", role="wayfare_worker",
                         statement_timeout_ms=700)
    with caplog.at_level(logging.WARNING), db.connect(outsider, session) as conn:
        user, timeout = conn.execute("select current_user::text,"
                                     " current_setting('statement_timeout')").fetchone()
    assert user.startswith("door_outsider_") and timeout == "700ms"
    assert "db.role_not_member" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING), db.connect(outsider, session):
        pass
    assert "db.role_not_member" not in caplog.text  # once per process


def test_no_role_means_no_switch(db_url: str) -> None:
    with db.connect(db_url, db.Session("wayfare-test-norole")) as conn:
        assert conn.execute("select current_user::text").fetchone() == ("postgres",)


def test_the_session_statement_timeout_cancels_as_timeout(door: db.Door) -> None:
    with pytest.raises(db.DatabaseTimeout) as cancelled:
        door.value("select pg_sleep(5)")
    assert (cancelled.value.code, cancelled.value.status, cancelled.value.limit_ms) == (
        "TIMEOUT", 408, 2000)
    assert cancelled.value.headers["Retry-After"]
    # a statement's own, shorter limit applies to its transaction only
    with pytest.raises(db.DatabaseTimeout) as shorter:
        door.value("select pg_sleep(1)", statement_ms=100)
    assert shorter.value.limit_ms == 100
    assert door.value("select current_setting('statement_timeout')") == "2s"


# ---------------------------------------------------------------------- errors
def test_a_contract_error_keeps_its_code_status_and_field(door: db.Door) -> None:
    with pytest.raises(db.ContractError) as raised:
        door.value("select private.raise_error('NOT_FOUND', 'No such trip.', 'trip_id')")
    error = raised.value
    assert isinstance(error, ApiError)
    assert (error.code, error.status, error.message, error.field) == (
        "NOT_FOUND", 404, "No such trip.", "trip_id")
    with pytest.raises(db.ContractError) as timeout:  # extra headers come along
        door.value("select private.raise_timeout()")
    assert (timeout.value.code, timeout.value.status) == ("TIMEOUT", 408)
    assert timeout.value.headers.get("Retry-After") == "1"
    assert "X-Request-ID" not in timeout.value.headers


def test_a_refused_value_is_a_validation_error(door: db.Door) -> None:
    with pytest.raises(db.ValueRefused) as refused:
        door.value("select %s::int", ("not a number",))
    assert (refused.value.code, refused.value.status, refused.value.sqlstate) == (
        "VALIDATION_FAILED", 400, "22P02")


def test_other_errors_pass_unchanged(door: db.Door) -> None:
    with pytest.raises(psycopg.errors.UndefinedFunction):
        door.value("select private.no_such_function()")


def test_an_unreachable_database_is_503() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    session = db.Session("wayfare-test-down", connect_timeout=2)
    with pytest.raises(db.DatabaseUnavailable) as down:
        db.connect(url, session)
    assert (down.value.status, down.value.code) == (503, "INTERNAL")
    assert down.value.headers["Retry-After"]
    with pytest.raises(db.DatabaseUnavailable):
        db.probe(url, session)
    door = db.Door(url, session, max_size=1, wait=0.3)
    door.open()
    try:
        with pytest.raises(db.DatabaseUnavailable) as pooled:
            door.value("select 1")
        assert pooled.value.status == 503
    finally:
        door.close(timeout=1.0)


def test_an_exhausted_pool_is_503(db_url: str) -> None:
    door = db.Door(db_url, db.Session("wayfare-test-busy"), max_size=1, wait=0.2)
    door.open(wait=10.0)
    try:
        with door.connection():  # the only connection is taken
            with pytest.raises(db.DatabaseUnavailable) as busy:
                door.value("select 1")
        assert busy.value.status == 503 and busy.value.reason.startswith("no connection")
        assert door.value("select 1") == 1
    finally:
        door.close()


def test_a_broken_pooled_connection_is_retried_only_when_idempotent(db_url: str) -> None:
    name = f"wayfare-test-broken-{uuid.uuid4().hex[:6]}"
    door = db.Door(db_url, db.Session(name), min_size=1, max_size=1)
    door.open(wait=10.0)

    def break_it() -> None:
        assert door.value("select 1") == 1  # the connection is pooled and used
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(pid) from pg_stat_activity"
                          " where application_name = %s", (name,))

    try:
        break_it()
        assert door.value("select 2", idempotent=True) == 2
        break_it()
        with pytest.raises(db.DatabaseUnavailable):
            door.value("select 3")
    finally:
        door.close()


def test_the_web_service_database_maps_refused_events(fresh_db_url: str) -> None:
    database = Database(fresh_db_url, min_size=1, max_size=1)
    assert database.open(wait=10.0)
    try:
        assert database.ping()
        assert database.door.value("select current_user::text") == "wayfare_web"
        assert set(database.ops_snapshot()) >= {"queue", "jobs", "webhooks"}
        assert "failed" in database.email_outbox_snapshot()
        event = {"id": "evt_door_1", "type": "payment_intent.succeeded",
                 "created": 10**15, "data": {"object": {"id": "pi_door"}}}
        with pytest.raises(EventUnprocessable) as refused:
            database.record_stripe_event(json.dumps(event), "req-door-1")
        assert refused.value.reason.startswith("refused_by_database:22")
    finally:
        database.close()


# ---------------------------------------------------------------------- job handlers' SQL
@pytest.fixture
def store(fresh_db_url: str) -> Iterator[JobStore]:
    opened = JobStore(fresh_db_url, worker_id=f"test:door:{uuid.uuid4().hex[:6]}",
                      role="wayfare_worker", size=2)
    opened.open()
    yield opened
    opened.close()


def claim_one(store: JobStore, db_url: str) -> JobContext:
    user = create_user(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("update public.profiles set ai_consent = 'redacted' where id = %s",
                     (user.id,))
        conn.execute("select private.enqueue_job('demo.noop', %s, %s)", (Jsonb({}), user.id))
    jobs, _ = store.claim(["demo.noop"], 1)
    assert len(jobs) == 1
    return JobContext(jobs[0], store)


def test_the_context_methods_run_as_the_worker_role(store: JobStore,
                                                    fresh_db_url: str) -> None:
    assert store.door.value("select current_user::text") == "wayfare_worker"
    ctx = claim_one(store, fresh_db_url)
    missing = str(uuid.uuid4())
    assert ctx.booking_for_payment(missing) is None
    assert ctx.confirm_booking(missing) is None
    assert ctx.email_to_send(missing) is None
    with pytest.raises(db.ContractError) as gone:
        ctx.attach_payment_intent(missing, "pi_door", "secret_door")
    assert (gone.value.code, gone.value.status) == ("NOT_FOUND", 404)

    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    assert ctx.log_ai_call(provider="fake", model="m", purpose="research.plan",
                           prompt="Lisbon in May", response="Go to Belem",
                           structured={"places": ["Belem"]}, usage=usage, duration_ms=5,
                           attempts=1, error=None) is True
    # the database's guard refuses a text that still holds a phone number: usage only
    assert ctx.log_ai_call(provider="fake", model="m", purpose="research.research",
                           prompt="call me on +351 912 345 678", response=None,
                           structured=None, usage=usage, duration_ms=5, attempts=1,
                           error=None) is False
    with psycopg.connect(fresh_db_url) as conn:
        rows = conn.execute("select purpose, prompt_redacted, structured_output, token_usage,"
                            " job_id::text from private.ai_logs order by created_at").fetchall()
    assert rows == [("research.plan", "Lisbon in May", {"places": ["Belem"]}, usage, ctx.job_id),
                    ("research.research", None, None, usage, ctx.job_id)]


# ---------------------------------------------------------------------- the rule
def python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def test_only_the_door_opens_connections() -> None:
    """psycopg.connect and ConnectionPool appear in wayfare/db.py only (the import contract
    in pyproject.toml keeps psycopg_pool there too)."""
    offenders = []
    for path in python_files("wayfare", "worker", "webhook"):
        if path == ROOT / "wayfare" / "db.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "connect" and isinstance(
                    node.value, ast.Name) and node.value.id == "psycopg":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} psycopg.connect")
            if isinstance(node, ast.Name) and node.id == "ConnectionPool":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} ConnectionPool")
    assert offenders == []


def test_handlers_write_no_sql_and_hold_no_connection() -> None:
    """Job handlers reach SQL only through JobContext's named methods: no SQL text, no
    connection, no store behind the context's back."""
    offenders = []
    for path in python_files("worker/handlers"):
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    "private." in node.value and "select" in node.value.lower()):
                offenders.append(f"{where} SQL text")
            if isinstance(node, ast.Attribute) and node.attr in (
                    "_store", "door", "connection", "pool", "execute"):
                offenders.append(f"{where} .{node.attr}")
    assert offenders == []
