"""A live terminal view of Wayfare for `make run`: the queue, recent jobs with progress,
bookings and webhook events, refreshed every second. Reads Postgres directly (as the owner).

    python -m devstack.watch [--once] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import psycopg
from psycopg import sql

from wayfare.config import Settings

BAR = 20


def bar(progress: int | None) -> str:
    done = max(0, min(BAR, round((progress or 0) * BAR / 100)))
    return "[" + "#" * done + "." * (BAR - done) + f"] {progress or 0:3d}%"


def exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def counts(conn: psycopg.Connection, table: str, column: str = "status") -> str:
    schema, name = table.split(".")
    rows = conn.execute(sql.SQL("select {}, count(*) from {} group by 1 order by 1").format(
        sql.Identifier(column), sql.Identifier(schema, name))).fetchall()
    return " | ".join(f"{status} {n}" for status, n in rows) or "none yet"


def render(conn: psycopg.Connection) -> list[str]:
    lines = [f"Wayfare, live   {time.strftime('%Y-%m-%d %H:%M:%S')}   (Ctrl-C stops)", ""]
    if exists(conn, "public.jobs"):
        oldest = conn.execute(
            "select extract(epoch from now() - min(created_at)) from public.jobs "
            "where status = 'queued'").fetchone()[0]
        age = f"{oldest:.1f}s" if oldest is not None else "-"
        lines += [f"Jobs     {counts(conn, 'public.jobs')}   oldest queued: {age}", ""]
        recent = conn.execute(
            "select left(id::text, 8), type, status, progress, attempts, "
            "coalesce(error, '') from public.jobs order by created_at desc limit 8").fetchall()
        lines.append(f"  {'job':8}  {'type':22} {'status':11} {'progress':28} try  error")
        for job_id, job_type, status, progress, attempts, error in recent:
            lines.append(f"  {job_id}  {job_type:22} {status:11} {bar(progress):28} "
                         f"{attempts or 0:>3}  {error[:40]}")
        lines.append("")
    if exists(conn, "public.bookings"):
        lines.append(f"Bookings {counts(conn, 'public.bookings')}")
    if exists(conn, "private.stripe_events"):
        lines.append(f"Stripe   {counts(conn, 'private.stripe_events', 'type')}")
    if exists(conn, "private.ai_logs"):
        calls, tokens = conn.execute(
            "select count(*), coalesce(sum((token_usage->>'total_tokens')::int), 0) "
            "from private.ai_logs").fetchone()
        lines.append(f"AI       {calls} calls, {tokens} tokens")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--once", action="store_true", help="print one frame and exit")
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    url = Settings.from_env().database_url
    tty = sys.stdout.isatty() and not args.once
    try:
        with psycopg.connect(url, autocommit=True,
                             application_name="wayfare-watch") as conn:
            while True:
                frame = "\n".join(render(conn))
                if tty:
                    sys.stdout.write("\x1b[H\x1b[2J" + frame + "\n")
                else:
                    sys.stdout.write(frame + "\n\n")
                sys.stdout.flush()
                if args.once:
                    return 0
                time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0
    except psycopg.OperationalError as exc:
        print(f"watch: cannot reach the database ({type(exc).__name__})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    os.environ.setdefault("PGAPPNAME", "wayfare-watch")
    sys.exit(main())
