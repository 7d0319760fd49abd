"""Monitoring (issue 13): per-endpoint API latency p50/p95/p99 and 5xx rate from the gateway's
access log, alerts per endpoint (p95 > 3 s, 5xx > 5 %), query times per RPC from
pg_stat_statements, on /ops and in /metrics, and a Chromium screenshot of /ops.

The end-to-end test runs a cluster of its own with pg_stat_statements preloaded (the shared one
was started before the preload existed and is not restarted for tests)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from devstack import tokens
from tests.cluster_helpers import Cluster, need_cluster_tools, postgres_home
from tests.harness import databases
from tests.harness.http import QuietHandler, Served
from tests.harness.postgrest import PostgREST
from tests.harness.users import create_user
from tests.webhook_helpers import run_webhook_service
from webhook import monitoring

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / ".local" / "screenshots" / "ops.png"


def log_line(moment: float, method: str, path: str, status: int, duration: float) -> str:
    stamp = datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
    return json.dumps({"time": stamp, "request_id": "r", "method": method, "path": path,
                       "status": status, "duration_s": duration, "upstream_s": "0",
                       "bytes": 1})


def test_latency_error_rate_and_alerts_by_endpoint(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    lines = []
    for i in range(30):  # slow: p95 over 3 s
        lines.append(log_line(now - 60, "POST", "/rest/v1/rpc/start_research", 200,
                              4.0 if i >= 25 else 0.2))
    for i in range(40):  # 3 of 40 are 5xx: 7.5 %
        lines.append(log_line(now - 30, "GET", f"/rest/v1/trips/{i}", 503 if i < 3 else 200,
                              0.05))
    for _ in range(5):  # all failing, but too few requests to alert
        lines.append(log_line(now - 10, "POST", "/auth/v1/token", 500, 0.01))
    for _ in range(50):  # outside the window: ignored
        lines.append(log_line(now - 3600, "POST", "/rest/v1/rpc/create_trip", 500, 9.0))
    lines.append("not json")
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("WAYFARE_API_ACCESS_LOG", str(path))
    api = monitoring.api_report(now)
    rows = {r["endpoint"]: r for r in api["endpoints"]}
    assert set(rows) == {"POST /rest/v1/rpc/start_research", "GET /rest/v1/trips/:id",
                         "POST /auth/v1/token"}
    slow = rows["POST /rest/v1/rpc/start_research"]
    assert (slow["requests"], slow["p50_s"], slow["p95_s"], slow["p99_s"]) == (30, 0.2, 4.0, 4.0)
    assert rows["GET /rest/v1/trips/:id"]["error_rate"] == pytest.approx(0.075)
    alerts = monitoring.api_alerts(api)
    assert alerts == ["POST /rest/v1/rpc/start_research p95 4.00 s is over 3 s",
                      "GET /rest/v1/trips/:id error rate 7.5% is over 5% (3 of 40 answered 5xx)"]
    monkeypatch.setenv("OPS_ERROR_RATE_ALERT", "0.1")
    assert len(monitoring.api_alerts(api)) == 1
    monkeypatch.delenv("WAYFARE_API_ACCESS_LOG")
    assert monitoring.api_report()["available"] is False


def test_query_stats_say_why_when_pg_stat_statements_is_not_preloaded(
        db: psycopg.Connection) -> None:
    preload = db.execute("show shared_preload_libraries").fetchone()[0]
    if "pg_stat_statements" in preload:
        pytest.skip("the shared cluster preloads pg_stat_statements already")
    db.execute("set role wayfare_web")
    result = db.execute("select private.rpc_query_stats()").fetchone()[0]
    db.execute("reset role")
    assert result["available"] is False and result["rpcs"] == []
    assert "shared_preload_libraries" in result["reason"]
    for role in ("anon", "authenticated", "service_role"):
        assert db.execute("select has_function_privilege(%s, 'private.rpc_query_stats()', "
                          "'execute')", (role,)).fetchone() == (False,)


@pytest.fixture(scope="module")
def stats_cluster() -> Iterator[str]:
    need_cluster_tools()
    home = postgres_home("wayfare-stats-")
    cluster = Cluster(home, preload="pg_cron,pg_stat_statements").start()
    try:
        cluster.execute("create database wayfare_stats")
        url = cluster.url("wayfare_stats")
        subprocess.run([str(ROOT / "scripts" / "stack.sh"), "migrate", url], check=True,
                       cwd=ROOT, capture_output=True, timeout=300)
        databases.relax_rate_limits(url)
        yield url
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


class TokenProxy:
    """Forwards GETs to the web service with an operator's Authorization header, so that a
    browser started from the command line can load /ops."""

    def __init__(self, target: str, token: str) -> None:
        class Handler(QuietHandler):
            def do_GET(self) -> None:
                reply = httpx.get(target + self.path, timeout=15,
                                  headers={"Authorization": f"Bearer {token}",
                                           "Accept": "text/html"})
                self.send_response(reply.status_code)
                for name in ("Content-Type", "Content-Security-Policy"):
                    if name in reply.headers:
                        self.send_header(name, reply.headers[name])
                self.end_headers()
                self.wfile.write(reply.content)

        self.served = Served(Handler)
        self.url = self.served.url

    def close(self) -> None:
        self.served.close()


def test_ops_and_metrics_show_endpoint_latency_and_rpc_query_times(stats_cluster: str,
                                                                   tmp_path: Path) -> None:
    api = PostgREST(databases.url_for("wayfare_stats", user="authenticator", base=stats_cluster))
    try:
        user = create_user(stats_cluster)
        for i in range(25):
            reply = api.rpc("create_trip", {"title": f"Trip {i}"}, token=user.token)
            assert reply.status in (200, 201), reply.body
        assert api.rpc("create_trip", {"title": ""}, token=user.token).status == 400
        served = Path(api.server.home or "") / "access.log"
        deadline = time.monotonic() + 5
        while served.read_text().count("create_trip") < 26 and time.monotonic() < deadline:
            time.sleep(0.1)
        access_log = tmp_path / "access.log"  # the gateway's home goes when it stops
        shutil.copy(served, access_log)
    finally:
        api.close()
    env = {"WAYFARE_API_ACCESS_LOG": str(access_log), "SUPABASE_URL": "http://127.0.0.1:54321",
           "SUPABASE_JWT_SECRET": tokens.TEST_JWT_SECRET}
    admin = create_user(stats_cluster, admin=True)
    token = tokens.mint(admin.id, email=admin.email, app_metadata={"role": "admin"})
    with run_webhook_service(stats_cluster, env=env) as web:
        data = httpx.get(web.url + "/ops/data.json", timeout=15,
                         headers={"Authorization": f"Bearer {token}"}).json()
        metrics = httpx.get(web.url + "/metrics", timeout=15).text
        proxy = TokenProxy(web.url, token)
        try:
            html = httpx.get(proxy.url + "/ops", timeout=15).text
            shot = screenshot(proxy.url + "/ops")
        finally:
            proxy.close()
    endpoints = {r["endpoint"]: r for r in data["api"]["endpoints"]}
    trips = endpoints["POST /rest/v1/rpc/create_trip"]
    assert trips["requests"] == 26 and trips["errors"] == 0  # a 400 is not a server error
    assert 0 < trips["p50_s"] <= trips["p95_s"] <= trips["p99_s"]
    assert data["queries"]["available"] is True
    rpcs = {r["rpc"]: r for r in data["queries"]["rpcs"]}
    assert rpcs["create_trip"]["calls"] >= 26
    assert 0 < float(rpcs["create_trip"]["mean_ms"]) <= float(rpcs["create_trip"]["max_ms"])
    assert 'wayfare_db_rpc_calls{rpc="create_trip"}' in metrics
    assert ('wayfare_api_latency_seconds{endpoint="POST /rest/v1/rpc/create_trip",'
            'quantile="p95"}') in metrics
    assert "API latency by endpoint" in html and "Query time per RPC" in html
    assert "POST /rest/v1/rpc/create_trip" in html and " ms</td>" in html
    if shot is not None:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def screenshot(url: str) -> Path | None:
    """/ops in Debian's chromium, headless, as a PNG in .local/screenshots/ (None: no
    chromium here; scripts/frontend.sh installs it)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--screenshot={SCREENSHOT}", "--window-size=1400,2200",
                    url], capture_output=True, timeout=120, check=False)
    assert SCREENSHOT.exists(), "chromium made no screenshot"
    return SCREENSHOT


def test_charts_write_values_and_full_labels_and_leave_gaps_for_empty_minutes() -> None:
    from webhook.ops_charts import bars, line

    chart = bars([("payment_intent.succeeded", 12), ("charge.refunded", 3)], "events")
    assert "payment_intent.succeeded" in chart and ">12<" in chart and ">3<" in chart
    gap = line([("10:00", 1.5), ("10:01", None), ("10:02", None), ("10:03", 2.0),
                ("10:04", 2.5)], "p95 latency per minute (s)")
    # the empty minutes split the line: a dot for 10:00, a line from 10:03 to 10:04, no zero
    assert gap.count("<polyline") == 1 and gap.count("<circle") == 1
    assert "max 2.50" in gap and ">10:00<" in gap and ">10:04<" in gap
    assert "no data" in line([("10:00", None), ("10:01", None)], "p95")
