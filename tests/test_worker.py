"""The worker as a real process (`python -m worker`) against a database of its own: lifecycle,
retries, cancellation, crash and resume from checkpoints, exactly-once draining by two
workers, connection loss, a real Postgres restart, and graceful shutdown."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.users import User, create_user
from tests.worker_helpers import ROOT, WorkerProcess, job_row, run_worker, wait_until

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture
def conn(fresh_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(fresh_db_url, autocommit=True) as c:
        yield c


@pytest.fixture
def user(fresh_db_url: str) -> User:
    return create_user(fresh_db_url)


@pytest.fixture
def fresh_api(fresh_db_url: str) -> Iterator[PostgREST]:
    client = PostgREST(databases.url_for(fresh_db_url.rsplit("/", 1)[-1], user="authenticator"))
    yield client
    client.close()


@pytest.fixture
def trace_file(tmp_path: Path) -> Path:
    return tmp_path / "trace.txt"


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    """Every worker a test starts is killed at the end, whatever happened."""
    started: list[WorkerProcess] = []
    yield started
    for w in started:
        w.kill()


DEMO_TYPES = "demo.noop,demo.steps,demo.fail"


def start_worker(workers: list[WorkerProcess], db_url: str, **env: str) -> WorkerProcess:
    """A worker for the demo types only: other types (ai.research, payments) must be left
    alone by a worker without their handlers, which the lifecycle test checks."""
    w = run_worker(db_url, env={"WORKER_TYPES": DEMO_TYPES, **env})
    workers.append(w)
    w.wait_for("worker.started")
    return w


def enqueue(conn: psycopg.Connection, job_type: str, job_input: dict[str, Any],
            user: User) -> str:
    row = conn.execute("select private.enqueue_job(%s, %s, %s)",
                       (job_type, Jsonb(job_input), user.id)).fetchone()
    return str(row[0])


def leases(conn: psycopg.Connection) -> int:
    return conn.execute("select count(*) from private.job_leases").fetchone()[0]


def set_type(conn: psycopg.Connection, job_type: str, **values: Any) -> None:
    sets = ", ".join(f"{k} = %({k})s" for k in values)
    conn.execute(f"update private.job_types set {sets} where type = %(type)s",
                 {**values, "type": job_type})


def read_trace(path: Path) -> list[tuple[int, str, int, str]]:
    """(pid, job id, attempt, event) per line."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        _, pid, job_id, attempt, event = line.split(" ", 4)
        out.append((int(pid), job_id, int(attempt), event))
    return out


def wait_status(conn: psycopg.Connection, job_id: str, status: str, timeout: float,
                worker: WorkerProcess | None = None) -> dict[str, Any]:
    return wait_until(lambda: (j := job_row(conn, job_id))["status"] == status and j, timeout,
                      f"job {job_id} {status}", worker)


