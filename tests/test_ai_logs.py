"""private.ai_logs: consent decides what text is kept, a trigger refuses unredacted PII,
nobody on the API reads it, and expired rows are purged by the scheduled function."""

from __future__ import annotations

import psycopg
import pytest

from tests.harness.postgrest import PostgREST
from tests.harness.users import User

LOG_CALL = """
    select private.log_ai_call(
        user_id => %(user_id)s, job_id => null, request_id => 'req-ai-0001',
        provider => 'fake', model => 'fake-model', purpose => 'research',
        prompt_redacted => %(prompt)s, response_redacted => %(response)s,
        structured_output => %(structured)s, token_usage => '{"total_tokens": 42}',
        duration_ms => 120, attempts => 1, error => null)
"""


def log_call(db: psycopg.Connection, user: User, prompt: str | None, response: str | None,
             structured: str | None = None) -> str:
    return db.execute(LOG_CALL, {"user_id": user.id, "prompt": prompt, "response": response,
                                 "structured": structured}).fetchone()[0]


def row(db: psycopg.Connection, log_id: str) -> dict:
    cur = db.execute("select * from private.ai_logs where id = %s", (log_id,))
    names = [c.name for c in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def test_usage_only_keeps_no_text(db: psycopg.Connection, alice: User) -> None:
    entry = row(db, log_call(db, alice, "Plan [NAME]'s trip", "Go to Kyoto", '{"a": 1}'))
    assert entry["consent_level"] == "usage_only"
    assert entry["prompt_redacted"] is None and entry["response_redacted"] is None
    assert entry["structured_output"] is None
    assert entry["token_usage"] == {"total_tokens": 42} and entry["duration_ms"] == 120
    assert entry["request_id"] == "req-ai-0001"


def test_redacted_consent_keeps_redacted_text(db: psycopg.Connection, api: PostgREST,
                                              alice: User) -> None:
    api.update("profiles", {"ai_consent": "redacted"}, filters={"id": alice.id},
               token=alice.token)
    entry = row(db, log_call(db, alice, "Mail [EMAIL] about Kyoto", "Try Gion"))
    assert entry["consent_level"] == "redacted"
    assert entry["prompt_redacted"] == "Mail [EMAIL] about Kyoto"


def test_logs_expire_after_30_days(db: psycopg.Connection, alice: User) -> None:
    entry = row(db, log_call(db, alice, None, None))
    assert (entry["expires_at"] - entry["created_at"]).days == 30


@pytest.mark.parametrize("leak", [
    "write to maria.gonzalez@example.com",
    "card 4111 1111 1111 1111 exp 12/29",
    "card 4111-1111-1111-1111",
    "pay with 5500005555555559 please",
])
def test_unredacted_pii_is_refused(db: psycopg.Connection, api: PostgREST, alice: User,
                                   leak: str) -> None:
    api.update("profiles", {"ai_consent": "redacted"}, filters={"id": alice.id},
               token=alice.token)
    with pytest.raises(psycopg.errors.CheckViolation):
        log_call(db, alice, leak, "fine")
    with pytest.raises(psycopg.errors.CheckViolation):
        log_call(db, alice, "fine", leak)


@pytest.mark.parametrize("travel", [
    "flight BA 117 on 2026-12-03, booking ref X7KQ2P, room 1204",
    "order 1234567890123 (fails Luhn), 12,000 steps, 3,776 m",
    "price $1,234.56, confirmation 88412093, coords 35.3606, 138.7274",
])
def test_travel_data_is_not_refused(db: psycopg.Connection, api: PostgREST, alice: User,
                                    travel: str) -> None:
    api.update("profiles", {"ai_consent": "redacted"}, filters={"id": alice.id},
               token=alice.token)
    assert row(db, log_call(db, alice, travel, travel))["prompt_redacted"] == travel


def test_no_api_role_reads_ai_logs(db: psycopg.Connection, api: PostgREST,
                                   alice: User) -> None:
    log_call(db, alice, None, None)
    for role in ("anon", "authenticated", "service_role"):
        with db.transaction():
            db.execute(f"set local role {role}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute("select count(*) from private.ai_logs")
            raise psycopg.Rollback


def test_purge_removes_expired_rows_only(fresh_db_url: str) -> None:
    from tests.harness.users import create_user

    user = create_user(fresh_db_url)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        old = log_call(conn, user, None, None)
        new = log_call(conn, user, None, None)
        conn.execute("update private.ai_logs set expires_at = now() - interval '1 second' "
                     "where id = %s", (old,))
        purged = conn.execute("select private.purge_expired_ai_logs()").fetchone()[0]
        left = [r[0] for r in conn.execute("select id from private.ai_logs")]
    assert purged == 1 and [str(x) for x in left] == [str(new)]


def test_purge_is_scheduled(db: psycopg.Connection) -> None:
    """pg_cron lives in the main database (cron.database_name); the schedule is there."""
    from tests.harness import databases

    with psycopg.connect(databases.server_url()) as conn:
        jobs = [r[0] for r in conn.execute("select command from cron.job")]
    assert "select private.purge_expired_ai_logs()" in jobs
