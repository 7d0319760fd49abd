"""The jobs API (docs/jobs.md) through the PostgREST harness: start_job, start_research,
cancel_job, polling public.jobs, RLS, and what users can never do to the table."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from tests.harness.postgrest import PostgREST, Response
from tests.harness.users import User

USER_COLUMNS = {
    "id", "user_id", "type", "status", "progress", "input", "result", "error", "checkpoints",
    "created_at", "started_at", "completed_at", "expires_at", "attempts", "max_attempts",
    "run_at", "cancel_requested_at", "request_id", "priority",
}


def start(api: PostgREST, user: User | None, job_type: str = "demo.steps",
          job_input: object = None, **headers: str) -> Response:
    body = {"steps": 3, "step_ms": 10} if job_input is None else job_input
    return api.rpc("start_job", {"job_type": job_type, "input": body},
                   token=user.token if user else None,
                   headers={k.replace("_", "-"): v for k, v in headers.items()})


def poll(api: PostgREST, user: User, job_id: str) -> list[dict]:
    response = api.select("jobs", filters={"id": job_id}, token=user.token)
    assert response.status == 200, response.body
    return response.body


def field_of(response: Response) -> str | None:
    return response.details["field"]


# ---------------------------------------------------------------------------- start_job
def test_start_job_answers_202_with_job_id_and_poll_url(api: PostgREST, alice: User) -> None:
    response = start(api, alice, X_Request_ID="req-start-job-1")
    assert response.status == 202, response.body
    job_id = response.body["jobId"]
    assert response.body == {"jobId": job_id, "status": "queued",
                             "pollUrl": f"/rest/v1/jobs?id=eq.{job_id}"}
    uuid.UUID(job_id)
    rows = poll(api, alice, job_id)
    assert len(rows) == 1
    job = rows[0]
    assert set(job) == USER_COLUMNS
    assert job["status"] == "queued" and job["type"] == "demo.steps"
    assert job["user_id"] == alice.id
    assert job["input"] == {"steps": 3, "step_ms": 10}
    assert job["progress"] == 0 and job["attempts"] == 0 and job["max_attempts"] == 3
    assert job["checkpoints"] == {} and job["result"] is None and job["error"] is None
    assert job["request_id"] == "req-start-job-1"


def test_input_is_normalised_by_the_type(api: PostgREST, alice: User) -> None:
    job_id = start(api, alice, job_input={"steps": 2}).body["jobId"]
    assert poll(api, alice, job_id)[0]["input"] == {"steps": 2, "step_ms": 0}
    noop = start(api, alice, "demo.noop", {})
    assert noop.status == 202
    assert poll(api, alice, noop.body["jobId"])[0]["input"] == {}


@pytest.mark.parametrize(("job_type", "job_input", "field"), [
    ("no.such_type", {}, "job_type"),
    ("", {}, "job_type"),
    ("payment.create_intent", {"booking_id": str(uuid.uuid4())}, "job_type"),  # backend-only
    ("demo.noop", {"extra": 1}, "input.extra"),
    ("demo.noop", [1, 2], "input"),
    ("demo.noop", "text", "input"),
    ("demo.steps", {}, "input.steps"),
    ("demo.steps", {"steps": 0}, "input.steps"),
    ("demo.steps", {"steps": 1001}, "input.steps"),
    ("demo.steps", {"steps": 2.5}, "input.steps"),
    ("demo.steps", {"steps": "3"}, "input.steps"),
    ("demo.steps", {"steps": 3, "step_ms": -1}, "input.step_ms"),
    ("demo.steps", {"steps": 3, "step_ms": 60001}, "input.step_ms"),
    ("demo.steps", {"steps": 3, "sneaky": True}, "input.sneaky"),
    ("ai.research", {}, "input.query"),
    ("ai.research", {"query": "  "}, "input.query"),
    ("ai.research", {"query": "x" * 501}, "input.query"),
    ("ai.research", {"query": 42}, "input.query"),
])
def test_bad_type_or_input_is_400_naming_the_field(api: PostgREST, alice: User, job_type: str,
                                                   job_input: object, field: str) -> None:
    response = start(api, alice, job_type, job_input)
    assert response.status == 400, response.body
    assert response.code == "VALIDATION_FAILED"
    assert field_of(response) == field
    assert response.details["requestId"] == response.header("X-Request-ID")
    assert api.select("jobs", token=alice.token).body == []


def test_oversized_input_is_400(api: PostgREST, alice: User) -> None:
    response = start(api, alice, "ai.research", {"query": "Lisbon", "padding": "x" * 70_000})
    assert response.status == 400 and response.code == "VALIDATION_FAILED"
    assert field_of(response) == "input"
    assert "65536" in response.body["message"]


def test_anon_gets_401(api: PostgREST, alice: User) -> None:
    for name, args in [("start_job", {"job_type": "demo.noop", "input": {}}),
                       ("start_research", {"query": "Porto"}),
                       ("cancel_job", {"job_id": str(uuid.uuid4())})]:
        response = api.rpc(name, args)
        assert response.status == 401 and response.code == "UNAUTHORIZED", (name, response.body)
    assert api.select("jobs").status == 401


def test_start_job_is_idempotent(api: PostgREST, alice: User) -> None:
    first = start(api, alice, Idempotency_Key="job-key-1")
    second = start(api, alice, Idempotency_Key="job-key-1")
    assert first.status == second.status == 202
    assert second.body == first.body and second.header("Idempotent-Replayed") == "true"
    assert first.header("Idempotent-Replayed") is None
    assert len(api.select("jobs", token=alice.token).body) == 1
    other = start(api, alice, job_input={"steps": 4}, Idempotency_Key="job-key-1")
    assert other.status == 422 and other.code == "IDEMPOTENCY_KEY_REUSED"
    assert len(api.select("jobs", token=alice.token).body) == 1


def test_idempotency_key_as_argument(api: PostgREST, alice: User) -> None:
    args = {"job_type": "demo.noop", "input": {}, "idempotency_key": "arg-key"}
    first = api.rpc("start_job", args, token=alice.token)
    second = api.rpc("start_job", args, token=alice.token)
    assert second.body == first.body and second.header("Idempotent-Replayed") == "true"


def test_failed_validation_stores_no_key(api: PostgREST, alice: User) -> None:
    bad = start(api, alice, job_input={"steps": 0}, Idempotency_Key="retry-me")
    assert bad.status == 400
    good = start(api, alice, job_input={"steps": 1}, Idempotency_Key="retry-me")
    assert good.status == 202 and good.header("Idempotent-Replayed") is None


# ---------------------------------------------------------------------------- start_research
def test_start_research(api: PostgREST, alice: User) -> None:
    response = api.rpc("start_research", {"query": "  Three days in Porto with kids  "},
                       token=alice.token)
    assert response.status == 202, response.body
    job_id = response.body["jobId"]
    assert response.body == {"jobId": job_id, "status": "queued",
                             "pollUrl": f"/rest/v1/jobs?id=eq.{job_id}"}
    job = poll(api, alice, job_id)[0]
    assert job["type"] == "ai.research"
    assert job["input"] == {"query": "Three days in Porto with kids"}


@pytest.mark.parametrize("query", ["", "   ", "x" * 501, "bad\x01char"])
def test_start_research_rejects_bad_queries(api: PostgREST, alice: User, query: str) -> None:
    response = api.rpc("start_research", {"query": query}, token=alice.token)
    assert response.status == 400 and response.code == "VALIDATION_FAILED"
    assert field_of(response) == "query"


def test_start_research_accepts_500_characters(api: PostgREST, alice: User) -> None:
    assert api.rpc("start_research", {"query": "q" * 500}, token=alice.token).status == 202


def test_start_research_is_idempotent(api: PostgREST, alice: User) -> None:
    headers = {"Idempotency-Key": "research-1"}
    first = api.rpc("start_research", {"query": "Kyoto"}, token=alice.token, headers=headers)
    again = api.rpc("start_research", {"query": "Kyoto"}, token=alice.token, headers=headers)
    assert again.body == first.body and again.header("Idempotent-Replayed") == "true"
    other = api.rpc("start_research", {"query": "Osaka"}, token=alice.token, headers=headers)
    assert other.status == 422 and other.code == "IDEMPOTENCY_KEY_REUSED"


# ---------------------------------------------------------------------------- cancel_job
def test_cancel_a_queued_job(api: PostgREST, alice: User) -> None:
    job_id = start(api, alice).body["jobId"]
    response = api.rpc("cancel_job", {"job_id": job_id}, token=alice.token)
    assert response.status == 200, response.body
    assert response.body["jobId"] == job_id and response.body["status"] == "cancelled"
    job = poll(api, alice, job_id)[0]
    assert job["status"] == "cancelled" and job["completed_at"] is not None


def test_cancel_a_processing_job_asks_the_worker(api: PostgREST, alice: User,
                                                 db: psycopg.Connection) -> None:
    job_id = start(api, alice).body["jobId"]
    claim(db, job_id)
    response = api.rpc("cancel_job", {"job_id": job_id}, token=alice.token)
    assert response.status == 202, response.body
    assert response.body["status"] == "processing"
    assert response.body["cancelRequestedAt"] is not None
    job = poll(api, alice, job_id)[0]
    assert job["status"] == "processing" and job["cancel_requested_at"] is not None
    # asking again is harmless and keeps the first request's time
    again = api.rpc("cancel_job", {"job_id": job_id}, token=alice.token)
    assert again.status == 202
    assert again.body["cancelRequestedAt"] == response.body["cancelRequestedAt"]
    # the worker sees it at its next heartbeat
    state = db.execute("select private.heartbeat_job(%s, 'test-worker', 1)", (job_id,)).fetchone()
    assert state[0] == "cancel"


@pytest.mark.parametrize("how", ["completed", "cancelled"])
def test_cancel_a_finished_job_is_409(api: PostgREST, alice: User, db: psycopg.Connection,
                                      how: str) -> None:
    job_id = start(api, alice).body["jobId"]
    if how == "completed":
        claim(db, job_id)
        done = db.execute("select private.complete_job(%s, 'test-worker', 1, '{\"ok\": true}')",
                          (job_id,)).fetchone()[0]
        assert done is True
    else:
        assert api.rpc("cancel_job", {"job_id": job_id}, token=alice.token).status == 200
    response = api.rpc("cancel_job", {"job_id": job_id}, token=alice.token)
    assert response.status == 409 and response.code == "INVALID_STATE"
    assert field_of(response) == "job_id"
    assert poll(api, alice, job_id)[0]["status"] == how


def test_another_users_job_is_not_found(api: PostgREST, alice: User, bob: User) -> None:
    job_id = start(api, alice).body["jobId"]
    response = api.rpc("cancel_job", {"job_id": job_id}, token=bob.token)
    assert response.status == 404 and response.code == "NOT_FOUND"
    assert field_of(response) == "job_id"
    missing = api.rpc("cancel_job", {"job_id": str(uuid.uuid4())}, token=bob.token)
    assert (missing.status, missing.body["message"]) == (404, response.body["message"])
    assert poll(api, bob, job_id) == []
    assert poll(api, alice, job_id)[0]["status"] == "queued"


def test_cancel_job_needs_a_job_id(api: PostgREST, alice: User) -> None:
    response = api.rpc("cancel_job", {"job_id": None}, token=alice.token)
    assert response.status == 400 and field_of(response) == "job_id"


# ---------------------------------------------------------------------------- the table
def test_users_only_see_their_own_jobs(api: PostgREST, alice: User, bob: User) -> None:
    mine = start(api, alice).body["jobId"]
    theirs = start(api, bob).body["jobId"]
    assert {j["id"] for j in api.select("jobs", token=alice.token).body} == {mine}
    assert {j["id"] for j in api.select("jobs", token=bob.token).body} == {theirs}


def test_users_cannot_write_jobs(api: PostgREST, alice: User) -> None:
    job_id = start(api, alice).body["jobId"]
    inserted = api.insert("jobs", {"type": "demo.noop", "user_id": alice.id}, token=alice.token)
    assert inserted.status == 403 and inserted.code == "42501"
    assert api.insert("jobs", {"type": "demo.noop"}).status == 401
    for values in ({"status": "completed"}, {"progress": 100}, {"result": {"fake": True}},
                   {"attempts": 0}, {"user_id": alice.id}):
        updated = api.update("jobs", values, filters={"id": job_id}, token=alice.token)
        assert updated.status == 403 and updated.code == "42501", values
    deleted = api.delete("jobs", filters={"id": job_id}, token=alice.token)
    assert deleted.status == 403 and deleted.code == "42501"
    job = poll(api, alice, job_id)[0]
    assert job["status"] == "queued" and job["progress"] == 0


def test_internal_state_is_not_readable(api: PostgREST, alice: User, db: psycopg.Connection,
                                        ) -> None:
    """Leases (worker id, lease end) and internal error text are in private tables."""
    job_id = start(api, alice).body["jobId"]
    claim(db, job_id, worker="host-1:123:secret")
    db.execute("select private.fail_job(%s, 'host-1:123:secret', 1, "
               "'KeyError: internal detail with alice@example.com', true)", (job_id,))
    row = poll(api, alice, job_id)[0]
    assert set(row) == USER_COLUMNS
    assert "internal detail" not in json.dumps(row) and "host-1" not in json.dumps(row)
    conn_url = db.info.dsn.replace("user=postgres", "user=authenticator")
    with psycopg.connect(conn_url) as conn:
        conn.execute("set role authenticated")
        for table in ("private.job_leases", "private.job_errors", "private.job_types"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {table}")
            conn.rollback()
            conn.execute("set role authenticated")
        for fn in ("private.claim_jobs('w', array['demo.steps'], 1)",
                   "private.complete_job(gen_random_uuid(), 'w', 1, null)",
                   "private.recover_expired_leases()",
                   "private.enqueue_job('demo.noop', '{}', gen_random_uuid())"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select {fn}")
            conn.rollback()
            conn.execute("set role authenticated")


def test_retry_keeps_the_error_user_safe(api: PostgREST, alice: User, db: psycopg.Connection,
                                         ) -> None:
    job_id = start(api, alice).body["jobId"]
    db.execute("update public.jobs set max_attempts = 1 where id = %s", (job_id,))
    claim(db, job_id)
    status = db.execute("select private.fail_job(%s, 'test-worker', 1, 'Traceback: secret', true)",
                        (job_id,)).fetchone()[0]
    assert status == "failed"
    job = poll(api, alice, job_id)[0]
    assert job["status"] == "failed" and job["error"] == "The job failed after 1 attempts."


def claim(db: psycopg.Connection, job_id: str, worker: str = "test-worker") -> None:
    """Claim exactly this job, as a worker would (other queued jobs are left alone)."""
    db.execute("update public.jobs set priority = -1 where id = %s", (job_id,))
    row = db.execute("select id from private.claim_jobs(%s, array['demo.steps'], 1)",
                     (worker,)).fetchone()
    assert row is not None and str(row[0]) == job_id
