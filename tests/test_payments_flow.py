"""Payments end to end with real processes: the worker (`python -m worker`), the web service
(`python -m webhook`), Postgres, and the Stripe double delivering signed webhooks.

create_booking -> payment.create_intent makes the PaymentIntent at "Stripe" -> the customer
pays (the double's control API stands in for their card) -> Stripe's webhook -> paid ->
booking.confirm -> confirmed; failures, cancellation, refunds, crashes and replays."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

from devstack.stripe_double import StripeDoubleHandle, run_stripe_double
from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.users import User, create_user
from tests.webhook_helpers import (
    PARIS_HOTEL,
    ROOT,
    Booking,
    WebhookService,
    free_port,
    insert_booking,
    post_event,
    run_webhook_service,
)
from tests.worker_helpers import WorkerProcess, run_worker, wait_until

pytestmark = pytest.mark.slow

SECRET = "whsec_flow_test"
API_KEY = "sk_test_wayfare_flow"


@dataclass
class Stack:
    db_url: str
    double: StripeDoubleHandle
    web: WebhookService
    api: PostgREST
    worker: WorkerProcess | None = None

    def start_worker(self, **env: str) -> WorkerProcess:
        self.worker = run_worker(self.db_url, env={
            "STRIPE_API_KEY": API_KEY, "STRIPE_API_BASE": self.double.url, **env})
        return self.worker

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def booking(self, booking_id: str) -> dict[str, Any]:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            cur = conn.execute("select * from public.bookings where id = %s", (booking_id,))
            names = [c.name for c in cur.description]
            return dict(zip(names, cur.fetchone(), strict=True))

    def wait_status(self, booking_id: str, status: str, timeout: float = 20.0) -> dict[str, Any]:
        return wait_until(lambda: (b := self.booking(booking_id))["status"] == status and b,
                          timeout, f"booking {booking_id} {status}", self.worker)

    def book(self, user: User, *, nights: int = 2, key: str | None = None) -> dict[str, Any]:
        today = self.sql("select current_date")[0][0]
        response = self.api.rpc(
            "create_booking",
            {"hotel_id": PARIS_HOTEL, "check_in": (today + dt.timedelta(days=14)).isoformat(),
             "check_out": (today + dt.timedelta(days=14 + nights)).isoformat()},
            token=user.token, headers={"Idempotency-Key": key} if key else None)
        assert response.status == 201, response.body
        return response.body

    def intents_for(self, booking_id: str) -> list[dict[str, Any]]:
        return [pi for pi in self.double.payment_intents()
                if pi["metadata"].get("booking_id") == booking_id]

    def wait_intent(self, booking_id: str, timeout: float = 20.0) -> dict[str, Any]:
        """The PaymentIntent once the worker stored it on the booking."""
        wait_until(lambda: self.booking(booking_id)["client_secret"], timeout,
                   "the PaymentIntent on the booking", self.worker)
        [pi] = self.intents_for(booking_id)
        return pi

    def job(self, job_id: str) -> dict[str, Any]:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            cur = conn.execute("select * from public.jobs where id = %s", (job_id,))
            names = [c.name for c in cur.description]
            return dict(zip(names, cur.fetchone(), strict=True))

    def wait_job(self, job_id: str, status: str = "completed",
                 timeout: float = 20.0) -> dict[str, Any]:
        return wait_until(lambda: (j := self.job(job_id))["status"] == status and j, timeout,
                          f"job {job_id} {status}", self.worker)


@contextlib.contextmanager
def make_stack(clones: databases.Clones) -> Iterator[Stack]:
    url = clones.make()
    port = free_port()
    try:
        with run_stripe_double(webhook_url=f"http://127.0.0.1:{port}/webhooks/stripe",
                               webhook_secret=SECRET, webhook_retry_delay=0.2) as double, \
                run_webhook_service(url, secrets=(SECRET,), port=port) as web:
            api = PostgREST(databases.url_for(url.rsplit("/", 1)[-1], user="authenticator"))
            stack = Stack(url, double, web, api)
            try:
                yield stack
            finally:
                if stack.worker is not None:
                    stack.worker.kill()
                api.close()
    finally:
        name = url.rsplit("/", 1)[-1]
        databases.drop(name)
        clones.made.remove(name)


@pytest.fixture(scope="module")
def stack(clones: databases.Clones) -> Iterator[Stack]:
    """One database, double, web service and worker shared by the module's tests."""
    with make_stack(clones) as made:
        made.start_worker()
        yield made


