"""What ships: the wheel holds the three packages the processes run (wayfare, worker, webhook)
with the mail templates, and nothing of the development stack (devstack, tests, bench)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    src = tmp_path_factory.mktemp("src")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for name in files:  # a clean copy: no .venv, build/ or egg-info from this checkout
        if not name.startswith(("frontend/", "node_modules/")):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(out), str(src)], check=True, capture_output=True)
    (wheel,) = out.glob("wayfare-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_holds_the_shipped_packages(wheel_names: set[str]) -> None:
    tops = {name.split("/", 1)[0] for name in wheel_names if "/" in name}
    assert {"wayfare", "worker", "webhook"} <= tops
    assert "worker/handlers/payments.py" in wheel_names
    assert any(n.startswith("wayfare/mail/templates/") for n in wheel_names)


def test_the_wheel_holds_nothing_of_the_development_stack(wheel_names: set[str]) -> None:
    leaked = sorted(n for n in wheel_names
                    if n.split("/", 1)[0] in {"devstack", "tests", "bench", "scripts"})
    assert not leaked, leaked
