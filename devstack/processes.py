"""Small helpers for the local doubles' and services' subprocesses (tests and demos)."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[1]


def module_env(**extra: str) -> dict[str, str]:
    """This process's environment with the repository first on PYTHONPATH (so `python -m
    devstack.x` works from any cwd), plus `extra`."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    return env


def read_banner(process: subprocess.Popen[str], find: Callable[[str], str | None],
                timeout: float, name: str, output: list[str] | None = None) -> str:
    """Drain the process's stdout on a thread for its whole life (the pipe never fills; each
    line is kept in `output`) and return find(line) for the first line where it is not None.
    RuntimeError, with the last lines, when the process exits first or `timeout` passes."""
    lines: queue.Queue[str] = queue.Queue()
    kept = output if output is not None else []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            kept.append(line)
            lines.put(line)

    threading.Thread(target=pump, name=f"{name}-stdout", daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if process.poll() is not None and lines.empty():
                break
            continue
        found = find(line)
        if found is not None:
            return found
    state = f"exited with code {process.returncode}" if process.poll() is not None else \
        f"printed no banner in {timeout}s"
    raise RuntimeError(f"{name} did not start ({state}):\n" + "".join(kept[-30:]))


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