@pytest.fixture
def own_stack(clones: databases.Clones) -> Iterator[Stack]:
    """A stack of its own (no worker started) for tests that kill workers or need quiet."""
    with make_stack(clones) as made:
        yield made


@pytest.fixture
def user(stack: Stack) -> User:
    return create_user(stack.db_url)


# ---------------------------------------------------------------------- the happy path
def test_booking_is_paid_then_confirmed(stack: Stack, user: User) -> None:
    created = stack.book(user, nights=3)
    pi = stack.wait_intent(created["id"])
    assert (pi["amount"], pi["currency"]) == (3 * 21500, "eur")
    assert pi["metadata"] == {"booking_id": created["id"], "user_id": user.id}
    assert pi["automatic_payment_methods"] == {"enabled": True}
    [request] = [r for r in stack.double.requests(method="POST", path_prefix="/v1/payment_intents")
                 if r["object_id"] == pi["id"]]
    assert request["idempotency_key"] == f"wayfare-booking-{created['id']}-create"
    # the owner reads the client secret for Stripe.js
    [mine] = stack.api.select("bookings", filters={"id": created["id"]}, token=user.token).body
    assert mine["client_secret"] == pi["client_secret"] and mine["payment_intent_id"] == pi["id"]
    assert stack.wait_job(created["jobId"])["result"] == {"paymentIntentId": pi["id"],
                                                          "created": True}

    stack.double.succeed(pi["id"])  # the customer pays
    confirmed = stack.wait_status(created["id"], "confirmed")
    assert confirmed["paid_at"] is not None and confirmed["confirmed_at"] is not None
    assert confirmed["client_secret"] is None and confirmed["error"] is None
    outcomes = dict(stack.sql("select type, outcome from private.stripe_events "
                              "where payload->'data'->'object'->>'id' = %s "
                              "or payload->'data'->'object'->>'payment_intent' = %s",
                              pi["id"], pi["id"]))
    assert outcomes == {"payment_intent.created": "unhandled", "charge.succeeded": "unhandled",
                        "payment_intent.succeeded": "applied"}
    confirm_jobs = stack.sql("select status from public.jobs where type = 'booking.confirm' "
                             "and input->>'booking_id' = %s", created["id"])
    assert confirm_jobs == [("completed",)]


def test_failed_payment_records_the_reason_then_a_new_attempt_pays(stack: Stack,
                                                                   user: User) -> None:
    created = stack.book(user)
    pi = stack.wait_intent(created["id"])
    stack.double.fail(pi["id"], "insufficient_funds")
    failed = stack.wait_status(created["id"], "payment_failed")
    assert failed["error"] == "Your card has insufficient funds."
    assert failed["client_secret"] == pi["client_secret"]  # the customer may try again
    stack.double.succeed(pi["id"])  # another card
    confirmed = stack.wait_status(created["id"], "confirmed")
    assert confirmed["error"] is None and len(stack.intents_for(created["id"])) == 1


def test_payment_completes_with_the_browser_closed(stack: Stack, user: User) -> None:
    """Nobody polls: the bank takes a while (processing), then the payment succeeds; only
    webhooks and the worker move the booking."""
    created = stack.book(user)
    wait_until(lambda: stack.intents_for(created["id"]), 20, "the PaymentIntent", stack.worker)
    wait_until(lambda: stack.booking(created["id"])["payment_intent_id"], 20, "attached")
    [pi] = stack.intents_for(created["id"])
    stack.double.process(pi["id"])
    stack.wait_status(created["id"], "processing")
    stack.double.succeed(pi["id"])
    assert stack.wait_status(created["id"], "confirmed")["paid_at"] is not None