# ---------------------------------------------------------------------------- lifecycle
def test_lifecycle_progress_and_result(fresh_db_url: str, fresh_api: PostgREST, user: User,
                                       conn: psycopg.Connection,
                                       workers: list[WorkerProcess]) -> None:
    worker = start_worker(workers, fresh_db_url)
    research = fresh_api.rpc("start_research", {"query": "Lisbon for alice@example.com"},
                             token=user.token).body["jobId"]
    response = fresh_api.rpc("start_job", {"job_type": "demo.steps",
                                           "input": {"steps": 10, "step_ms": 150}},
                             token=user.token, headers={"X-Request-ID": "req-lifecycle-1"})
    assert response.status == 202
    job_id = response.body["jobId"]
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        row = fresh_api.select("jobs", filters={"id": job_id}, token=user.token).body[0]
        seen.append((row["status"], row["progress"]))
        if row["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.05)
    assert row["status"] == "completed", (seen, worker.output())
    assert row["result"] == {"steps": 10, "resumed_from": 0, "attempt": 1}
    assert row["progress"] == 100 and row["attempts"] == 1 and row["error"] is None
    assert row["checkpoints"] == {"done": 10}
    assert row["started_at"] and row["completed_at"] >= row["started_at"]
    progress = [p for s, p in seen if s == "processing"]
    assert progress == sorted(progress), "progress never goes back"
    assert len({p for p in progress if 0 < p < 100}) >= 3, seen
    assert leases(conn) == 0
    # a type this worker has no handler for (ai.research) is left alone, unclaimed
    unclaimed = job_row(conn, research)
    assert unclaimed["status"] == "queued" and unclaimed["attempts"] == 0
    # logs carry the job and request ids, never the input
    lines = [e for e in worker.events() if e.get("job_id") == job_id]
    assert lines and all(e.get("request_id") == "req-lifecycle-1" for e in lines)
    assert "alice@example.com" not in worker.output() and "Lisbon" not in worker.output()
    assert worker.stop() == 0


# ---------------------------------------------------------------------------- failures
def test_retries_with_backoff_then_fails(fresh_db_url: str, user: User, conn: psycopg.Connection,
                                         workers: list[WorkerProcess]) -> None:
    set_type(conn, "demo.fail", retry_base="200 milliseconds", retry_cap="1 second")
    always = enqueue(conn, "demo.fail", {}, user)
    once = enqueue(conn, "demo.fail", {"fail_times": 1}, user)
    permanent = enqueue(conn, "demo.fail", {"permanent": True}, user)
    worker = start_worker(workers, fresh_db_url)

    failed = wait_status(conn, always, "failed", 15, worker)
    assert failed["attempts"] == 3 == failed["max_attempts"]
    assert failed["error"] == "The job failed after 3 attempts."
    errors = conn.execute("select attempt, retryable, error, created_at from private.job_errors "
                          "where job_id = %s order by attempt", (always,)).fetchall()
    assert [(a, r) for a, r, _, _ in errors] == [(1, True), (2, True), (3, True)]
    assert all(e.startswith("RetryableError: demo.fail attempt") for _, _, e, _ in errors)
    gaps = [(b[3] - a[3]).total_seconds() for a, b in itertools.pairwise(errors)]
    # attempt n waits least(0.2 * 2^(n-1), 1) * [0.5, 1] seconds
    assert 0.1 <= gaps[0] < 1.0 and 0.2 <= gaps[1] < 1.5, gaps

    done = wait_status(conn, once, "completed", 10, worker)
    assert done["attempts"] == 2 and done["result"] == {"succeeded_on_attempt": 2}

    perm = wait_status(conn, permanent, "failed", 10, worker)
    assert perm["attempts"] == 1 and perm["error"] == "demo.fail failed, as it was asked to."
    assert leases(conn) == 0
    assert worker.stop() == 0


# ---------------------------------------------------------------------------- cancellation
def test_cancel_a_running_job(fresh_db_url: str, fresh_api: PostgREST, user: User,
                              conn: psycopg.Connection, workers: list[WorkerProcess]) -> None:
    set_type(conn, "demo.steps", lease_seconds=3)  # heartbeats every second
    worker = start_worker(workers, fresh_db_url, WORKER_CONCURRENCY="2")
    via_api = fresh_api.rpc("start_job", {"job_type": "demo.steps",
                                          "input": {"steps": 200, "step_ms": 100}},
                            token=user.token).body["jobId"]
    quiet = enqueue(conn, "demo.steps", {"steps": 200, "step_ms": 100}, user)
    for job_id in (via_api, quiet):
        wait_until(lambda j=job_id: job_row(conn, j)["progress"] > 0, 10, "progress", worker)

    # through the API: NOTIFY reaches the worker at once
    asked = time.monotonic()
    response = fresh_api.rpc("cancel_job", {"job_id": via_api}, token=user.token)
    assert response.status == 202 and response.body["status"] == "processing"
    row = wait_status(conn, via_api, "cancelled", 5, worker)
    assert time.monotonic() - asked < 1.0
    assert row["completed_at"] is not None and row["result"] is None

    # without a NOTIFY (set directly): the next heartbeat carries it, within one interval
    conn.execute("update public.jobs set cancel_requested_at = now() where id = %s", (quiet,))
    asked = time.monotonic()
    wait_status(conn, quiet, "cancelled", 5, worker)
    assert time.monotonic() - asked < 1.0 + 0.5  # one heartbeat (lease 3 s / 3) and slack
    assert leases(conn) == 0
    assert job_row(conn, quiet)["checkpoints"]["done"] < 200
    assert worker.stop() == 0


# ---------------------------------------------------------------------------- crash and resume
def test_killed_worker_job_resumes_from_checkpoint(fresh_db_url: str, user: User,
                                                   conn: psycopg.Connection, trace_file: Path,
                                                   workers: list[WorkerProcess]) -> None:
    set_type(conn, "demo.steps", lease_seconds=2)
    env = {"WORKER_TRACE_FILE": str(trace_file)}
    first = start_worker(workers, fresh_db_url, **env)
    job_id = enqueue(conn, "demo.steps", {"steps": 30, "step_ms": 100}, user)
    wait_until(lambda: job_row(conn, job_id)["checkpoints"].get("done", 0) >= 8, 10, "8 steps",
               first)
    first.kill()  # SIGKILL: no goodbye, the lease is simply not renewed
    killed_at = time.monotonic()
    done_at_kill = job_row(conn, job_id)["checkpoints"]["done"]
    assert job_row(conn, job_id)["status"] == "processing"

    second = start_worker(workers, fresh_db_url, **env)
    row = wait_status(conn, job_id, "completed", 20, second)
    assert time.monotonic() - killed_at < 2 + 0.5 + 5  # lease + recovery interval + slack
    assert row["attempts"] == 2
    assert row["result"] == {"steps": 30, "resumed_from": done_at_kill, "attempt": 2}

    steps = [(pid, attempt, int(event.split()[1])) for pid, jid, attempt, event
             in read_trace(trace_file) if jid == job_id]
    numbers = [s for _, _, s in steps]
    assert sorted(numbers) == list(range(1, 31)), "every step ran exactly once"
    assert {s for pid, _, s in steps if pid == first.pid} == set(range(1, done_at_kill + 1))
    assert {s for pid, a, s in steps if pid == second.pid and a == 2} == set(
        range(done_at_kill + 1, 31))
    errors = conn.execute("select attempt, error from private.job_errors where job_id = %s",
                          (job_id,)).fetchall()
    assert errors == [(1, "lease expired: the worker stopped heartbeating")]
    assert leases(conn) == 0
    assert second.stop() == 0


# ---------------------------------------------------------------------------- exactly once
def test_two_workers_drain_2000_jobs_exactly_once(fresh_db_url: str, user: User,
                                                   conn: psycopg.Connection, trace_file: Path,
                                                   workers: list[WorkerProcess]) -> None:
    env = {"WORKER_TRACE_FILE": str(trace_file), "WORKER_BATCH": "50"}
    a = start_worker(workers, fresh_db_url, **env)
    b = start_worker(workers, fresh_db_url, **env)
    for _ in range(4):  # in four statements, as four requests would
        conn.execute("select private.enqueue_jobs('demo.noop', array_fill('{}'::jsonb, "
                     "array[500]), %s)", (user.id,))
    wait_until(lambda: conn.execute("select count(*) from public.jobs where status = "
                                    "'completed'").fetchone()[0] == 2000, 60, "2000 done", a)
    stats = conn.execute("select status, attempts, count(*) from public.jobs "
                         "group by 1, 2").fetchall()
    assert stats == [("completed", 1, 2000)]
    runs = read_trace(trace_file)
    per_job = Counter(jid for _, jid, _, _ in runs)
    assert len(per_job) == 2000 and set(per_job.values()) == {1}, "each job ran exactly once"
    by_worker = Counter(pid for pid, _, _, _ in runs)
    assert set(by_worker) == {a.pid, b.pid}, by_worker  # both took part
    assert leases(conn) == 0
    assert a.stop() == 0 and b.stop() == 0


# ---------------------------------------------------------------------------- connection loss
def test_worker_survives_losing_its_connections(fresh_db_url: str, user: User,
                                                conn: psycopg.Connection, trace_file: Path,
                                                workers: list[WorkerProcess]) -> None:
    # polling every 30 s: a job picked up quickly afterwards proves LISTEN came back
    worker = start_worker(workers, fresh_db_url, WORKER_POLL_INTERVAL="30",
                          WORKER_TRACE_FILE=str(trace_file))
    long_job = enqueue(conn, "demo.steps", {"steps": 30, "step_ms": 50}, user)
    wait_until(lambda: job_row(conn, long_job)["progress"] > 0, 10, "progress", worker)
    database = fresh_db_url.rsplit("/", 1)[-1]
    killed = conn.execute(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity "
        "where datname = %s and application_name like 'wayfare-worker%%'", (database,),
    ).fetchone()[0]
    assert killed >= 2  # the pool's connections and the listener's
    worker.wait_for("worker.listener_reconnected", 10)
    after = [enqueue(conn, "demo.noop", {}, user) for _ in range(20)]
    picked = time.monotonic()
    for job_id in after:
        wait_status(conn, job_id, "completed", 10, worker)
    assert time.monotonic() - picked < 5
    row = wait_status(conn, long_job, "completed", 15, worker)
    assert row["attempts"] == 1 and row["result"]["steps"] == 30
    steps = [e for _, jid, _, e in read_trace(trace_file) if jid == long_job]
    assert sorted(steps, key=lambda e: int(e.split()[1])) == [f"step {n}" for n in range(1, 31)]
    assert worker.alive()
    assert worker.stop() == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def own_cluster() -> Iterator[tuple[str, list[str]]]:
    """A throwaway Postgres cluster of this test's own (restarting the shared one would break
    every other test running against it): (url of a migrated database, pg_ctl base command)."""
    pg_bin = Path("/usr/lib/postgresql/15/bin")
    if os.geteuid() != 0 or not shutil.which("runuser") or not (pg_bin / "initdb").exists():
        pytest.skip("needs root, runuser and Postgres 15 binaries to run a cluster of its own")
    home = Path(tempfile.mkdtemp(prefix="wayfare-restart-"))
    home.chmod(0o755)
    shutil.chown(home, "postgres", "postgres")
    data = home / "data"
    port = free_port()

    def as_postgres(*cmd: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True,
                       capture_output=True, timeout=60)

    # -l: the postmaster must not inherit our pipes (run() would wait for it to exit)
    pg_ctl = ["runuser", "-u", "postgres", "--", str(pg_bin / "pg_ctl"), "-D", str(data),
              "-l", str(home / "log")]
    try:
        as_postgres(str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                    "-E", "UTF8", "--locale=C.UTF-8")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                       f"unix_socket_directories = '{home}'\nfsync = off\n")
        subprocess.run([*pg_ctl, "-w", "start"], check=True, capture_output=True, timeout=60)
        admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute("create database wayfare")
        url = f"postgresql://postgres@127.0.0.1:{port}/wayfare"
        subprocess.run([str(ROOT / "scripts/stack.sh"), "migrate", url], check=True, cwd=ROOT,
                       capture_output=True, timeout=120)
        yield url, pg_ctl
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)


