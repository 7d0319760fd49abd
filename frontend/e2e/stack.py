"""Start a whole Wayfare for the frontend's HTTP and browser tests, run a command, stop it all.

A database of its own (migrated by `scripts/stack.sh migrate`, seeded), the real PostgREST with
the Auth stand-in behind the gateway (devstack.localapi), the Stripe double, the web service
(webhooks), the worker, and the fake OpenAI-compatible provider (so research takes a moment
and can be cancelled). Every port is free-picked, so parallel runs and `make run` never
collide. The command gets WAYFARE_* variables (see `_env`) and its exit code is returned.

    .venv/bin/python frontend/e2e/stack.py -- node --test ...
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from devstack.localapi import LocalAPI, free_port  # noqa: E402
from devstack.openai_fake import run_openai_fake  # noqa: E402
from devstack.stripe_double.harness import start_stripe_double  # noqa: E402

SERVER_URL = os.environ.get(
    "DATABASE_URL", "postgresql://postgres:postgres@127.0.0.1:54322/postgres")
WEBHOOK_SECRET = "whsec_frontend_e2e"  # noqa: S105 (a local test double's secret)
STRIPE_KEY = "sk_test_frontend_e2e"
# research queries containing this word answer slowly (so a test can cancel one mid-run)
SLOW_WORD = "slowly"
MEDIUM_WORD = "gently"  # ... and these take a few seconds, so progress can be watched


def _url_for(database: str) -> str:
    base, _, _ = SERVER_URL.rpartition("/")
    query = ""
    if "?" in SERVER_URL:
        query = "?" + SERVER_URL.split("?", 1)[1]
    return f"{base}/{database}{query}"


@contextmanager
def database(name: str) -> Iterator[str]:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        drop = sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        conn.execute(drop)
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = _url_for(name)
    try:
        subprocess.run([str(ROOT / "scripts" / "stack.sh"), "migrate", url], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        yield url
    finally:
        with psycopg.connect(SERVER_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)))


def _wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def process(name: str, args: list[str], env: dict[str, str], logs: Path) -> Iterator[None]:
    log = open(logs / f"{name}.log", "w")  # the process keeps it
    proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=log,
                            stderr=subprocess.STDOUT)
    log.close()
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _start_api(db_url: str, home: Path) -> LocalAPI:
    """LocalAPI on free-picked ports; another process can take a port between the pick and
    the bind (several test runs share the machine), so try again on new ports."""
    for attempt in range(3):
        try:
            return LocalAPI(db_url, home=home).start()
        except RuntimeError as error:
            if "Address already in use" not in str(error) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logs", type=Path, default=ROOT / "frontend" / "test-results" / "logs")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")
    args.logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        db_url = stack.enter_context(database(f"wayfare_fe_{os.getpid()}"))
        ai = stack.enter_context(run_openai_fake())
        httpx.post(f"{ai.url}/_fake/script", json=[
            {"match": SLOW_WORD, "delay_ms": 1500, "repeat": 200},
            {"match": MEDIUM_WORD, "delay_ms": 700, "repeat": 200},
            {"delay_ms": 250, "repeat": 2000},
        ], timeout=5).raise_for_status()
        web_port = free_port()
        double = start_stripe_double(webhook_url=f"http://127.0.0.1:{web_port}/webhooks/stripe",
                                     webhook_secret=WEBHOOK_SECRET)
        stack.callback(double.stop)
        api = _start_api(db_url, args.logs / "api")
        stack.callback(api.stop)
        common = {
            "DATABASE_URL": db_url, "WAYFARE_ENV": "development",
            "STRIPE_API_KEY": STRIPE_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": double.url, "SUPABASE_URL": api.url,
            "SUPABASE_JWT_SECRET": api.jwt_secret,
            "AI_BASE_URL": f"{ai.url}/v1", "AI_MODEL": "fake-model", "AI_API_KEY": "fake",
        }
        py = sys.executable
        stack.enter_context(process("web", [py, "-m", "webhook"],
                                    {**common, "PORT": str(web_port)}, args.logs))
        _wait_http(f"http://127.0.0.1:{web_port}/healthz")
        stack.enter_context(process("worker", [py, "-m", "worker"], common, args.logs))
        env = {
            "WAYFARE_API_URL": api.url,
            "WAYFARE_ANON_KEY": api.anon_key,
            "WAYFARE_SERVICE_ROLE_KEY": api.service_role_key,
            "WAYFARE_DATABASE_URL": db_url,
            "WAYFARE_STRIPE_URL": double.url,
            "WAYFARE_STRIPE_KEY": STRIPE_KEY,
            "WAYFARE_WEB_URL": f"http://127.0.0.1:{web_port}",
            "WAYFARE_SLOW_WORD": SLOW_WORD,
            "WAYFARE_MEDIUM_WORD": MEDIUM_WORD,
        }
        print(json.dumps({"event": "frontend.stack.up", **{k: v for k, v in env.items()
                                                            if "KEY" not in k}}), flush=True)
        code = subprocess.run(command, env={**os.environ, **env}, check=False).returncode
        if code:
            print(f"frontend e2e: failed; process logs in {args.logs}", file=sys.stderr)
        return code
    return 1


if __name__ == "__main__":
    sys.exit(main())
