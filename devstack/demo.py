"""A demo for `make run`: a user plans a trip, adds an activity, starts a multi-step job and
an AI research job, and books a hotel that the local Stripe double then pays, all through the
same PostgREST request path the frontend uses. Watch it happen in `devstack.watch`.

    python -m devstack.demo [--stripe-url http://127.0.0.1:12111]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from devstack import tokens
from devstack.postgrest import PostgREST, Response
from wayfare.config import Settings

DEMO_EMAIL = "demo@wayfare.test"


def as_authenticator(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"authenticator@{host}", parts.path, parts.query, ""))


def demo_user(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("select id from auth.users where email = %s", (DEMO_EMAIL,)).fetchone()
        if row:
            return str(row[0])
        user_id = str(uuid.uuid4())
        conn.execute("insert into auth.users (id, email) values (%s, %s)", (user_id, DEMO_EMAIL))
        return user_id


def say(step: str, response: Response) -> Response:
    outcome = "ok" if response.status < 400 else (response.code or "error")
    if response.header("Idempotent-Replayed") == "true":
        outcome = "replayed: nothing ran twice"
    print(f"demo: {step:38s} -> {response.status} {outcome}", flush=True)
    return response


def pay_when_ready(url: str, booking_id: str, stripe_url: str, timeout: float = 60) -> None:
    """Play the customer's browser: once the worker made the PaymentIntent, succeed it."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("select payment_intent_id from public.bookings where id = %s",
                               (booking_id,)).fetchone()
            if row and row[0]:
                httpx.post(f"{stripe_url}/_double/payment_intents/{row[0]}/succeed", timeout=10)
                print(f"demo: {'customer paid at the Stripe double':38s} -> {row[0]}", flush=True)
                return
            time.sleep(0.5)
    print("demo: no PaymentIntent appeared (is the worker running?)", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stripe-url", default="http://127.0.0.1:12111")
    args = parser.parse_args(argv)
    url = Settings.from_env().database_url
    user_id = demo_user(url)
    token = tokens.mint(user_id, email=DEMO_EMAIL)
    api = PostgREST(as_authenticator(url))
    run = uuid.uuid4().hex[:8]
    try:
        trip = say("create_trip", api.rpc("create_trip", {
            "title": "Lisbon with the kids", "destination": "Lisbon",
            "client_temp_id": f"temp_demo-{run}"}, token=token, headers={"Idempotency-Key": run}))
        say("create_trip again (same key)", api.rpc("create_trip", {
            "title": "Lisbon with the kids", "destination": "Lisbon",
            "client_temp_id": f"temp_demo-{run}"}, token=token, headers={"Idempotency-Key": run}))
        if trip.status < 300:
            say("create_activity", api.rpc("create_activity", {
                "trip_id": trip.body["id"], "title": "Oceanarium"}, token=token))
        say("start_job demo.steps", api.rpc("start_job", {
            "job_type": "demo.steps", "input": {"steps": 30, "step_ms": 400}}, token=token))
        say("start_research", api.rpc("start_research", {
            "query": "Three days in Lisbon with two kids who love trams"}, token=token))
        hotels = api.select("hotels", token=token)
        if hotels.status == 200 and hotels.body:
            check_in = dt.date.today() + dt.timedelta(days=30)
            booking = say("create_booking", api.rpc("create_booking", {
                "hotel_id": hotels.body[0]["id"], "check_in": str(check_in),
                "check_out": str(check_in + dt.timedelta(days=3))}, token=token))
            if booking.status < 300:
                pay_when_ready(url, booking.body["id"], args.stripe_url)
    finally:
        api.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