def test_webhook_before_the_worker_stored_the_intent(own_stack: Stack) -> None:
    """The PaymentIntent was made and paid, but its webhook comes before the worker stored it
    on the booking (the worker stalled): the booking is found by metadata and paid, and the
    job, when it runs, makes no second PaymentIntent."""
    user = create_user(own_stack.db_url)
    created = own_stack.book(user)
    booking_id = created["id"]
    client = own_stack.double.stripe_client(API_KEY)
    pi = client.v1.payment_intents.create(
        params={"amount": created["amount"], "currency": "eur",
                "automatic_payment_methods": {"enabled": True},
                "description": f"Wayfare booking {booking_id}",
                "metadata": {"booking_id": booking_id, "user_id": user.id}},
        options={"idempotency_key": f"wayfare-booking-{booking_id}-create"})
    own_stack.double.succeed(pi.id)
    paid = own_stack.wait_status(booking_id, "paid")
    assert paid["payment_intent_id"] == pi.id and paid["client_secret"] is None
    own_stack.start_worker()
    own_stack.wait_status(booking_id, "confirmed")
    assert own_stack.wait_job(created["jobId"])["result"]["created"] is False
    assert len(own_stack.intents_for(booking_id)) == 1


# ---------------------------------------------------------------------- failures and crashes
def test_create_intent_killed_midway_makes_one_payment_intent(own_stack: Stack) -> None:
    """The worker dies after Stripe made the PaymentIntent but before the answer arrived: the
    job is claimed again after its lease and replays the same Stripe idempotency key."""
    own_stack.sql("update private.job_types set lease_seconds = 2 "
                  "where type = 'payment.create_intent'")
    own_stack.double.fail_next({"path_prefix": "/v1/payment_intents", "method": "POST",
                                "mode": "delay", "seconds": 30, "when": "after"})
    first = own_stack.start_worker()
    created = own_stack.book(create_user(own_stack.db_url))
    wait_until(lambda: own_stack.intents_for(created["id"]), 20, "the PaymentIntent", first)
    first.kill()  # SIGKILL, mid-request
    assert own_stack.booking(created["id"])["payment_intent_id"] is None
    second = own_stack.start_worker()
    own_stack.wait_intent(created["id"], timeout=30)
    job = own_stack.wait_job(created["jobId"])
    assert job["attempts"] == 2
    [pi] = own_stack.intents_for(created["id"])
    posts = [r for r in own_stack.double.requests(method="POST", path_prefix="/v1/payment_intents")
             if r["idempotency_key"] == f"wayfare-booking-{created['id']}-create"]
    assert len(posts) == 2 and posts[1]["replayed"] is True
    assert own_stack.booking(created["id"])["payment_intent_id"] == pi["id"]
    second.stop()


def test_lost_response_is_retried_with_the_same_key(stack: Stack, user: User) -> None:
    stack.double.fail_next({"path_prefix": "/v1/payment_intents", "method": "POST",
                            "mode": "drop", "when": "after"},
                           {"path_prefix": "/v1/payment_intents", "method": "POST",
                            "status": 503})
    created = stack.book(user)
    pi = stack.wait_intent(created["id"], timeout=40)
    job = stack.wait_job(created["jobId"])
    assert job["attempts"] == 3  # dropped, 503, then the replay
    assert [p["id"] for p in stack.intents_for(created["id"])] == [pi["id"]]


