"""The worker bounds its own waits (issue 15): a provider that never answers, and a database
statement held up behind a lock, each end within their time limit, and the job goes on from its
checkpoints; a Stripe call past its timeout is retried with the same idempotency key. Real
worker, AI fake, Stripe double, web service and Postgres processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from devstack.openai_fake import FakeHandle, run_openai_fake
from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.users import User, create_user
from tests.test_payments_flow import make_stack
from tests.worker_helpers import finished_job, job_row, run_worker, wait_until

pytestmark = pytest.mark.slow

QUERY = "Four days in Kyoto: temples, food markets and day trips"
NEVER_MS = 3_600_000  # "never" for a test: an hour


@pytest.fixture
def fake() -> Iterator[FakeHandle]:
    with run_openai_fake() as handle:
        yield handle


def research_asks(fake: FakeHandle) -> list[tuple[str, float]]:
    """(the user message, when received) of every research request the fake saw."""
    out = []
    for request in fake.requests():
        msgs = request["body"]["messages"]
        if msgs[0]["content"].lower().startswith("task: research"):
            out.append((msgs[-1]["content"], request["received_at"]))
    return out


def test_a_provider_that_never_answers_is_retried_from_the_checkpoint(
        fresh_db_url: str, fake: FakeHandle) -> None:
    url = fresh_db_url
    databases.relax_rate_limits(url)
    user: User = create_user(url)
    with psycopg.connect(url, autocommit=True) as conn:  # operators may shorten the backoff
        conn.execute("update private.job_types set retry_base = interval '1 second' "
                     "where type = 'ai.research'")
    # the first sub-question is answered; the second one's request never is
    fake.script([{"match": "TASK: research"},
                 {"match": "TASK: research", "delay_ms": NEVER_MS}])
    api = PostgREST(databases.url_for(url.rsplit("/", 1)[-1], user="authenticator"))
    try:
        response = api.rpc("start_research", {"query": QUERY}, token=user.token)
    finally:
        api.close()
    assert response.status == 202, response.body
    job_id = response.body["jobId"]
    # no retries inside the AI client: the timeout must reach the job, which retries it
    env = {"AI_BASE_URL": fake.base_url, "AI_MODEL": "fake-model", "AI_TIMEOUT_S": "1",
           "AI_MAX_RETRIES": "0", "WORKER_TYPES": "ai.research"}
    with run_worker(url, env=env) as worker:
        row = wait_until(lambda: finished_job(url, job_id), 45, "research job", worker)
        assert worker.stop() == 0
    assert row["status"] == "completed", row["error"]
    assert row["attempts"] == 2, "the timed-out attempt was retried once"
    plan = row["result"]["sub_questions"]
    assert len(plan) >= 2
    asks = research_asks(fake)
    per_question = {q: sum(f"Sub-question: {q}" in text for text, _ in asks) for q in plan}
    # the answered sub-question was never asked again; the one that hung was asked twice
    assert per_question[plan[0]] == 1, per_question
    assert per_question[plan[1]] == 2, per_question
    assert all(n == 1 for q, n in per_question.items() if q not in plan[:2]), per_question
    assert len(asks) == len(plan) + 1
    plans = [r for r in fake.requests()
             if r["body"]["messages"][0]["content"].lower().startswith("task: plan")]
    assert len(plans) == 1, "the plan was checkpointed"
    with psycopg.connect(url, autocommit=True) as conn:
        errors = conn.execute("select attempt, error, retryable from private.job_errors "
                              "where job_id = %s", (job_id,)).fetchall()
    assert len(errors) == 1 and errors[0][0] == 1 and errors[0][2] is True
    assert "research.1" in errors[0][1]
    # the hung request was given up after its time limit, not the fake's hour
    hung_at = [at for text, at in asks if f"Sub-question: {plan[1]}" in text]
    assert hung_at[1] - hung_at[0] < 1 + 1 + 10  # timeout + backoff (<= 1 s) + a claim


def test_a_statement_held_up_by_a_lock_times_out_and_the_job_goes_on(
        fresh_db_url: str, tmp_path: Path) -> None:
    url = fresh_db_url
    user = create_user(url)
    trace = tmp_path / "trace.txt"
    env = {"WORKER_TYPES": "demo.steps", "WORKER_STATEMENT_TIMEOUT": "0.5",
           "WORKER_TRACE_FILE": str(trace)}
    with psycopg.connect(url, autocommit=True) as conn, run_worker(url, env=env) as worker:
        job_id = str(conn.execute("select private.enqueue_job('demo.steps', %s, %s)",
                                  (Jsonb({"steps": 12, "step_ms": 200}), user.id)
                                  ).fetchone()[0])
        wait_until(lambda: job_row(url, job_id)["checkpoints"].get("done", 0) >= 2, 15,
                   "two steps done", worker)
        locked = threading.Event()

        def hold_the_row() -> None:  # the job's next checkpoint waits behind this lock
            with psycopg.connect(url) as blocker:
                blocker.execute("select 1 from public.jobs where id = %s for update", (job_id,))
                locked.set()
                time.sleep(2.5)
                blocker.rollback()

        holder = threading.Thread(target=hold_the_row)
        holder.start()
        assert locked.wait(10)
        took_lock = time.monotonic()
        wait_until(lambda: "job.write_retry" in worker.output(), 2.0,
                   "a write cancelled by the statement timeout", worker)
        assert time.monotonic() - took_lock < 2.0  # well before the lock was released
        holder.join()
        row = wait_until(lambda: finished_job(url, job_id), 20, "the job", worker)
        assert worker.stop() == 0
    assert row["status"] == "completed" and row["attempts"] == 1
    assert row["result"]["steps"] == 12
    steps = [line.split(" ", 4)[4] for line in trace.read_text().splitlines()
             if line.split(" ")[2] == job_id]
    assert len(steps) == len(set(steps)), "no step ran twice"


def test_a_stripe_call_past_its_timeout_is_retried_with_the_same_key(
        clones: databases.Clones) -> None:
    """The double creates the PaymentIntent, then answers only after the worker's Stripe
    timeout: the attempt fails, the retry replays the same idempotency key, and the booking
    has exactly one PaymentIntent."""
    with make_stack(clones) as stack:
        stack.double.fail_next({"path_prefix": "/v1/payment_intents", "method": "POST",
                                "mode": "delay", "when": "after", "seconds": 4})
        stack.start_worker(STRIPE_TIMEOUT_S="1")
        user = create_user(stack.db_url)
        created = stack.book(user)
        job = stack.wait_job(created["jobId"], timeout=30)
        [pi] = stack.intents_for(created["id"])
        assert stack.booking(created["id"])["payment_intent_id"] == pi["id"]
        assert job["attempts"] >= 2
        [(error,)] = stack.sql("select error from private.job_errors where job_id = %s "
                               "order by id limit 1", created["jobId"])
        assert "APIConnectionError" in error
        keys = {r["idempotency_key"] for r in stack.double.requests(
            method="POST", path_prefix="/v1/payment_intents")}
        assert keys == {f"wayfare-booking-{created['id']}-create"}
