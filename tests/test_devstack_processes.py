"""devstack/processes.py: the banner reader the doubles' harnesses share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.processes import module_env, read_banner, stop_process


def spawn(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-u", "-c", code], stdout=subprocess.PIPE, text=True,
                            env=module_env())


def url_of(line: str) -> str | None:
    return line.split("listening on ", 1)[1].strip() if "listening on " in line else None


def test_returns_what_the_banner_line_says_and_keeps_draining() -> None:
    process = spawn("import time\nprint('starting')\nprint('listening on http://x:1')\n"
                    "print('y' * 70000)\ntime.sleep(30)")
    output: list[str] = []
    try:
        assert read_banner(process, url_of, 10, "demo", output) == "http://x:1"
        assert output[0] == "starting\n"
    finally:
        stop_process(process)


def test_a_process_that_exits_first_is_named_with_its_last_lines() -> None:
    process = spawn("print('boom: no config')\nraise SystemExit(3)")
    with pytest.raises(RuntimeError, match=r"demo did not start \(exited with code 3\)"):
        read_banner(process, url_of, 10, "demo")
    process.wait()


def test_no_banner_in_time() -> None:
    process = spawn("import time\nprint('warming up')\ntime.sleep(30)")
    try:
        with pytest.raises(RuntimeError, match=r"printed no banner in 0.5s(.|\n)*warming up"):
            read_banner(process, url_of, 0.5, "demo")
    finally:
        stop_process(process)


def test_module_env_puts_the_repository_first() -> None:
    env = module_env(EXTRA="1")
    assert env["EXTRA"] == "1"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(Path(__file__).resolve().parents[1])