def test_invalid_request_fails_the_booking_with_a_safe_reason(stack: Stack, user: User) -> None:
    stack.double.fail_next({"path_prefix": "/v1/payment_intents", "method": "POST",
                            "status": 400, "error": {
                                "type": "invalid_request_error", "code": "amount_too_large",
                                "message": "Amount must be no more than $999,999.99 (acct_1x)"}})
    created = stack.book(user)
    job = stack.wait_job(created["jobId"], "failed")
    booking = stack.wait_status(created["id"], "payment_failed")
    assert booking["error"] == job["error"]
    assert "acct_" not in booking["error"] and "999" not in booking["error"]
    assert job["attempts"] == 1  # permanent: no retry


# ---------------------------------------------------------------------- cancel and refund
def test_cancel_unpaid_booking_cancels_the_payment_intent(stack: Stack, user: User) -> None:
    created = stack.book(user)
    pi = stack.wait_intent(created["id"])
    response = stack.api.rpc("cancel_booking", {"booking_id": created["id"]}, token=user.token)
    assert response.status == 202 and response.body["status"] == "payment_pending"
    stack.wait_job(response.body["jobId"])
    cancelled = stack.wait_status(created["id"], "cancelled")
    assert cancelled["client_secret"] is None and cancelled["cancelled_at"] is not None
    [intent] = stack.intents_for(created["id"])
    assert intent["id"] == pi["id"] and intent["status"] == "canceled"
    [cancel] = stack.double.requests(method="POST",
                                     path_prefix=f"/v1/payment_intents/{pi['id']}/cancel")
    assert cancel["idempotency_key"] == f"wayfare-booking-{created['id']}-cancel-1"
    wait_until(lambda: stack.sql(
        "select outcome from private.stripe_events where type = 'payment_intent.canceled' "
        "and booking_id = %s", created["id"]), 10, "the canceled webhook")
    # paying a cancelled booking is impossible now
    assert stack.api.rpc("cancel_booking", {"booking_id": created["id"]},
                         token=user.token).status == 409


def test_cancel_right_after_booking(stack: Stack) -> None:
    """Cancel while the PaymentIntent may still be in the making (both jobs race): the booking
    ends cancelled and any PaymentIntent made for it is cancelled at Stripe."""
    made = []
    for _ in range(4):
        user = create_user(stack.db_url)
        created = stack.book(user)
        response = stack.api.rpc("cancel_booking", {"booking_id": created["id"]},
                                 token=user.token)
        assert response.status == 202
        made.append((created, response.body["jobId"]))
    for created, cancel_job in made:
        stack.wait_status(created["id"], "cancelled")
        stack.wait_job(created["jobId"])
        stack.wait_job(cancel_job)
        wait_until(lambda c=created: all(p["status"] == "canceled"
                                         for p in stack.intents_for(c["id"])),
                   10, "every PaymentIntent canceled", stack.worker)
        assert stack.booking(created["id"])["client_secret"] is None


def test_cancel_while_processing_waits_for_the_payment_to_settle(stack: Stack,
                                                                   user: User) -> None:
    """A processing PaymentIntent cannot be cancelled: the job retries; once the payment
    failed, the next attempt cancels it (a new key: Stripe's saved error does not stick)."""
    created = stack.book(user)
    pi = stack.wait_intent(created["id"])
    stack.double.process(pi["id"])
    stack.wait_status(created["id"], "processing")
    response = stack.api.rpc("cancel_booking", {"booking_id": created["id"]}, token=user.token)
    job_id = response.body["jobId"]
    wait_until(lambda: (j := stack.job(job_id))["attempts"] >= 1 and j["status"] == "queued",
               20, "the first attempt to fail", stack.worker)
    stack.double.fail(pi["id"], "card_declined")
    stack.wait_job(job_id, timeout=30)
    stack.wait_status(created["id"], "cancelled")
    [intent] = stack.intents_for(created["id"])
    assert intent["status"] == "canceled"
    keys = [r["idempotency_key"] for r in stack.double.requests(
        method="POST", path_prefix=f"/v1/payment_intents/{pi['id']}/cancel")]
    assert keys[0] == f"wayfare-booking-{created['id']}-cancel-1"
    assert keys[-1] != keys[0]


