"""Least privilege (issue 10 #11): anon and authenticated keep USAGE on schema `private` and
EXECUTE on exactly the private functions the public API needs, and each of those grants is
shown to be necessary: revoking it alone breaks a request of the scenario below, which goes
through the real PostgREST as supabase-js would (RPCs, table reads and writes, replays,
validation errors, anon's 401s). docs/security.md says why each grant exists; pgTAP
(supabase/tests/database/40_least_privilege.test.sql) pins the same list."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
import pytest

from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.users import User, create_user

PARIS_HOTEL = "985c87ec-1d28-4b09-ac8c-3484ea1965c4"
CHECK_IN = (date.today() + timedelta(days=20)).isoformat()
CHECK_OUT = (date.today() + timedelta(days=22)).isoformat()

# role -> the private functions it may execute (regprocedure text, as Postgres prints it)
EXPECTED = {
    "anon": {
        "private.check_request()",
        "private.require_user()",
        "private.reraise(text,text,text)",
    },
    "authenticated": {
        "private.cancel_user_job(uuid)",
        "private.check_booking_request(uuid,date,date)",
        "private.check_order(timestamp with time zone,text,timestamp with time zone)",
        "private.check_request()",
        "private.check_timestamp(text,date)",
        "private.check_timestamp(text,timestamp with time zone)",
        "private.idempotency_begin(text,text,jsonb)",
        "private.idempotency_finish(integer,jsonb)",
        "private.insert_booking(uuid,date,date)",
        "private.job_accepted(uuid)",
        "private.raise_error(text,text,text,text,jsonb)",
        "private.raise_timeout()",
        "private.request_booking_cancellation(uuid)",
        "private.request_id()",
        "private.require_user()",
        "private.reraise(text,text,text)",
        "private.start_user_job(text,jsonb)",
        "private.valid_client_temp_id(text)",
        "private.valid_text(text,text,integer,integer,boolean)",
    },
}

GRANTED = """
    select p.oid::regprocedure::text from pg_proc as p
    join pg_namespace as n on n.oid = p.pronamespace
    where n.nspname = 'private' and has_function_privilege(%s, p.oid, 'execute')
    order by 1
"""


@pytest.fixture(scope="module")
def grants_db(clones: databases.Clones) -> Iterator[str]:
    url = clones.make()
    databases.relax_rate_limits(url)
    yield url
    name = url.rsplit("/", 1)[-1]
    databases.drop(name)
    clones.made.remove(name)


def granted(conn: psycopg.Connection, role: str) -> set[str]:
    return {row[0] for row in conn.execute(GRANTED, (role,))}


def outcome(label: str, response: object) -> tuple[str, int, str | None]:
    status = response.status  # type: ignore[attr-defined]
    code = response.code  # type: ignore[attr-defined]
    return (label, status, code)


def internal_error_path(url: str) -> tuple[str, int, str | None]:
    """An unexpected error inside an RPC reaches private.reraise (security invoker), which
    logs the request id and answers INTERNAL: the API cannot provoke one on purpose, so this
    step runs that path directly as `authenticated`."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set role authenticated")
        try:
            conn.execute("select private.reraise('XX000', 'unexpected', null)")
        except psycopg.Error as exc:
            code = (exc.diag.message_primary or "") if exc.sqlstate == "PGRST" else ""
            return ("reraise internal", 0, f"{exc.sqlstate}:{'INTERNAL' in code}")
    return ("reraise internal", 0, None)


