"""Small helpers for the local doubles' and services' subprocesses (tests and demos)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def stop_process(process: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL: the process is gone when this returns."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def wait_until(check: Callable[[], T | None], timeout: float = 10.0, what: str = "condition",
               interval: float = 0.05, describe: Callable[[], str] | None = None) -> T:
    """Poll check() until it returns something truthy and return it; raise TimeoutError
    (with describe()'s text, e.g. a process's log) when it does not within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{describe()}" if describe else ""
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}{extra}")
        time.sleep(interval)
