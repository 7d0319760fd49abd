"""The cancellation policy (docs/payments.md, issue 10 #2): a user cancels, with a full refund when
paid, only while current_date < check_in; from check-in on cancel_booking answers 409
INVALID_STATE and starts nothing; operators (service_role) can still cancel and refund."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from tests.harness.postgrest import PostgREST
from tests.harness.tokens import service_role_token
from tests.harness.users import User
from tests.test_core_api import assert_error
from tests.test_payments_api import set_status
from tests.webhook_helpers import insert_booking


def jobs_of(db: psycopg.Connection, booking_id: str) -> list[str]:
    return [r[0] for r in db.execute(
        "select type from public.jobs where input->>'booking_id' = %s", (booking_id,))]


def test_paid_booking_the_day_before_check_in_is_refunded(api: PostgREST, alice: User,
                                                          db: psycopg.Connection) -> None:
    booking = insert_booking(db, alice.id, starts_in_days=1)
    set_status(db, booking.id, "paid", "confirmed")
    response = api.rpc("cancel_booking", {"booking_id": booking.id}, token=alice.token)
    assert response.status == 202, response.body
    assert jobs_of(db, booking.id) == ["payment.refund"]


@pytest.mark.parametrize(("starts_in_days", "path"), [
    (0, ("paid",)),                 # check-in day
    (0, ("paid", "confirmed")),
    (-1, ("paid", "confirmed")),    # during the stay
    (-3, ("paid", "confirmed")),    # after check-out, before pg_cron completes it
    (0, ()),                        # unpaid, on the check-in day
])
def test_from_check_in_on_a_user_cannot_cancel(api: PostgREST, make_user: Callable[..., User],
                                               db: psycopg.Connection, starts_in_days: int,
                                               path: tuple[str, ...]) -> None:
    user = make_user()
    booking = insert_booking(db, user.id, starts_in_days=starts_in_days)
    set_status(db, booking.id, *path)
    for headers in ({}, {"Idempotency-Key": f"late-{booking.id}"}):
        response = api.rpc("cancel_booking", {"booking_id": booking.id}, token=user.token,
                           headers=headers)
        details = assert_error(response, 409, "INVALID_STATE", "booking_id")
        assert details["retryable"] is False and response.body["hint"]
    assert jobs_of(db, booking.id) == []
    assert db.execute("select cancel_requested_at from public.bookings where id = %s",
                      (booking.id,)).fetchone() == (None,)


def test_operators_can_still_refund_during_the_stay(api: PostgREST, alice: User,
                                                    db: psycopg.Connection) -> None:
    booking = insert_booking(db, alice.id, starts_in_days=-1)
    set_status(db, booking.id, "paid", "confirmed")
    operator = service_role_token()
    response = api.rpc("cancel_booking", {"booking_id": booking.id}, token=operator)
    assert response.status == 202, response.body
    again = api.rpc("cancel_booking", {"booking_id": booking.id}, token=operator)
    assert again.status == 202 and again.body["jobId"] == response.body["jobId"]
    assert jobs_of(db, booking.id) == ["payment.refund"]
    missing = api.rpc("cancel_booking", {"booking_id": "00000000-0000-4000-8000-000000000000"},
                      token=operator)
    assert_error(missing, 404, "NOT_FOUND", "booking_id")


def test_anon_still_gets_401(api: PostgREST, alice: User, db: psycopg.Connection) -> None:
    booking = insert_booking(db, alice.id, starts_in_days=-1)
    assert_error(api.rpc("cancel_booking", {"booking_id": booking.id}), 401, "UNAUTHORIZED")
