"""Real `python -m worker` processes for tests (any engineer's):

    with run_worker(fresh_db_url, env={"WORKER_CONCURRENCY": "2"}) as worker:
        ...                                   # the worker runs against that database
        worker.wait_for("worker.stopped")     # or any log event
    worker.stop()                             # SIGTERM, wait; .kill() is SIGKILL

`output()` is everything it logged; `events()` the parsed JSON log lines. On leaving the
`with` block a still-running worker is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from devstack import processes

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")

FAST_ENV = {
    "WORKER_POLL_INTERVAL": "0.5",
    "WORKER_RECOVER_INTERVAL": "0.5",
    "WORKER_SHUTDOWN_TIMEOUT": "5",
}


class WorkerProcess:
    def __init__(self, db_url: str, *, env: dict[str, str] | None = None,
                 args: Sequence[str] = ()) -> None:
        full_env = {**os.environ, **FAST_ENV, "DATABASE_URL": db_url, **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker", *args], cwd=ROOT, env=full_env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self._lines.append(line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            lines = list(self._lines)
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append({"event": "raw", "line": line.rstrip()})
        return out

    def wait_for(self, event: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """The first log line with this event (and these field values)."""
        def find() -> dict[str, Any] | None:
            for e in self.events():
                if e.get("event") == event and all(e.get(k) == v for k, v in fields.items()):
                    return e
            return None
        return wait_until(find, timeout, f"worker log event {event} {fields}", self)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.alive():
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"worker did not stop within {timeout}s:\n{self.output()}"
                                 ) from None
        self._reader.join(2)
        return code

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait(10)
        self._reader.join(2)

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.kill()


def run_worker(db_url: str, *, env: dict[str, str] | None = None,
               args: Sequence[str] = ()) -> WorkerProcess:
    """Start `python -m worker` against db_url (DATABASE_URL) with fast test timings."""
    return WorkerProcess(db_url, env=env, args=args)


def wait_until(check: Callable[[], T | None], timeout: float = 10.0, what: str = "condition",
               worker: WorkerProcess | None = None, interval: float = 0.05) -> T:
    """Poll check() until it returns something truthy; fail with the worker's log if not."""
    describe = (lambda: f"--- worker output ---\n{worker.output()}") if worker else None
    try:
        return processes.wait_until(check, timeout, what, interval, describe)
    except TimeoutError as exc:
        raise AssertionError(str(exc)) from None


def job_row(db: str | psycopg.Connection, job_id: str) -> dict[str, Any]:
    """The job's row in public.jobs, every column by name; `db` is an open connection or a
    URL (read as the superuser)."""
    if isinstance(db, str):
        with psycopg.connect(db, autocommit=True) as conn:
            return job_row(conn, job_id)
    row = db.cursor(row_factory=dict_row).execute(
        "select * from public.jobs where id = %s", (job_id,)).fetchone()
    assert row is not None, f"no job {job_id}"
    return row


def finished_job(db_url: str, job_id: str) -> dict[str, Any] | None:
    """The job's row once it is completed, failed or cancelled (for wait_until)."""
    row = job_row(db_url, job_id)
    return row if row["status"] in ("completed", "failed", "cancelled") else None