def timeout_path(url: str) -> tuple[str, int, str | None]:
    """A statement cancelled by the role's statement_timeout inside an RPC reaches
    private.raise_timeout (security invoker) in the RPC's exception tail: run that path
    directly as `authenticated` (tests/test_timeouts.py goes through a real timeout)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set role authenticated")
        try:
            conn.execute("select private.raise_timeout()")
        except psycopg.Error as exc:
            code = (exc.diag.message_primary or "") if exc.sqlstate == "PGRST" else ""
            return ("raise_timeout", 0, f"{exc.sqlstate}:{'TIMEOUT' in code}")
    return ("raise_timeout", 0, None)


def scenario(api: PostgREST, user: User, url: str) -> list[tuple[str, int, str | None]]:
    """Every way the public API reaches private functions, as its callers use it."""
    token = user.token
    key = {"Idempotency-Key": f"lp-{uuid.uuid4()}"}
    out = []
    trip = api.rpc("create_trip", {"title": "Lisbon", "start_date": "2030-05-01",
                                   "end_date": "2030-05-03",
                                   "client_temp_id": f"temp_{uuid.uuid4().hex[:8]}"},
                   token=token, headers=key)
    out.append(outcome("create_trip", trip))
    out.append(outcome("create_trip replay", api.rpc(
        "create_trip", {"title": "Lisbon", "start_date": "2030-05-01", "end_date": "2030-05-03",
                        "client_temp_id": trip.body.get("client_temp_id")
                        if isinstance(trip.body, dict) else None},
        token=token, headers=key)))
    out.append(outcome("create_trip invalid", api.rpc("create_trip", {"title": " "},
                                                      token=token)))
    trip_id = trip.body.get("id") if isinstance(trip.body, dict) else None
    out.append(outcome("create_activity", api.rpc(
        "create_activity", {"trip_id": trip_id, "title": "Oceanario",
                            "starts_at": "2030-05-01T10:00:00Z",
                            "ends_at": "2030-05-01T12:00:00Z"}, token=token)))
    direct = api.insert("trips", {"title": "Porto", "start_date": "2030-06-01"}, token=token)
    out.append(outcome("insert trips", direct))
    if isinstance(direct.body, list) and direct.body:
        out.append(outcome("update trips", api.update(
            "trips", {"title": "Porto again"}, filters={"id": direct.body[0]["id"]},
            token=token)))
        out.append(outcome("insert activities", api.insert(
            "activities", {"trip_id": direct.body[0]["id"], "title": "Livraria"},
            token=token)))
    out.append(outcome("update profile", api.update(
        "profiles", {"ai_consent": "redacted"}, filters={"id": user.id}, token=token)))
    research = api.rpc("start_research", {"query": "Three days in Porto"}, token=token)
    out.append(outcome("start_research", research))
    out.append(outcome("start_job", api.rpc("start_job", {"job_type": "ai.research",
                                                          "input": {"query": "Faro"}},
                                            token=token)))
    if isinstance(research.body, dict) and "jobId" in research.body:
        out.append(outcome("cancel_job", api.rpc("cancel_job",
                                                  {"job_id": research.body["jobId"]},
                                                  token=token)))
    booking = api.rpc("create_booking", {"hotel_id": PARIS_HOTEL, "check_in": CHECK_IN,
                                         "check_out": CHECK_OUT}, token=token)
    out.append(outcome("create_booking", booking))
    out.append(outcome("create_booking invalid", api.rpc(
        "create_booking", {"hotel_id": PARIS_HOTEL, "check_in": CHECK_OUT,
                           "check_out": CHECK_IN}, token=token)))
    if isinstance(booking.body, dict) and "id" in booking.body:
        out.append(outcome("cancel_booking", api.rpc("cancel_booking",
                                                     {"booking_id": booking.body["id"]},
                                                     token=token)))
    for table in ("trips", "activities", "jobs", "bookings", "hotels", "profiles"):
        out.append(outcome(f"select {table}", api.select(table, token=token)))
    # anon: the catalogue, and the 401 of docs/errors.md from every RPC
    out.append(outcome("anon select hotels", api.select("hotels")))
    for name, args in (("create_trip", {"title": "x"}), ("start_research", {"query": "x"}),
                       ("start_job", {"job_type": "demo.noop", "input": {}}),
                       ("cancel_job", {"job_id": str(uuid.uuid4())}),
                       ("create_booking", {"hotel_id": PARIS_HOTEL, "check_in": CHECK_IN,
                                           "check_out": CHECK_OUT}),
                       ("cancel_booking", {"booking_id": str(uuid.uuid4())})):
        out.append(outcome(f"anon {name}", api.rpc(name, args)))
    out.append(internal_error_path(url))
    out.append(timeout_path(url))
    return out


def test_api_roles_hold_exactly_the_needed_grants(grants_db: str) -> None:
    with psycopg.connect(grants_db, autocommit=True) as conn:
        for role in EXPECTED:
            assert granted(conn, role) == EXPECTED[role], role
            assert conn.execute("select has_schema_privilege(%s, 'private', 'usage')",
                                (role,)).fetchone()[0]
            tables = conn.execute(
                "select count(*) from pg_class as c join pg_namespace as n"
                " on n.oid = c.relnamespace where n.nspname = 'private'"
                " and (has_table_privilege(%s, c.oid, 'select, insert, update, delete'))",
                (role,)).fetchone()[0]
            assert tables == 0, role


@pytest.mark.slow
def test_each_grant_is_needed(grants_db: str) -> None:
    """The scenario answers as expected with every grant, and differently without any one of
    them (then a request fails with 42501 or an INTERNAL 500)."""
    user = create_user(grants_db)
    api = PostgREST(databases.url_for(grants_db.rsplit("/", 1)[-1], user="authenticator"))
    try:
        baseline = scenario(api, user, grants_db)
        statuses = dict((label, status) for label, status, _ in baseline)
        assert statuses["create_trip"] == 201 and statuses["anon create_trip"] == 401, baseline
        assert statuses["create_booking"] == 201 and statuses["cancel_booking"] < 300, baseline
        assert all(status < 500 for _, status, _ in baseline), baseline
        assert baseline[-2] == ("reraise internal", 0, "PGRST:True"), baseline
        assert baseline[-1] == ("raise_timeout", 0, "PGRST:True"), baseline
        unneeded = []
        with psycopg.connect(grants_db, autocommit=True) as conn:
            candidates = [(role, f"function {fn}") for role in EXPECTED
                          for fn in sorted(granted(conn, role))]
            candidates += [(role, "schema private") for role in EXPECTED]
            for role, target in candidates:
                what = target.split(" ", 1)[0]
                name = target.split(" ", 1)[1]
                conn.execute(f"revoke {'usage' if what == 'schema' else 'execute'} "
                             f"on {what} {name} from {role}")
                try:
                    without = scenario(api, create_user(grants_db), grants_db)
                finally:
                    conn.execute(f"grant {'usage' if what == 'schema' else 'execute'} "
                                 f"on {what} {name} to {role}")
                if [(label, status, code) for label, status, code in without] == baseline:
                    unneeded.append((role, target))
        assert unneeded == [], "\n".join(map(str, unneeded))
    finally:
        api.close()
