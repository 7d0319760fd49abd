"""Start the Auth stand-in as a real subprocess (tests, the stack, the demo).

    with run_auth_standin(db_url) as auth:
        client = SyncGoTrueClient(url=auth.url, headers={"apikey": anon_key})
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.processes import stop_process, wait_until
from devstack.tokens import TEST_JWT_SECRET

ROOT = Path(__file__).resolve().parents[2]
BANNER = "devstack.auth listening on "


@dataclass
class AuthHandle:
    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def stop(self) -> None:
        stop_process(self.process)


@contextlib.contextmanager
def run_auth_standin(database_url: str, *, port: int = 0, jwt_secret: str = TEST_JWT_SECRET,
                     site_url: str = "http://127.0.0.1:54321", jwt_exp: int | None = None,
                     refresh_token_reuse_interval: int | None = None,
                     timeout_s: float = 20.0) -> Iterator[AuthHandle]:
    """`python -m devstack.auth` on 127.0.0.1 (port 0: a free one), stopped on exit."""
    command = [sys.executable, "-m", "devstack.auth", "--host", "127.0.0.1", "--port", str(port),
               "--database-url", database_url, "--site-url", site_url]
    if jwt_exp is not None:
        command += ["--jwt-exp", str(jwt_exp)]
    if refresh_token_reuse_interval is not None:
        command += ["--refresh-token-reuse-interval", str(refresh_token_reuse_interval)]
    env = {**os.environ, "SUPABASE_JWT_SECRET": jwt_secret}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env, cwd=ROOT)
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:  # keep draining so the pipe never fills
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        url = _banner(process, lines, timeout_s, output)
        handle = AuthHandle(process, url, output)
        wait_until(lambda: _healthy(url), timeout=timeout_s, what="devstack.auth /health",
                   describe=lambda: "".join(output[-20:]))
        yield handle
    finally:
        stop_process(process)


def _banner(process: subprocess.Popen[str], lines: queue.Queue[str], timeout_s: float,
            output: list[str]) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if line.startswith(BANNER):
            return line[len(BANNER):].strip()
    raise RuntimeError("devstack.auth did not start:\n" + "".join(output[-30:]))


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
