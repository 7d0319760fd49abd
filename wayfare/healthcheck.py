"""`python -m wayfare.healthcheck [web|worker]`: the container and systemd health probe.

web: `GET http://127.0.0.1:$PORT/healthz` answers 200 within 3 s. worker: the worker has no
port; it is healthy when its database (DATABASE_URL, what it needs to claim jobs) answers
`select 1` within 5 s, on a connection of its own made by the door (wayfare/db.py `probe`).
Without an argument the process is guessed from PID 1's command line (the image runs one
process per container). Exit 0 healthy, 1 not; one line on stderr saying
why, never a URL with its password.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from wayfare import db
from wayfare.config import default_database_url

PROBE = db.Session(application_name="wayfare-healthcheck", statement_timeout_ms=5000,
                   connect_timeout=5)


def which() -> str:
    try:
        cmdline = Path("/proc/1/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "web"
    return "worker" if " worker" in cmdline else "web"


def check_web() -> str | None:
    port = os.environ.get("PORT", "8000")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
            return None if resp.status == 200 else f"/healthz answered {resp.status}"
    except (OSError, urllib.error.URLError) as exc:
        return f"/healthz on port {port}: {type(exc).__name__}"


def check_worker() -> str | None:
    try:
        url = os.environ.get("DATABASE_URL") or default_database_url(os.environ)
        db.probe(url, PROBE)
    except Exception as exc:  # unreachable, too slow (DatabaseUnavailable, DatabaseTimeout),
        # a bad URL (ConfigError, psycopg's ProgrammingError): the name only, never the URL
        return f"database: {type(exc).__name__}"
    return None


def main(argv: list[str]) -> int:
    process = argv[1] if len(argv) > 1 else which()
    if process not in ("web", "worker"):
        print("usage: python -m wayfare.healthcheck [web|worker]", file=sys.stderr)
        return 2
    problem = check_web() if process == "web" else check_worker()
    if problem:
        print(f"unhealthy ({process}): {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
