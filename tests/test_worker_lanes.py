"""No user's jobs can delay another user's payment (issue 10 #1, docs/jobs.md): real worker,
web service and Stripe double processes. One user fills every general handler slot with long
jobs (and has more queued); another user's booking gets its PaymentIntent at the Stripe double
within 2 s, because the payments lane has slots of its own. Without the reserved slots
(WORKER_PAYMENT_SLOTS=0) the same booking waits: the control that shows the test can fail."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.harness import databases
from tests.harness.users import User, create_user
from tests.test_payments_flow import Stack, make_stack
from tests.worker_helpers import wait_until
from worker.lanes import GENERAL, PAYMENTS, Lane, assign

pytestmark = pytest.mark.slow

GENERAL_SLOTS = 3


@pytest.fixture
def lane_stack(clones: databases.Clones) -> Iterator[Stack]:
    with make_stack(clones) as made:
        yield made


def fill_general_slots(stack: Stack, hog: User, extra: int = 3) -> list[str]:
    """GENERAL_SLOTS + extra long demo jobs of one user; wait until every general slot runs
    one. (Started by the backend: demo types are for development databases.)"""
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        ids = [str(conn.execute("select private.enqueue_job('demo.steps', %s, %s)",
                                (Jsonb({"steps": 60, "step_ms": 1000}), hog.id)).fetchone()[0])
               for _ in range(GENERAL_SLOTS + extra)]

        def running() -> bool:
            n = conn.execute("select count(*) from public.jobs where status = 'processing' "
                             "and type = 'demo.steps'").fetchone()[0]
            return n == GENERAL_SLOTS
        wait_until(running, 15, "every general slot busy", stack.worker)
    return ids


def intent_after_booking(stack: Stack, user: User, within: float) -> float | None:
    """Seconds from create_booking until the double has its PaymentIntent (None: not within)."""
    started = time.monotonic()
    created = stack.book(user)
    deadline = started + within
    while time.monotonic() < deadline:
        if stack.intents_for(created["id"]):
            return time.monotonic() - started
        time.sleep(0.02)
    return None


def test_a_booking_gets_its_payment_intent_while_general_slots_are_full(
        lane_stack: Stack) -> None:
    hog, payer = create_user(lane_stack.db_url), create_user(lane_stack.db_url)
    worker = lane_stack.start_worker(WORKER_CONCURRENCY=str(GENERAL_SLOTS),
                                     WORKER_PAYMENT_SLOTS="1")
    started = worker.wait_for("worker.started")
    assert started["lanes"] == {PAYMENTS: 1, GENERAL: GENERAL_SLOTS}
    fill_general_slots(lane_stack, hog)
    for _ in range(3):  # each of several bookings, one after another
        seconds = intent_after_booking(lane_stack, payer, within=2.0)
        assert seconds is not None, f"no PaymentIntent within 2 s\n{worker.output()}"
        print(f"PaymentIntent {seconds:.3f} s after create_booking, general slots full")
    # the long jobs were never pushed aside: still exactly the general slots busy
    processing = lane_stack.sql("select count(*) from public.jobs where status = 'processing' "
                                "and type = 'demo.steps'")[0][0]
    assert processing == GENERAL_SLOTS


def test_without_reserved_slots_the_booking_waits(lane_stack: Stack) -> None:
    """The control: the same load with no payment slots delays the payment past 2 s."""
    hog, payer = create_user(lane_stack.db_url), create_user(lane_stack.db_url)
    worker = lane_stack.start_worker(WORKER_CONCURRENCY=str(GENERAL_SLOTS),
                                     WORKER_PAYMENT_SLOTS="0")
    assert worker.wait_for("worker.started")["lanes"] == {GENERAL: GENERAL_SLOTS}
    fill_general_slots(lane_stack, hog)
    assert intent_after_booking(lane_stack, payer, within=3.0) is None


# ---------------------------------------------------------------------- units (no processes)
def test_assign_types_to_lanes() -> None:
    types = ["ai.research", "booking.confirm", "demo.steps", "payment.create_intent"]
    assert assign(types, None, 2) == {
        GENERAL: ["ai.research", "demo.steps"],
        PAYMENTS: ["booking.confirm", "payment.create_intent"]}
    # the database's word wins over the prefixes
    assert assign(types, {"ai.research": PAYMENTS, "payment.create_intent": GENERAL}, 2) == {
        GENERAL: ["demo.steps", "payment.create_intent"],
        PAYMENTS: ["ai.research", "booking.confirm"]}
    assert assign(types, None, 0) == {GENERAL: sorted(types)}
    assert assign(["demo.noop"], None, 2) == {GENERAL: ["demo.noop"]}


def test_a_lane_claims_only_its_types_into_its_own_room() -> None:
    lane = Lane(PAYMENTS, ["payment.create_intent", "payment.refund"], concurrency=2,
                batch=100, claimers=2)
    ready = {"payment.create_intent": 3, "demo.steps": 3, "payment.refund": 0}
    assert lane.plans(ready, lambda t: False) == [(["payment.create_intent"], 2, True)]
    assert lane.plans(ready, lambda t: False) == []  # both slots promised
    lane.unreserve(2, True)
    lane.busy = 2
    assert lane.plans(ready, lambda t: False) == []  # both slots busy
    lane.busy = 0
    # a fast type is claimed in batches while fewer than claimers * batch are held
    assert lane.plans(ready, lambda t: True) == [(["payment.create_intent"], 100, False)]
    assert lane.plans(ready, lambda t: True) == [(["payment.create_intent"], 100, False)]
    assert lane.plans(ready, lambda t: True) == []
