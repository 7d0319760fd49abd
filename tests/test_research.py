"""ai.research end to end: the worker (a real process), the fake OpenAI-compatible provider (a
real process) and Postgres. PII never reaches ai_logs, the provider or the worker's logs;
consent decides what text is kept; a killed worker's successor re-asks nothing answered;
provider 500s and 429s are retried; garbage answers end in a clean failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from devstack.openai_fake import FakeHandle, run_openai_fake
from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.users import User, create_user
from tests.worker_helpers import WorkerProcess, finished_job, job_row, run_worker, wait_until
from worker.handlers.research import UNUSABLE

EMAIL = "maria.gonzalez@example.com"
PHONE = "+44 20 7946 0958"
CARD = "4111 1111 1111 1111"
QUERY = (f"Plan three days in Lisbon with kids for me, reach me at {EMAIL} or {PHONE}; "
         f"I will pay with {CARD}")
PII = (EMAIL, PHONE, CARD, "4111111111111111", "7946 0958")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHandle]:
    with run_openai_fake() as handle:
        yield handle


@pytest.fixture
def setup(fresh_db_url: str, fake: FakeHandle) -> Iterator[tuple[PostgREST, User, str]]:
    fake.reset()
    databases.relax_rate_limits(fresh_db_url)
    user = create_user(fresh_db_url)
    api = PostgREST(databases.url_for(fresh_db_url.rsplit("/", 1)[-1], user="authenticator"))
    yield api, user, fresh_db_url
    api.close()


def ai_env(fake: FakeHandle) -> dict[str, str]:
    return {"AI_BASE_URL": fake.base_url, "AI_MODEL": "fake-model", "AI_MAX_RETRIES": "3",
            "WORKER_TYPES": "ai.research"}


def start(api: PostgREST, user: User, query: str = QUERY) -> str:
    response = api.rpc("start_research", {"query": query}, token=user.token)
    assert response.status == 202, response.body
    return response.body["jobId"]


def ai_logs(url: str, job_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn:
        cur = conn.execute("select * from private.ai_logs where job_id = %s order by created_at",
                           (job_id,))
        names = [c.name for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def asked(fake: FakeHandle, task: str) -> list[str]:
    """The user messages of every request the fake received for a task."""
    out = []
    for request in fake.requests():
        body = request["body"] if "body" in request else request
        msgs = body["messages"]
        if msgs[0]["content"].lower().startswith(f"task: {task}"):
            out.append(msgs[-1]["content"])
    return out


def run_until_done(url: str, job_id: str, fake: FakeHandle, timeout: float = 30
                   ) -> tuple[dict[str, Any], WorkerProcess]:
    with run_worker(url, env=ai_env(fake)) as worker:
        row = wait_until(lambda: finished_job(url, job_id), timeout, "research job", worker)
        worker.stop()
    return row, worker


def test_research_completes_and_no_pii_leaks(setup: tuple[PostgREST, User, str],
                                             fake: FakeHandle) -> None:
    api, user, url = setup
    job_id = start(api, user)
    row, worker = run_until_done(url, job_id, fake)
    assert row["status"] == "completed", row["error"]
    assert row["progress"] == 100
    result = row["result"]
    assert result["places"] and all(
        set(p) == {"name", "why", "tips"} for p in result["places"])
    assert 1 <= len(result["sub_questions"]) <= 6
    # one log row per call: plan, each sub-question, synthesis; usage always recorded
    logs = ai_logs(url, job_id)
    assert [entry["purpose"] for entry in logs] == (
        ["research.plan"] + ["research.research"] * len(result["sub_questions"])
        + ["research.synthesize"])
    assert all(entry["token_usage"]["total_tokens"] > 0 for entry in logs)
    assert all(entry["request_id"] == row["request_id"] for entry in logs)
    # usage_only (the default): no text at all
    assert all(entry["prompt_redacted"] is None and entry["response_redacted"] is None
               for entry in logs)
    # outbound redaction: the provider never saw the PII
    sent = json.dumps(fake.requests())
    assert not [p for p in PII if p in sent]
    assert "[EMAIL]" in sent
    # nor did the worker's log
    assert not [p for p in PII if p in worker.output()]


def test_redacted_consent_keeps_only_redacted_text(setup: tuple[PostgREST, User, str],
                                                   fake: FakeHandle) -> None:
    api, user, url = setup
    api.update("profiles", {"ai_consent": "redacted"}, filters={"id": user.id},
               token=user.token)
    job_id = start(api, user)
    row, _ = run_until_done(url, job_id, fake)
    assert row["status"] == "completed"
    logs = ai_logs(url, job_id)
    assert logs and all(entry["consent_level"] == "redacted" for entry in logs)
    assert "[EMAIL]" in logs[0]["prompt_redacted"]
    stored = json.dumps([{k: e[k] for k in ("prompt_redacted", "response_redacted",
                                             "structured_output")} for e in logs])
    assert not [p for p in PII if p in stored]


def test_killed_worker_resumes_without_reasking(setup: tuple[PostgREST, User, str],
                                                fake: FakeHandle) -> None:
    api, user, url = setup
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update private.job_types set lease_seconds = 2 where type = 'ai.research'")
    fake.script([{"match": "TASK: research", "delay_ms": 1200, "repeat": 50}])
    job_id = start(api, user, "Four days in Kyoto: temples, food markets and day trips")

    def answered() -> int:
        return len(job_row(url, job_id)["checkpoints"].get("answers", {}))

    with run_worker(url, env=ai_env(fake)) as first:
        wait_until(lambda: answered() >= 1, 30, "one answered sub-question", first)
        first.kill()
    answered_before = answered()
    row, _ = run_until_done(url, job_id, fake, timeout=60)
    assert row["status"] == "completed", row["error"]
    assert row["attempts"] >= 2
    plan = row["result"]["sub_questions"]
    assert len(asked(fake, "plan")) == 1  # the plan was checkpointed: never asked again
    research_asks = asked(fake, "research")
    per_question = {q: sum(q in text for text in research_asks) for q in plan}
    # answered before the kill: asked once; at most the one in flight was asked twice
    twice = [q for q, n in per_question.items() if n > 1]
    assert all(n >= 1 for n in per_question.values())
    assert len(twice) <= 1, per_question
    assert len(research_asks) <= len(plan) + 1
    assert 1 <= answered_before < len(plan)


def test_provider_errors_are_retried(setup: tuple[PostgREST, User, str],
                                     fake: FakeHandle) -> None:
    api, user, url = setup
    fake.script([{"status": 500}, {"status": 429, "retry_after": 1}, {"status": 503}])
    job_id = start(api, user, "A weekend in Porto")
    row, _ = run_until_done(url, job_id, fake)
    assert row["status"] == "completed", row["error"]
    assert fake.stats()["calls"] >= 3 + 3  # the three failures, then plan, research, synthesis


def test_garbage_answers_end_in_a_clean_failure(setup: tuple[PostgREST, User, str],
                                                fake: FakeHandle) -> None:
    api, user, url = setup
    fake.script([{"match": "TASK: plan", "content": "certainly! here are some ideas",
                  "repeat": 10}])
    job_id = start(api, user, "A week in Crete")
    row, _ = run_until_done(url, job_id, fake)
    assert row["status"] == "failed"
    assert row["error"] == UNUSABLE
    logs = ai_logs(url, job_id)
    assert len(logs) == 3 and all(e["error"] == "AIBadResponse" for e in logs)
    assert "Traceback" not in (row["error"] or "")


def test_offline_provider_says_it_is_not_a_model(setup: tuple[PostgREST, User, str]) -> None:
    api, user, url = setup
    job_id = start(api, user, "Two days in Seville")
    with run_worker(url, env={"AI_BASE_URL": "", "WORKER_TYPES": "ai.research"}) as worker:
        row = wait_until(lambda: finished_job(url, job_id), 30, "offline research", worker)
    assert row["status"] == "completed"
    assert "not a model" in json.dumps(row["result"])
    assert row["result"]["provider"] == "offline"


def test_user_cannot_read_someone_elses_research(setup: tuple[PostgREST, User, str]) -> None:
    api, user, url = setup
    job_id = start(api, user, "Hidden gems of Ghent")
    other = create_user(url)
    assert api.select("jobs", filters={"id": job_id}, token=other.token).body == []
