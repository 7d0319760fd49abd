"""Start the Auth stand-in as a real subprocess (tests, the stack, the demo).

    with run_auth_standin(db_url) as auth:
        client = SyncGoTrueClient(url=auth.url, headers={"apikey": anon_key})
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from devstack.processes import REPO_ROOT, module_env, read_banner, stop_process, wait_until
from devstack.tokens import TEST_JWT_SECRET

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
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=module_env(SUPABASE_JWT_SECRET=jwt_secret),
                               cwd=REPO_ROOT)
    output: list[str] = []
    try:
        url = read_banner(process, _banner_url, timeout_s, "devstack.auth", output)
        handle = AuthHandle(process, url, output)
        wait_until(lambda: _healthy(url), timeout=timeout_s, what="devstack.auth /health",
                   describe=lambda: "".join(output[-20:]))
        yield handle
    finally:
        stop_process(process)


def _banner_url(line: str) -> str | None:
    return line[len(BANNER):].strip() if line.startswith(BANNER) else None


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
