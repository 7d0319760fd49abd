"""The last line of defence on private.ai_logs (issue 10 #10): the trigger refuses rows whose
text still holds a phone number, a social security number or an IBAN (besides emails and
card numbers), names the kind but never the value, and lets travel data through. And end to
end: a model that echoes a passport number or a name without its cue, with the user's
consent `redacted`, does not get either into private.ai_logs."""

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
from tests.worker_helpers import run_worker, wait_until

LOG_CALL = """
    select private.log_ai_call(
        user_id => %(user_id)s, job_id => null, request_id => 'req-guard-0001',
        provider => 'fake', model => 'fake-model', purpose => 'research',
        prompt_redacted => %(prompt)s, response_redacted => %(response)s,
        structured_output => %(structured)s, token_usage => '{"total_tokens": 1}',
        duration_ms => 1, attempts => 1, error => %(error)s)
"""


@pytest.fixture
def consenting(db: psycopg.Connection, alice: User) -> User:
    db.execute("update public.profiles set ai_consent = 'redacted' where id = %s", (alice.id,))
    return alice


def log_call(db: psycopg.Connection, user: User, *, prompt: str | None = None,
             response: str | None = None, structured: Any = None,
             error: str | None = None) -> str:
    return db.execute(LOG_CALL, {
        "user_id": user.id, "prompt": prompt, "response": response, "error": error,
        "structured": None if structured is None else json.dumps(structured),
    }).fetchone()[0]


LEAKS = [
    ("phone", "call me on +351 912 345 678 when you land", "a phone number"),
    ("phone", "the host's number is +44 20 7946 0958", "a phone number"),
    ("phone", "front desk (415) 555-2671", "a phone number"),
    ("phone", "front desk 415-555-2671 any time", "a phone number"),
    ("phone", "whatsapp 912345678 for the keys", "a phone number"),
    ("phone", "tel: 020 7946 0958", "a phone number"),
    ("ssn", "SSN 123-45-6789 for the visa form", "a social security number"),
    ("ssn", "my social security number is 123 45 6789", "a social security number"),
    ("ssn", "form field 078-05-1120", "a social security number"),
    ("iban", "IBAN DE89 3704 0044 0532 0130 00", "an IBAN"),
    ("iban", "transfer to GB82WEST12345698765432 BIC NWBKGB2L", "an IBAN"),
    ("iban", "iban fr14 2004 1010 0505 0001 3m02 606", "an IBAN"),
]


@pytest.mark.parametrize(("kind", "leak", "named"), LEAKS)
@pytest.mark.parametrize("column", ["prompt", "response", "structured", "error"])
def test_structured_pii_is_refused(db: psycopg.Connection, consenting: User, kind: str,
                                   leak: str, named: str, column: str) -> None:
    value: Any = {"notes": leak} if column == "structured" else leak
    with pytest.raises(psycopg.errors.CheckViolation) as refused:
        log_call(db, consenting, **{column: value})
    message = str(refused.value)
    assert f"still holds {named}" in message
    digits = "".join(c for c in leak if c.isdigit())
    assert digits[-6:] not in message.replace(" ", "")  # the kind, never the value


def test_refused_even_without_consent_text_is_dropped_first(db: psycopg.Connection,
                                                             alice: User) -> None:
    """usage_only drops the text before the row is written, so nothing is refused."""
    entry = log_call(db, alice, prompt=LEAKS[0][1], response=LEAKS[6][1])
    assert db.execute("select prompt_redacted from private.ai_logs where id = %s",
                      (entry,)).fetchone()[0] is None


@pytest.mark.parametrize("travel", [
    "flight BA 117 on 2026-12-03, booking ref X7KQ2P, room 1204",
    "LH 1234 departs 07:45, gate B12, seat 14C, +2 days, 12.5% off, €1.234,50",
    "Tel Aviv 2026-12-03 to 2026-12-10, call ahead before 10:30, open 9-17",
    "Call 2026-12-03 or 03.12.2026 to confirm",
    "price $1,234.56, confirmation 88412093, coords 35.3606, 138.7274",
    "coords +35.3606, +138.7274; temperatures +15 to +22 C",
    "e-ticket 125-1234567890, PNR ABC123, ticket 0572 1234 5678 90",
    "postcode 1100-148 Lisboa, tel [PHONE], IBAN [IBAN], SSN [SSN]",
    "order 1234567890123 (fails Luhn), 12,000 steps, 3,776 m, route 66 123-45",
    "the 555 step climb, between 100 and 3000 m, XX00 ABCD EFGH IJKL MN",
    "Shinkansen Nozomi 21 at 09:33 from platform 14, car 7, seats 3-4 (JPY 14,170)",
])
def test_travel_data_is_kept(db: psycopg.Connection, consenting: User, travel: str) -> None:
    entry = log_call(db, consenting, prompt=travel, response=travel,
                     structured={"summary": travel})
    stored = db.execute("select prompt_redacted, response_redacted from private.ai_logs "
                        "where id = %s", (entry,)).fetchone()
    assert stored == (travel, travel)


# ---------------------------------------------------------------------- end to end
PASSPORT = "C03005988"
NAME = "Maria Gonzalez"
QUERY = (f"Plan two days in Lisbon. My name is {NAME} and my passport number is {PASSPORT}; "
         "we love aquariums.")
ECHO = {"notes": f"{NAME} will love the Oceanario; show {PASSPORT} at the desk.",
        "places": [{"name": "Oceanario de Lisboa", "why": f"{NAME} loves aquariums",
                    "tips": [f"bring {PASSPORT}", "go early"]}]}
SYNTHESIS = {"summary": f"Two days for {NAME}; keep {PASSPORT} at hand.",
             "places": ECHO["places"]}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHandle]:
    with run_openai_fake() as handle:
        yield handle


@pytest.mark.slow
def test_echoed_passport_and_name_never_reach_ai_logs(fresh_db_url: str,
                                                      fake: FakeHandle) -> None:
    fake.reset()
    fake.script([
        {"match": "TASK: research", "content": json.dumps(ECHO), "repeat": 6},
        {"match": "TASK: synthesize", "content": json.dumps(SYNTHESIS), "repeat": 2},
    ])
    databases.relax_rate_limits(fresh_db_url)
    user = create_user(fresh_db_url)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("update public.profiles set ai_consent = 'redacted' where id = %s",
                     (user.id,))
    api = PostgREST(databases.url_for(fresh_db_url.rsplit("/", 1)[-1], user="authenticator"))
    try:
        response = api.rpc("start_research", {"query": QUERY}, token=user.token)
        assert response.status == 202, response.body
        job_id = response.body["jobId"]
    finally:
        api.close()
    env = {"AI_BASE_URL": fake.base_url, "AI_MODEL": "fake-model", "WORKER_TYPES": "ai.research"}
    with psycopg.connect(fresh_db_url, autocommit=True) as conn, \
            run_worker(fresh_db_url, env=env) as worker:
        wait_until(lambda: conn.execute(
            "select status in ('completed', 'failed') from public.jobs where id = %s",
            (job_id,)).fetchone()[0], 30, "research job", worker)
        rows = conn.execute(
            "select consent_level, prompt_redacted, response_redacted, structured_output "
            "from private.ai_logs where job_id = %s", (job_id,)).fetchall()
    assert rows and all(r[0] == "redacted" for r in rows)
    assert any(r[2] for r in rows), "the redacted-consent path kept no text at all"
    stored = json.dumps([list(r[1:]) for r in rows])
    for value in (PASSPORT, NAME, "Gonzalez"):
        assert value not in stored, value
