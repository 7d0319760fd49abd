"""A demo for `make run`, over HTTP exactly as a frontend talks to Wayfare: supabase-py
against the local Supabase API (the gateway on :54321, the real PostgREST, the Auth
stand-in). A user signs in, plans a trip (with a temp id and an Idempotency-Key, then the same
request again to show the replay), adds an activity, starts a multi-step job and an AI
research job, and books a hotel that the local Stripe double then pays. Watch it happen in
`devstack.watch`.

    python -m devstack.demo [--url http://127.0.0.1:54321] [--stripe-url http://127.0.0.1:12111]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
from supabase import Client, create_client
from supabase_auth.errors import AuthApiError

from devstack.localapi import api_key

DEMO_EMAIL = "demo@wayfare.test"
DEMO_PASSWORD = "wayfare-demo-password"  # noqa: S105 (a local demo account)


def sign_in(client: Client, email: str, password: str) -> str:
    """Sign in, or sign up first when the account does not exist yet; the user's id."""
    try:
        answer = client.auth.sign_in_with_password({"email": email, "password": password})
    except AuthApiError:
        answer = client.auth.sign_up({"email": email, "password": password})
    assert answer.user is not None
    return answer.user.id


def call(client: Client, step: str, name: str, args: dict[str, Any],
         headers: dict[str, str] | None = None) -> httpx.Response:
    """One RPC through supabase-py's PostgREST session (its apikey and the user's token);
    httpx's response keeps the headers (X-Request-ID, Idempotent-Replayed) to show."""
    response = client.postgrest.session.post(f"/rpc/{name}", json=args, headers=headers or {})
    body = response.json() if response.content else None
    outcome = "ok" if response.status_code < 400 else (
        body.get("code") if isinstance(body, dict) else "error")
    if response.headers.get("Idempotent-Replayed") == "true":
        outcome = "replayed: nothing ran twice"
    print(f"demo: {step:38s} -> {response.status_code} {outcome}"
          f"  (X-Request-ID {response.headers.get('X-Request-ID')})", flush=True)
    return response


def pay_when_ready(client: Client, booking_id: str, stripe_url: str,
                   timeout: float = 60) -> None:
    """Play the customer's browser: once the worker made the PaymentIntent (the owner reads
    it from the booking, over HTTP), succeed it at the Stripe double."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = client.table("bookings").select("payment_intent_id").eq("id", booking_id) \
            .execute().data
        if rows and rows[0]["payment_intent_id"]:
            intent = rows[0]["payment_intent_id"]
            httpx.post(f"{stripe_url}/_double/payment_intents/{intent}/succeed", timeout=10)
            print(f"demo: {'customer paid at the Stripe double':38s} -> {intent}", flush=True)
            return
        time.sleep(0.5)
    print("demo: no PaymentIntent appeared (is the worker running?)", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("SUPABASE_URL", "http://127.0.0.1:54321"))
    parser.add_argument("--anon-key", default=os.environ.get("SUPABASE_ANON_KEY"))
    parser.add_argument("--stripe-url", default="http://127.0.0.1:12111")
    parser.add_argument("--email", default=DEMO_EMAIL)
    parser.add_argument("--password", default=DEMO_PASSWORD)
    args = parser.parse_args(argv)
    client = create_client(args.url, args.anon_key or api_key("anon"))
    user_id = sign_in(client, args.email, args.password)
    print(f"demo: signed in as {args.email} ({user_id}) through {args.url}/auth/v1", flush=True)
    run = uuid.uuid4().hex[:8]
    trip_args = {"title": "Lisbon with the kids", "destination": "Lisbon",
                 "client_temp_id": f"temp_demo-{run}"}
    trip = call(client, "create_trip", "create_trip", trip_args, {"Idempotency-Key": run})
    call(client, "create_trip again (same key)", "create_trip", trip_args,
         {"Idempotency-Key": run})
    if trip.status_code < 300:
        call(client, "create_activity", "create_activity",
             {"trip_id": trip.json()["id"], "title": "Oceanarium"})
    call(client, "start_job demo.steps", "start_job",
         {"job_type": "demo.steps", "input": {"steps": 30, "step_ms": 400}})
    call(client, "start_research", "start_research",
         {"query": "Three days in Lisbon with two kids who love trams"})
    hotels = client.table("hotels").select("id,name").eq("active", True).limit(1).execute().data
    if hotels:
        check_in = dt.date.today() + dt.timedelta(days=30)
        booking = call(client, "create_booking", "create_booking", {
            "hotel_id": hotels[0]["id"], "check_in": str(check_in),
            "check_out": str(check_in + dt.timedelta(days=3))})
        if booking.status_code < 300:
            pay_when_ready(client, booking.json()["id"], args.stripe_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