def test_worker_survives_a_postgres_restart(own_cluster: tuple[str, list[str]],
                                            tmp_path: Path,
                                            workers: list[WorkerProcess]) -> None:
    url, pg_ctl = own_cluster
    trace_file = tmp_path / "trace.txt"
    user = create_user(url)
    worker = start_worker(workers, url, WORKER_TRACE_FILE=str(trace_file))
    with psycopg.connect(url, autocommit=True) as c:
        long_job = enqueue(c, "demo.steps", {"steps": 40, "step_ms": 50}, user)
        before = [enqueue(c, "demo.noop", {}, user) for _ in range(50)]
        wait_until(lambda: job_row(c, long_job)["progress"] > 0, 10, "progress", worker)
    subprocess.run([*pg_ctl, "-m", "fast", "-w", "restart"], check=True, capture_output=True,
                   timeout=60)
    with psycopg.connect(url, autocommit=True) as c:
        after = [enqueue(c, "demo.noop", {}, user) for _ in range(50)]
        for job_id in [*before, *after]:
            wait_status(c, job_id, "completed", 20, worker)
        row = wait_status(c, long_job, "completed", 20, worker)
        assert row["result"]["steps"] == 40
        assert c.execute("select count(*) from public.jobs where status <> 'completed'"
                         ).fetchone()[0] == 0
        assert c.execute("select count(*) from private.job_leases").fetchone()[0] == 0
    steps = [e for _, jid, _, e in read_trace(trace_file) if jid == long_job]
    assert len(steps) == len(set(steps)) == 40, "no step ran twice"
    assert worker.alive()
    assert worker.stop() == 0


