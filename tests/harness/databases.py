"""Databases for tests: one template migrated with the real Supabase CLI, cheap clones of it."""

from __future__ import annotations

import itertools
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres"


def server_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


def url_for(database: str, *, user: str | None = None, base: str | None = None) -> str:
    parts = urlsplit(base or server_url())
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, parts.fragment))


def admin() -> psycopg.Connection:
    return psycopg.connect(server_url(), autocommit=True)


def drop(name: str) -> None:
    from tests.harness.postgrest import SERVERS  # a PostgREST still attached would reconnect

    SERVERS.forget(name)
    with admin() as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


def create_migrated(name: str) -> str:
    """An empty database with only the compat layer, brought up by `supabase db push`."""
    drop(name)
    with admin() as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = url_for(name)
    subprocess.run([str(ROOT / "scripts" / "stack.sh"), "migrate", url], check=True, cwd=ROOT)
    return url


class Clones:
    """Databases copied from a template: a fresh, fully migrated database in ~0.1 s."""

    def __init__(self, template: str, prefix: str) -> None:
        self.template = template
        self.prefix = prefix
        self._counter = itertools.count()
        self.made: list[str] = []

    def make(self) -> str:
        name = f"{self.prefix}_{next(self._counter)}"
        drop(name)
        with admin() as conn:
            conn.execute(
                sql.SQL("create database {} template {} strategy file_copy").format(
                    sql.Identifier(name), sql.Identifier(self.template)
                )
            )
        self.made.append(name)
        return url_for(name)

    def drop_all(self) -> None:
        for name in self.made:
            drop(name)
        self.made.clear()


def relax_rate_limits(url: str) -> None:
    """Limits high enough never to trip (the counting still runs)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update private.rate_limits set max_requests = 1000000")
