"""Hotels, bookings, create_booking and cancel_booking through the PostgREST harness: the
rules of docs/payments.md, idempotency (docs/api.md#conventions) and what a user may not do
to a booking."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from tests.harness.postgrest import PostgREST, Response
from tests.harness.users import User
from tests.webhook_helpers import KYOTO_HOTEL, PARIS_HOTEL, insert_booking

INACTIVE_HOTEL = "6c38523d-8145-405d-8711-310a8d448acc"
MISSING_HOTEL = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def today(db: psycopg.Connection) -> dt.date:
    """The database's current_date (the rule is the database's, not this machine's)."""
    return db.execute("select current_date").fetchone()[0]


def book(api: PostgREST, user: User | None, hotel_id: str, check_in: dt.date,
         check_out: dt.date, headers: dict[str, str] | None = None) -> Response:
    args = {"hotel_id": hotel_id, "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat()}
    return api.rpc("create_booking", args, token=user.token if user else None, headers=headers)


def field_of(response: Response) -> str | None:
    return json.loads(response.body["details"])["field"]


def set_status(db: psycopg.Connection, booking_id: str, *statuses: str) -> None:
    for status in statuses:
        db.execute("update public.bookings set status = %s where id = %s", (status, booking_id))


# ---------------------------------------------------------------------- hotels
def test_anon_reads_only_active_hotels(api: PostgREST) -> None:
    response = api.select("hotels")
    assert response.status == 200
    hotels = {h["id"]: h for h in response.body}
    assert len(hotels) >= 6 and INACTIVE_HOTEL not in hotels
    assert {h["currency"] for h in hotels.values()} >= {"EUR", "USD", "GBP", "JPY"}
    assert all(h["active"] for h in hotels.values())
    assert hotels[KYOTO_HOTEL]["nightly_rate_cents"] == 38000  # whole yen: JPY has no cents


def test_users_read_hotels_but_nobody_writes_them(api: PostgREST, alice: User) -> None:
    assert len(api.select("hotels", token=alice.token).body) >= 6
    assert api.insert("hotels", {"name": "Mine", "city": "X", "nightly_rate_cents": 100,
                                 "currency": "EUR"}, token=alice.token).status == 403
    assert api.update("hotels", {"nightly_rate_cents": 1}, filters={"id": PARIS_HOTEL},
                      token=alice.token).status == 403
    assert api.insert("hotels", {"name": "Mine", "city": "X", "nightly_rate_cents": 100,
                                 "currency": "EUR"}).status == 401


# ---------------------------------------------------------------------- create_booking
def test_create_booking(api: PostgREST, alice: User, today: dt.date) -> None:
    response = book(api, alice, PARIS_HOTEL, today + dt.timedelta(days=10),
                    today + dt.timedelta(days=13))
    assert response.status == 201, response.body
    body = response.body
    assert set(body) == {"id", "status", "amount", "currency", "jobId"}
    assert (body["status"], body["amount"], body["currency"]) == ("payment_pending", 3 * 21500,
                                                                  "EUR")
    assert response.header("X-Request-ID")
    [row] = api.select("bookings", filters={"id": body["id"]}, token=alice.token).body
    assert row["user_id"] == alice.id and row["amount"] == 64500 and row["hotel_id"] == PARIS_HOTEL
    assert row["payment_intent_id"] is None and row["client_secret"] is None
    assert row["request_id"] == response.header("X-Request-ID")
    # the job that makes the PaymentIntent is the user's to poll
    [job] = api.select("jobs", filters={"id": body["jobId"]}, token=alice.token).body
    assert job["type"] == "payment.create_intent" and job["status"] == "queued"
    assert job["input"] == {"booking_id": body["id"]} and job["max_attempts"] == 8


def test_zero_decimal_currency_amount(api: PostgREST, alice: User, today: dt.date) -> None:
    response = book(api, alice, KYOTO_HOTEL, today, today + dt.timedelta(days=2))
    assert response.status == 201
    assert (response.body["amount"], response.body["currency"]) == (76000, "JPY")


def test_thirty_nights_is_the_most(api: PostgREST, alice: User, today: dt.date) -> None:
    start = today + dt.timedelta(days=1)
    ok = book(api, alice, PARIS_HOTEL, start, start + dt.timedelta(days=30))
    assert ok.status == 201 and ok.body["amount"] == 30 * 21500
    too_long = book(api, alice, PARIS_HOTEL, start, start + dt.timedelta(days=31))
    assert too_long.status == 400 and too_long.code == "VALIDATION_FAILED"
    assert field_of(too_long) == "check_out"


@pytest.mark.parametrize(("case", "status", "code", "field"), [
    ("past_check_in", 400, "VALIDATION_FAILED", "check_in"),
    ("check_out_equals_check_in", 400, "VALIDATION_FAILED", "check_out"),
    ("check_out_before_check_in", 400, "VALIDATION_FAILED", "check_out"),
    ("too_far_ahead", 400, "VALIDATION_FAILED", "check_in"),
    ("missing_hotel", 404, "NOT_FOUND", "hotel_id"),
    ("inactive_hotel", 404, "NOT_FOUND", "hotel_id"),
    ("null_hotel", 400, "VALIDATION_FAILED", "hotel_id"),
    ("null_check_in", 400, "VALIDATION_FAILED", "check_in"),
])
def test_create_booking_validation(api: PostgREST, make_user: Callable[..., User],
                                   db: psycopg.Connection, today: dt.date, case: str,
                                   status: int, code: str, field: str) -> None:
    user = make_user()
    day = dt.timedelta(days=1)
    args: dict[str, Any] = {"hotel_id": PARIS_HOTEL, "check_in": (today + 5 * day).isoformat(),
                            "check_out": (today + 7 * day).isoformat()}
    changes = {
        "past_check_in": {"check_in": (today - day).isoformat()},
        "check_out_equals_check_in": {"check_out": args["check_in"]},
        "check_out_before_check_in": {"check_out": (today + 4 * day).isoformat()},
        "too_far_ahead": {"check_in": (today + 800 * day).isoformat(),
                          "check_out": (today + 802 * day).isoformat()},
        "missing_hotel": {"hotel_id": MISSING_HOTEL},
        "inactive_hotel": {"hotel_id": INACTIVE_HOTEL},
        "null_hotel": {"hotel_id": None},
        "null_check_in": {"check_in": None},
    }[case]
    response = api.rpc("create_booking", {**args, **changes}, token=user.token)
    assert (response.status, response.code) == (status, code), response.body
    assert field_of(response) == field
    assert json.loads(response.body["details"])["requestId"] == response.header("X-Request-ID")
    count = db.execute("select count(*) from public.bookings where user_id = %s",
                       (user.id,)).fetchone()[0]
    assert count == 0


def test_check_in_today_is_fine(api: PostgREST, alice: User, today: dt.date) -> None:
    assert book(api, alice, PARIS_HOTEL, today, today + dt.timedelta(days=1)).status == 201


def test_anon_gets_401(api: PostgREST, today: dt.date) -> None:
    response = book(api, None, PARIS_HOTEL, today, today + dt.timedelta(days=1))
    assert (response.status, response.code) == (401, "UNAUTHORIZED")
    cancel = api.rpc("cancel_booking", {"booking_id": MISSING_HOTEL})
    assert (cancel.status, cancel.code) == (401, "UNAUTHORIZED")


def test_a_client_cannot_send_an_amount(api: PostgREST, alice: User, today: dt.date,
                                        db: psycopg.Connection) -> None:
    response = api.rpc("create_booking", {
        "hotel_id": PARIS_HOTEL, "check_in": today.isoformat(),
        "check_out": (today + dt.timedelta(days=2)).isoformat(), "amount": 1,
    }, token=alice.token)
    assert response.status == 404 and response.code == "PGRST202"  # no such function
    assert db.execute("select count(*) from public.bookings where user_id = %s",
                      (alice.id,)).fetchone()[0] == 0


def test_idempotent_create_booking(api: PostgREST, alice: User, today: dt.date,
                                   db: psycopg.Connection) -> None:
    args = {"hotel_id": PARIS_HOTEL, "check_in": (today + dt.timedelta(days=3)).isoformat(),
            "check_out": (today + dt.timedelta(days=5)).isoformat()}
    key = {"Idempotency-Key": "book-paris-1"}
    first = api.rpc("create_booking", args, token=alice.token, headers=key)
    again = api.rpc("create_booking", args, token=alice.token, headers=key)
    assert first.status == again.status == 201
    assert again.body == first.body and again.header("Idempotent-Replayed") == "true"
    other = api.rpc("create_booking", {**args, "hotel_id": KYOTO_HOTEL}, token=alice.token,
                    headers=key)
    assert (other.status, other.code) == (422, "IDEMPOTENCY_KEY_REUSED")
    bookings = db.execute("select count(*) from public.bookings where user_id = %s",
                          (alice.id,)).fetchone()[0]
    jobs = db.execute("select count(*) from public.jobs where user_id = %s and "
                      "type = 'payment.create_intent'", (alice.id,)).fetchone()[0]
    assert (bookings, jobs) == (1, 1)


def test_failed_validation_leaves_the_key_free(api: PostgREST, alice: User,
                                               today: dt.date) -> None:
    key = {"Idempotency-Key": "book-retry"}
    bad = api.rpc("create_booking", {"hotel_id": PARIS_HOTEL, "check_in": today.isoformat(),
                                     "check_out": today.isoformat()},
                  token=alice.token, headers=key)
    assert bad.status == 400
    good = api.rpc("create_booking", {"hotel_id": PARIS_HOTEL, "check_in": today.isoformat(),
                                      "check_out": (today + dt.timedelta(days=1)).isoformat()},
                   token=alice.token, headers=key)
    assert good.status == 201 and good.header("Idempotent-Replayed") is None


# ---------------------------------------------------------------------- cancel_booking
def test_cancel_unpaid_booking_enqueues_payment_cancel(api: PostgREST, alice: User,
                                                       db: psycopg.Connection) -> None:
    booking = insert_booking(db, alice.id)
    response = api.rpc("cancel_booking", {"booking_id": booking.id}, token=alice.token)
    assert response.status == 202, response.body
    assert set(response.body) == {"id", "status", "jobId"}
    assert (response.body["id"], response.body["status"]) == (booking.id, "payment_pending")
    [job] = api.select("jobs", filters={"id": response.body["jobId"]}, token=alice.token).body
    assert (job["type"], job["input"]) == ("payment.cancel", {"booking_id": booking.id})
    # asking again while the job is pending answers the same job
    again = api.rpc("cancel_booking", {"booking_id": booking.id}, token=alice.token)
    assert again.status == 202 and again.body["jobId"] == response.body["jobId"]


@pytest.mark.parametrize("path", [("paid",), ("paid", "confirmed")])
def test_cancel_paid_booking_enqueues_a_refund(api: PostgREST, make_user: Callable[..., User],
                                               db: psycopg.Connection,
                                               path: tuple[str, ...]) -> None:
    user = make_user()
    booking = insert_booking(db, user.id)
    set_status(db, booking.id, *path)
    response = api.rpc("cancel_booking", {"booking_id": booking.id}, token=user.token)
    assert response.status == 202 and response.body["status"] == path[-1]
    [job] = api.select("jobs", filters={"id": response.body["jobId"]}, token=user.token).body
    assert job["type"] == "payment.refund"


@pytest.mark.parametrize("path", [("paid", "confirmed", "completed"), ("cancelled",)])
def test_cancel_finished_booking_is_409(api: PostgREST, make_user: Callable[..., User],
                                        db: psycopg.Connection, path: tuple[str, ...]) -> None:
    user = make_user()
    booking = insert_booking(db, user.id)
    set_status(db, booking.id, *path)
    response = api.rpc("cancel_booking", {"booking_id": booking.id}, token=user.token)
    assert (response.status, response.code) == (409, "INVALID_STATE")
    assert field_of(response) == "booking_id"
    assert db.execute("select count(*) from public.jobs where input->>'booking_id' = %s",
                      (booking.id,)).fetchone()[0] == 0


def test_cancel_someone_elses_booking_is_404(api: PostgREST, alice: User, bob: User,
                                             db: psycopg.Connection) -> None:
    booking = insert_booking(db, alice.id)
    response = api.rpc("cancel_booking", {"booking_id": booking.id}, token=bob.token)
    assert (response.status, response.code) == (404, "NOT_FOUND")
    missing = api.rpc("cancel_booking", {"booking_id": MISSING_HOTEL}, token=bob.token)
    assert missing.status == 404 and missing.body["message"] == response.body["message"]
    assert db.execute("select count(*) from public.jobs where input->>'booking_id' = %s",
                      (booking.id,)).fetchone()[0] == 0


def test_idempotent_cancel_booking(api: PostgREST, alice: User,
                                   db: psycopg.Connection) -> None:
    booking = insert_booking(db, alice.id)
    key = {"Idempotency-Key": f"cancel-{booking.id}"}
    first = api.rpc("cancel_booking", {"booking_id": booking.id}, token=alice.token, headers=key)
    again = api.rpc("cancel_booking", {"booking_id": booking.id}, token=alice.token, headers=key)
    assert first.status == again.status == 202 and again.body == first.body
    assert again.header("Idempotent-Replayed") == "true"
    other = insert_booking(db, alice.id)
    reused = api.rpc("cancel_booking", {"booking_id": other.id}, token=alice.token, headers=key)
    assert (reused.status, reused.code) == (422, "IDEMPOTENCY_KEY_REUSED")


# ---------------------------------------------------------------------- what users cannot do
def test_users_cannot_change_their_bookings(api: PostgREST, alice: User,
                                            db: psycopg.Connection) -> None:
    booking = insert_booking(db, alice.id)
    for values in ({"status": "paid"}, {"amount": 1}, {"payment_intent_id": "pi_mine"},
                   {"client_secret": "x"}, {"error": None}):
        response = api.update("bookings", values, filters={"id": booking.id}, token=alice.token)
        assert response.status == 403, (values, response.body)
    assert api.delete("bookings", filters={"id": booking.id}, token=alice.token).status == 403
    created = api.insert("bookings", {"user_id": alice.id, "hotel_id": PARIS_HOTEL,
                                      "check_in": "2030-01-01", "check_out": "2030-01-02",
                                      "amount": 1, "currency": "EUR"}, token=alice.token)
    assert created.status == 403
    row = db.execute("select status, amount, payment_intent_id from public.bookings "
                     "where id = %s", (booking.id,)).fetchone()
    assert row == ("payment_pending", booking.amount, None)


def test_users_see_only_their_own_bookings(api: PostgREST, alice: User, bob: User,
                                           db: psycopg.Connection) -> None:
    mine = insert_booking(db, alice.id)
    assert api.select("bookings", filters={"id": mine.id}, token=bob.token).body == []
    assert [b["id"] for b in api.select("bookings", token=alice.token).body] == [mine.id]
    assert api.select("bookings", filters={"id": mine.id}).status == 401  # anon


def test_users_cannot_reach_the_private_functions(alice: User, db: psycopg.Connection) -> None:
    booking = insert_booking(db, alice.id)
    dsn = db.info.dsn.replace("user=postgres", "user=authenticator")
    for call in ("select private.confirm_booking(%s)",
                 "select private.attach_payment_intent(%s, 'pi_x', 'secret')",
                 "select private.record_stripe_event('{}'::jsonb, %s)"):
        with psycopg.connect(dsn) as conn:
            conn.execute("set role authenticated")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(call, (booking.id,))


def test_unpaid_bookings_expire(fresh_db_url: str) -> None:
    """pg_cron's private.expire_unpaid_bookings(): unpaid bookings older than the limit get a
    payment.cancel job, once; paid and processing ones are left alone."""
    from tests.harness.users import create_user

    user = create_user(fresh_db_url)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        pending, failed, processing, paid = (insert_booking(conn, user.id) for _ in range(4))
        set_status(conn, failed.id, "payment_failed")
        set_status(conn, processing.id, "processing")
        set_status(conn, paid.id, "paid")
        assert conn.execute("select private.expire_unpaid_bookings()").fetchone()[0] == 0
        assert conn.execute("select private.expire_unpaid_bookings(interval '0 seconds')"
                            ).fetchone()[0] == 2
        jobs = conn.execute("select input->>'booking_id', type from public.jobs "
                            "where type = 'payment.cancel'").fetchall()
        assert sorted(jobs) == sorted([(pending.id, "payment.cancel"),
                                       (failed.id, "payment.cancel")])
        assert conn.execute("select private.expire_unpaid_bookings(interval '0 seconds')"
                            ).fetchone()[0] == 0
