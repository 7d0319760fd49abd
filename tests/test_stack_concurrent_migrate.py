"""Two `scripts/stack.sh migrate` runs onto one cluster at once both succeed: they take turns
(a lock file per server) instead of colliding on what is cluster-wide (roles, role settings,
default privileges), which failed one of them with "tuple concurrently updated" whenever two
pytest processes built their templates together (`make test-fast`)."""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.harness import databases

pytestmark = pytest.mark.slow  # full migrations (see tests/README.md)

ROOT = Path(__file__).resolve().parents[1]


def start_migrate(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(ROOT / "scripts" / "stack.sh"), "migrate", url], cwd=ROOT,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def has_bookings(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("select to_regclass('public.bookings') is not null"
                            ).fetchone() == (True,)


@pytest.fixture
def empty_databases() -> Iterator[list[str]]:
    names = [f"wayfare_race_{os.getpid()}_{n}" for n in (1, 2)]
    for name in names:
        databases.drop(name)
        with databases.admin() as conn:
            conn.execute(f'create database "{name}"')
    yield [databases.url_for(name) for name in names]
    for name in names:
        databases.drop(name)


def test_two_migrations_of_one_cluster_at_once_both_succeed(empty_databases: list[str]) -> None:
    runs = [start_migrate(url) for url in empty_databases]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output
        assert "concurrently updated" not in output
    assert all(has_bookings(url) for url in empty_databases)


def test_a_migration_waits_while_another_holds_the_servers_lock(
        empty_databases: list[str]) -> None:
    server = urlsplit(databases.server_url()).netloc.rsplit("@", 1)[-1]
    lock = Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / (
        "wayfare-migrate-" + re.sub(r"[^A-Za-z0-9.-]", "_", server) + ".lock")
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running migration of this server holds it
        run = start_migrate(empty_databases[0])
        time.sleep(3)
        assert run.poll() is None, run.communicate()[0]  # still waiting
        assert not has_bookings(empty_databases[0])      # and nothing pushed yet
        fcntl.flock(held, fcntl.LOCK_UN)
        output = run.communicate(timeout=600)[0]
    assert run.returncode == 0, output
    assert f"another migration of {server} is running: waiting" in output
    assert has_bookings(empty_databases[0])