# ---------------------------------------------------------------------------- shutdown
def test_sigterm_finishes_or_releases_never_leaves_jobs_locked(
        fresh_db_url: str, user: User, conn: psycopg.Connection,
        workers: list[WorkerProcess]) -> None:
    worker = start_worker(workers, fresh_db_url, WORKER_CONCURRENCY="2",
                          WORKER_SHUTDOWN_TIMEOUT="2")
    short = enqueue(conn, "demo.steps", {"steps": 6, "step_ms": 200}, user)  # ~1.2 s
    long = enqueue(conn, "demo.steps", {"steps": 40, "step_ms": 100}, user)  # ~4 s
    waiting = enqueue(conn, "demo.steps", {"steps": 1}, user)  # no free handler thread
    for job_id in (short, long):
        wait_until(lambda j=job_id: job_row(conn, j)["progress"] > 0, 10, "progress", worker)
    signalled = time.monotonic()
    assert worker.stop(signal.SIGTERM, timeout=15) == 0
    assert time.monotonic() - signalled < 2 + 3  # the shutdown timeout and some slack
    assert job_row(conn, short)["status"] == "completed"
    released = job_row(conn, long)
    assert released["status"] == "queued" and released["attempts"] == 0
    assert 0 < released["checkpoints"]["done"] < 40  # kept for whoever claims it next
    assert job_row(conn, waiting)["status"] == "queued"
    assert leases(conn) == 0
    stopped = [e for e in worker.events() if e.get("event") == "worker.stopped"]
    assert stopped and stopped[0]["released"] == 1
    errors = conn.execute("select count(*) from private.job_errors").fetchone()[0]
    assert errors == 0, "a release is not a failure"
    # and the released job resumes where it stopped
    again = start_worker(workers, fresh_db_url)
    row = wait_status(conn, long, "completed", 20, again)
    assert row["result"]["resumed_from"] == released["checkpoints"]["done"]
    assert row["attempts"] == 1
    assert again.stop() == 0


def test_config_errors_exit_2(fresh_db_url: str) -> None:
    bad = run_worker(fresh_db_url, env={"WORKER_CONCURRENCY": "0"})
    assert bad.proc.wait(20) == 2
    assert "worker.config_error" in bad.output()
    unknown = run_worker(fresh_db_url, args=["--types", "no.such_type"])
    assert unknown.proc.wait(20) == 2
    assert json.loads(unknown.output().splitlines()[-1])["event"] == "worker.no_handler"