def test_refund_of_a_paid_booking(stack: Stack, user: User) -> None:
    created = stack.book(user)
    pi = stack.wait_intent(created["id"])
    stack.double.succeed(pi["id"])
    stack.wait_status(created["id"], "confirmed")
    response = stack.api.rpc("cancel_booking", {"booking_id": created["id"]}, token=user.token)
    assert response.status == 202 and response.body["status"] == "confirmed"
    stack.wait_job(response.body["jobId"])
    cancelled = stack.wait_status(created["id"], "cancelled")
    assert cancelled["refunded_at"] is not None and cancelled["amount_refunded"] == pi["amount"]
    [refund] = [r for r in stack.double.refunds() if r["payment_intent"] == pi["id"]]
    assert refund["amount"] == pi["amount"]
    [request] = [r for r in stack.double.requests(method="POST", path_prefix="/v1/refunds")
                 if r["object_id"] == refund["id"]]
    assert request["idempotency_key"] == f"wayfare-booking-{created['id']}-refund"
    recorded = wait_until(lambda: stack.sql(
        "select outcome from private.stripe_events where type = 'charge.refunded' "
        "and booking_id = %s", created["id"]), 10, "charge.refunded recorded")
    assert recorded == [("applied",)]


# ---------------------------------------------------------------------- replays
def _scenario(double: StripeDoubleHandle, client: Any, booking: Booking, kind: int) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": booking.amount, "currency": booking.currency.lower(),
        "metadata": {"booking_id": booking.id, "user_id": booking.user_id}})
    if kind == 0:    # processing, paid, refunded in full
        double.process(pi.id)
        double.succeed(pi.id)
        client.v1.refunds.create(params={"payment_intent": pi.id})
    elif kind == 1:  # declined, then paid with another card
        double.fail(pi.id, "card_declined")
        double.succeed(pi.id)
    elif kind == 2:  # declined twice, then abandoned
        double.fail(pi.id, "card_declined")
        double.fail(pi.id, "insufficient_funds")
        client.v1.payment_intents.cancel(pi.id)
    elif kind == 3:  # processing, then declined
        double.process(pi.id)
        double.fail(pi.id, "expired_card")
    else:            # paid at once
        double.succeed(pi.id)


STATE = ("select id::text, status, payment_intent_id, error, amount_refunded, "
         "refunded_at is not null, last_event_created from public.bookings order by id")


