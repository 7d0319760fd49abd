"""Throwaway Postgres clusters and listeners for tests that must not touch the shared one."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import psycopg
import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def need_cluster_tools() -> None:
    if os.geteuid() != 0 or not shutil.which("runuser") or not (PG_BIN / "initdb").exists():
        pytest.skip("needs root, runuser and the Postgres 15 binaries for a cluster of its own")


def postgres_home(prefix: str) -> Path:
    """A directory the postgres user can use (pytest's tmp_path is root-only)."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    home.chmod(0o755)
    shutil.chown(home, "postgres", "postgres")
    return home


class Cluster:
    """A Postgres 15 cluster of a test's own, on a free port (pg_cron preloadable)."""

    def __init__(self, home: Path, *, preload: str = "") -> None:
        self.home = home
        self.data = home / "data"
        self.port = free_port()
        self.preload = preload
        self.pg_ctl = ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                       str(self.data), "-l", str(home / "postgres.log")]

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> Cluster:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D",
                        str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                        "--locale=C.UTF-8"], check=True, capture_output=True, timeout=120)
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.home}'\nfsync = off\n"
                       "synchronous_commit = off\n")
            if self.preload:
                conf.write(f"shared_preload_libraries = '{self.preload}'\n"
                           "cron.database_name = 'postgres'\n")
        subprocess.run([*self.pg_ctl, "-w", "start"], check=True, capture_output=True,
                       timeout=60)
        return self

    def execute(self, statement: str, database: str = "postgres") -> list[tuple]:
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def stop(self) -> None:
        subprocess.run([*self.pg_ctl, "-m", "immediate", "stop"], capture_output=True,
                       timeout=60)


class Listener:
    """A TCP listener that is not Postgres: accepts and closes connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()

    def close(self) -> None:
        self.sock.close()
