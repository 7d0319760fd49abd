"""The small chaos run of `make test` (issue 10): ~300 mixed jobs (demo, research, bookings
paid, failed then paid, cancelled, refunded), two to four real workers killed at random
(SIGKILL and SIGTERM), one restart of a Postgres cluster of the test's own, the web service
receiving shuffled and duplicated webhooks, booking emails to an SMTP sink. Zero anomalies;
then one violation of each rule is planted and every one is caught (the checks can fail).
`make chaos` is the 5,000-job run."""

from __future__ import annotations

from typing import Any

import pytest

from bench.chaos import ChaosConfig, Cluster, Run, run_chaos

pytestmark = pytest.mark.slow


def test_small_chaos_run_has_no_anomalies() -> None:
    why = Cluster.available()
    if why:
        pytest.skip(why)
    planted: dict[str, Any] = {}

    def plant(run: Run) -> None:
        planted["found"] = run.plant_violations()

    report = run_chaos(ChaosConfig(jobs=300, workers=2, window=30, kill_every=(2.0, 5.0),
                                   settle_timeout=120, seed=7), then=plant)
    print("\n".join(report.lines()))
    assert report.anomalies == []
    assert report.jobs >= 300 and set(report.by_status) <= {"completed", "failed", "cancelled"}
    assert report.sigkills + report.sigterms >= 3
    assert report.restarts == 1
    assert report.duplicates > 0
    assert report.bookings >= 8 and report.emails > 0
    assert report.log_lines > 0
    # the planted violations, each caught
    found = "\n".join(planted["found"])
    assert "ended 3 times: processing->completed completed->queued queued->completed" in found
    assert "past its lease" in found and "leases left" in found, found
    assert "jobs still processing" in found, found
    assert "2 PaymentIntents" in found, found
    assert "email " in found and ": pending, sent " in found, found
    assert "worker-0 log line" in found and "holds PII" in found, found
    assert "web log line" in found and "holds a secret" in found, found