def test_shuffled_duplicated_replay_ends_like_the_ordered_stream(
        clones: databases.Clones) -> None:
    """200 events of 50 bookings, delivered in order to one database, and shuffled with a
    third of them duplicated (8 at a time) to another: the same final states, every event
    stored once, every effect (a confirmation job, a refund) once."""
    ordered_db, shuffled_db = clones.make(), clones.make()
    try:
        with run_stripe_double(deliver=False) as double:
            client = double.stripe_client(API_KEY)
            users = {url: create_user(url) for url in (ordered_db, shuffled_db)}
            with psycopg.connect(ordered_db, autocommit=True) as a, \
                    psycopg.connect(shuffled_db, autocommit=True) as b:
                for i in range(50):
                    booking = insert_booking(a, users[ordered_db].id, nights=1 + i % 4)
                    insert_booking(b, users[shuffled_db].id, nights=1 + i % 4,
                                   booking_id=booking.id)
                    _scenario(double, client, booking, i % 5)
            events = double.events()
        assert len(events) == 200
        payloads = [json.dumps(e) for e in sorted(events, key=lambda e: e["created"])]

        rng = random.Random(20261125)
        shuffled = payloads + rng.sample(payloads, len(payloads) // 3)
        rng.shuffle(shuffled)
        with run_webhook_service(ordered_db, secrets=(SECRET,)) as web_a, \
                run_webhook_service(shuffled_db, secrets=(SECRET,)) as web_b, \
                httpx.Client(timeout=10) as http:
            ordered_outcomes = Counter(
                post_event(web_a.url, p, SECRET, client=http).json()["outcome"]
                for p in payloads)
            with ThreadPoolExecutor(8) as pool:
                shuffled_outcomes = Counter(pool.map(
                    lambda p: post_event(web_b.url, p, SECRET, client=http).json()["outcome"],
                    shuffled))
        assert shuffled_outcomes["duplicate"] == len(payloads) // 3
        assert ordered_outcomes["stale"] == 0 and ordered_outcomes["duplicate"] == 0

        def state(url: str) -> list[tuple[Any, ...]]:
            with psycopg.connect(url) as conn:
                return conn.execute(STATE).fetchall()

        ordered_state, shuffled_state = state(ordered_db), state(shuffled_db)
        assert shuffled_state == ordered_state
        statuses = Counter(row[1] for row in ordered_state)
        assert statuses == {"cancelled": 20, "paid": 20, "payment_failed": 10}

        for url in (ordered_db, shuffled_db):
            with psycopg.connect(url) as conn:
                stored = conn.execute("select count(*), count(distinct id) "
                                      "from private.stripe_events").fetchone()
                assert stored == (200, 200)
                most_confirms = conn.execute(
                    "select coalesce(max(n), 0) from (select count(*) as n from public.jobs "
                    "where type = 'booking.confirm' group by input->>'booking_id') as c"
                ).fetchone()[0]
                assert most_confirms <= 1
                refunded = conn.execute("select count(*) from public.bookings "
                                        "where amount_refunded = amount").fetchone()[0]
                assert refunded == 10
                # an event older than the last applied one never moved a booking: no applied
                # event of a booking is older than another applied event received before it
                assert conn.execute(
                    "select count(*) from private.stripe_events as e "
                    "join private.stripe_events as f on f.booking_id = e.booking_id "
                    "and f.outcome = 'applied' and f.processed_at < e.processed_at "
                    "and f.created > e.created where e.outcome = 'applied'").fetchone()[0] == 0
    finally:
        for url in (ordered_db, shuffled_db):
            name = url.rsplit("/", 1)[-1]
            databases.drop(name)
            clones.made.remove(name)


def test_replay_command_recovers_missed_events(clones: databases.Clones) -> None:
    """The endpoint was down: `python -m webhook.replay --since` fetches the events from the
    Stripe API and applies them; a second run changes nothing."""
    url = clones.make()
    try:
        with run_stripe_double(deliver=False) as double:
            client = double.stripe_client(API_KEY)
            with psycopg.connect(url, autocommit=True) as conn:
                user = create_user(url)
                paid, failed = insert_booking(conn, user.id), insert_booking(conn, user.id)
            since = int(time.time()) - 1
            _scenario(double, client, paid, 4)
            _scenario(double, client, failed, 3)
            env = {"DATABASE_URL": url, "STRIPE_API_KEY": API_KEY,
                   "STRIPE_API_BASE": double.url, "PATH": "/usr/bin:/bin"}

            def replay() -> dict[str, Any]:
                done = subprocess.run([sys.executable, "-m", "webhook.replay", "--since",
                                       dt.datetime.fromtimestamp(since, dt.UTC).isoformat()],
                                      cwd=ROOT, env=env, capture_output=True, text=True,
                                      timeout=60, check=True)
                return json.loads(done.stdout.strip().splitlines()[-1])

            first = replay()
            assert first["outcomes"] == {"applied": 3}  # succeeded; processing, payment_failed
            second = replay()
            assert second["outcomes"] == {"duplicate": 3}
        with psycopg.connect(url) as conn:
            rows = dict(conn.execute("select id::text, status from public.bookings").fetchall())
        assert rows == {paid.id: "paid", failed.id: "payment_failed"}
    finally:
        name = url.rsplit("/", 1)[-1]
        databases.drop(name)
        clones.made.remove(name)
