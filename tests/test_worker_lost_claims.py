"""A claim whose answer never reached the worker (it committed, then the connection broke)
leaves a job processing under the worker's lease without the worker knowing. The worker asks
for the leases it holds and gives back those it never received, so the job runs within
seconds instead of after its lease. Real worker process and Postgres."""

from __future__ import annotations

import time

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.harness.users import create_user
from tests.worker_helpers import run_worker, wait_until

pytestmark = pytest.mark.slow


def test_a_lost_claim_is_given_back_and_run(fresh_db_url: str) -> None:
    url = fresh_db_url
    user = create_user(url)
    worker_id = "lost-claims-test:1:abc"
    with psycopg.connect(url, autocommit=True) as conn, \
            run_worker(url, env={"WORKER_ID": worker_id, "WORKER_TYPES": "demo.steps",
                                 "WORKER_RECOVER_INTERVAL": "0.5"}) as worker:
        worker.wait_for("worker.started")
        conn.execute("update private.job_types set lease_seconds = 60 "
                     "where type = 'demo.steps'")
        job_id = str(conn.execute("select private.enqueue_job('demo.steps', %s, %s, null, "
                                  "now() + interval '1 hour')",
                                  (Jsonb({"steps": 1}), user.id)).fetchone()[0])
        # the claim the worker never heard of: made in its name, with its answer thrown away
        # (one transaction: the worker's own claims skip the row until it is ours)
        with conn.transaction():
            conn.execute("update public.jobs set run_at = now() where id = %s", (job_id,))
            conn.execute("set local role wayfare_worker")
            claimed = conn.execute(
                "select id::text from private.claim_jobs(%s, array['demo.steps'], 1)",
                (worker_id,)).fetchall()
        assert claimed == [(job_id,)]
        started = time.monotonic()
        row = wait_until(lambda: (r := conn.execute(
            "select status, attempts from public.jobs where id = %s", (job_id,)).fetchone()
        )[0] == "completed" and r, 10, "the job", worker)
        assert time.monotonic() - started < 5, "well before its 60 s lease ended"
        assert row[1] == 1, "the lost claim was not counted as an attempt"
        event = worker.wait_for("worker.lost_claims_released")
        assert event["jobs"] == 1 and event["released"] == 1
        errors = conn.execute("select count(*) from private.job_errors where job_id = %s",
                              (job_id,)).fetchone()[0]
        assert errors == 0
        assert worker.stop() == 0
