"""cancel_job refuses the jobs a booking started for the user (payment, confirmation): they
are stopped through cancel_booking, never directly."""

from __future__ import annotations

import datetime as dt

import psycopg

from tests.harness.postgrest import PostgREST
from tests.harness.users import User


def test_booking_jobs_cannot_be_cancelled_directly(api: PostgREST, alice: User,
                                                   db: psycopg.Connection) -> None:
    hotel = api.select("hotels", token=alice.token).body[0]
    check_in = dt.date.today() + dt.timedelta(days=20)
    booking = api.rpc("create_booking", {"hotel_id": hotel["id"], "check_in": str(check_in),
                                         "check_out": str(check_in + dt.timedelta(days=2))},
                      token=alice.token)
    assert booking.status == 201, booking.body
    response = api.rpc("cancel_job", {"job_id": booking.body["jobId"]}, token=alice.token)
    assert response.status == 409 and response.code == "INVALID_STATE"
    status = db.execute("select status from public.jobs where id = %s",
                        (booking.body["jobId"],)).fetchone()[0]
    assert status == "queued"


def test_user_started_jobs_still_cancel(api: PostgREST, alice: User) -> None:
    job = api.rpc("start_job", {"job_type": "demo.noop", "input": {}}, token=alice.token).body
    response = api.rpc("cancel_job", {"job_id": job["jobId"]}, token=alice.token)
    assert response.status == 200 and response.body["status"] == "cancelled"
