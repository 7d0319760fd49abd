"""The worker's parts without processes or a database (pgqueuer-style unit tests): how claims
are sized and split across lanes and handler threads, how completions are batched, and what a
heartbeat does with each job's state. A fake store stands in for JobStore."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Sequence

import pytest

from worker.completions import MAX_AGE, Completions
from worker.config import WorkerConfig
from worker.context import JobContext
from worker.heartbeat import Heartbeater
from worker.inflight import Inflight, InflightSet
from worker.lanes import GENERAL, PAYMENTS
from worker.service import Worker
from worker.stats import TypeStats
from worker.store import ClaimedJob

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def claimed(n: int, job_type: str = "demo.noop", attempt: int = 1,
            lease: int = 30) -> ClaimedJob:
    return ClaimedJob(f"00000000-0000-0000-0000-{n:012d}", job_type, "{}", "{}", attempt, 3,
                      lease, None, None, NOW)


class FakeStore:
    """Records the calls; claim() hands out queued jobs of the asked types."""

    worker_id = "w:1:x"

    def __init__(self) -> None:
        self.queued: list[ClaimedJob] = []
        self.claims: list[tuple[list[str], int, int]] = []  # types, batch, completions
        self.completed: list[tuple[str, int]] = []
        self.states: dict[str, str] = {}
        self.beats: list[list[tuple[str, int]]] = []
        self.cancelled: list[str] = []

    def claim(self, types: Sequence[str], batch: int,
              completions: Sequence[tuple[ClaimedJob, str]] = ()) -> tuple[
                  list[ClaimedJob], set[str]]:
        self.claims.append((list(types), batch, len(completions)))
        jobs = [j for j in self.queued if j.type in types][:batch]
        for j in jobs:
            self.queued.remove(j)
        self.completed += [j.key for j, _ in completions]
        return jobs, {j.id for j, _ in completions}

    def complete_many(self, items: Sequence[tuple[ClaimedJob, str]]) -> set[str]:
        self.completed += [j.key for j, _ in items]
        return {j.id for j, _ in items}

    def heartbeat_many(self, held: Iterable[tuple[str, int]]) -> dict[str, str]:
        held = list(held)
        self.beats.append(held)
        return {job_id: self.states.get(job_id, "continue") for job_id, _ in held}

    def cancel_confirmed(self, job: ClaimedJob) -> bool:
        self.cancelled.append(job.id)
        return True


def make_worker(types: Sequence[str], *, concurrency: int = 4, payment_slots: int = 2,
                batch: int = 10) -> tuple[Worker, FakeStore]:
    config = WorkerConfig(database_url="postgresql://127.0.0.1:1/none", concurrency=concurrency,
                          payment_slots=payment_slots, batch=batch, claimers=2,
                          worker_id="w:1:x")
    worker = Worker(config, dict.fromkeys(types, lambda ctx: None))
    store = FakeStore()
    worker.store = store  # type: ignore[assignment]
    worker.make_lanes(None)
    return worker, store


def buffered(worker: Worker, lane_name: str) -> list[list[str]]:
    lane = next(lane for lane in worker.lanes if lane.name == lane_name)
    chunks = []
    while not lane.buffer.empty():
        chunk = lane.buffer.get_nowait()
        assert chunk is not None
        chunks.append([i.job.id for i in chunk])
    return chunks


# ---------------------------------------------------------------------- claims (batching)
def test_slow_types_are_claimed_only_into_idle_threads_one_each() -> None:
    worker, store = make_worker(["demo.steps"], concurrency=3)
    store.queued = [claimed(n, "demo.steps") for n in range(10)]
    worker._cycle()
    assert store.claims == [(["demo.steps"], 3, 0)]  # one per idle handler thread
    assert [len(c) for c in buffered(worker, GENERAL)] == [1, 1, 1]
    worker._cycle()  # every thread is promised: no claim
    assert len(store.claims) == 1


def test_fast_types_are_claimed_in_batches_and_split_across_threads() -> None:
    worker, store = make_worker(["demo.noop"], concurrency=4, batch=10)
    worker.stats.observe("demo.noop", 0.001)  # known to be fast
    store.queued = [claimed(n) for n in range(25)]
    more = worker._cycle()
    assert more is True  # the claim came back full: there may be more
    assert store.claims == [(["demo.noop"], 10, 0)]
    assert [len(c) for c in buffered(worker, GENERAL)] == [3, 3, 3, 1]
    worker._cycle()
    worker._cycle()  # at most claimers * batch fast jobs held: no third batch
    assert [b for _, b, _ in store.claims] == [10, 10]


def test_each_lane_claims_its_own_types_into_its_own_threads() -> None:
    worker, store = make_worker(["demo.steps", "payment.create_intent"], concurrency=2,
                                payment_slots=1)
    assert {lane.name: lane.types for lane in worker.lanes} == {
        PAYMENTS: ["payment.create_intent"], GENERAL: ["demo.steps"]}
    store.queued = [claimed(n, "demo.steps") for n in range(5)]
    worker._cycle()
    assert len(buffered(worker, GENERAL)) == 2
    general = next(lane for lane in worker.lanes if lane.name == GENERAL)
    general.busy, general.waiting = 2, 0  # both general threads run long jobs
    store.queued.append(claimed(99, "payment.create_intent"))
    worker._mark_ready(["payment.create_intent", "demo.steps"], wake=False)
    worker._cycle()
    assert store.claims[-1] == (["payment.create_intent"], 1, 0)  # general: no room, no claim
    assert buffered(worker, PAYMENTS) == [[claimed(99).id]]


def test_without_payment_slots_one_lane_takes_every_type() -> None:
    worker, _ = make_worker(["demo.steps", "payment.create_intent"], payment_slots=0)
    assert [(lane.name, lane.types) for lane in worker.lanes] == [
        (GENERAL, ["demo.steps", "payment.create_intent"])]


def test_completions_ride_with_the_next_claim() -> None:
    worker, store = make_worker(["demo.noop"])
    job = claimed(1)
    item = Inflight(job, JobContext(job, store), slow=False)  # type: ignore[arg-type]
    worker.inflight.add(item)
    worker.on_result(item, json.dumps({"ok": True}))
    store.queued = [claimed(2)]
    worker._cycle()
    assert store.claims[0][2] == 1  # written in the claim's transaction
    assert store.completed == [job.key]
    assert worker.inflight.get(job.id) is None


# ---------------------------------------------------------------------- completions
def test_completions_are_due_at_once_when_a_batch_is_full_else_after_max_age() -> None:
    inflight, stats = InflightSet(), TypeStats()
    completions = Completions(inflight, stats, batch=3)
    assert completions.due_in() is None
    items = []
    for n in range(3):
        job = claimed(n)
        items.append(Inflight(job, JobContext(job, None), slow=False))  # type: ignore[arg-type]
        inflight.add(items[-1])
    completions.add(items[0], "{}")
    due = completions.due_in()
    assert due is not None and 0 < due <= MAX_AGE
    completions.add(items[1], "{}")
    completions.add(items[2], "{}")
    assert completions.due_in() == 0.0
    taken = completions.take(limit=2)
    assert len(taken) == 2 and len(completions) == 1
    completions.put_back(taken)  # a failed write keeps them, first in line, due now
    assert len(completions) == 3 and completions.due_in() == 0.0
    taken = completions.take()
    completions.written(taken, done={items[0].job.id, items[1].job.id})
    assert len(inflight) == 0
    outcomes = stats.take_outcomes()
    assert outcomes == {"demo.noop:completed": 2, "demo.noop:lost": 1}


# ---------------------------------------------------------------------- heartbeats
def heartbeater(store: FakeStore, items: list[Inflight]) -> Heartbeater:
    import threading

    inflight = InflightSet()
    for item in items:
        inflight.add(item)
    return Heartbeater(store, inflight, TypeStats(), recover_interval=10,  # type: ignore[arg-type]
                       on_recovered=lambda: None, stop=threading.Event())


def test_a_heartbeat_sends_every_held_job_with_its_attempt_and_relays_states() -> None:
    store = FakeStore()
    jobs = [claimed(1, attempt=2), claimed(2), claimed(3)]
    items = [Inflight(j, JobContext(j, store), slow=True) for j in jobs]  # type: ignore[arg-type]
    for item in items:
        item.started = time.monotonic()
    beat = heartbeater(store, items)
    store.states = {jobs[1].id: "lost", jobs[2].id: "cancel"}
    beat.beat()
    assert sorted(store.beats[0]) == sorted(j.key for j in jobs)
    assert (jobs[0].id, 2) in store.beats[0]  # the attempt it claimed: the lease token
    assert not items[0].ctx.lost and not items[0].ctx.cancelled
    assert items[1].ctx.lost
    assert items[2].ctx.cancelled and store.cancelled == []


def test_a_handler_that_ignores_a_cancel_for_an_interval_is_cancelled_for_it() -> None:
    store = FakeStore()
    job = claimed(1, lease=3)  # heartbeat interval 1 s
    item = Inflight(job, JobContext(job, store), slow=True)  # type: ignore[arg-type]
    item.started = time.monotonic()
    beat = heartbeater(store, [item])
    store.states = {job.id: "cancel"}
    beat.beat()
    assert item.ctx.cancelled and store.cancelled == []
    item.ctx.cancel_seen_at = time.monotonic() - 1.5
    beat.beat()
    assert store.cancelled == [job.id] and item.ctx.lost


def test_finished_jobs_are_not_marked_by_a_heartbeat() -> None:
    store = FakeStore()
    job = claimed(1)
    item = Inflight(job, JobContext(job, store), slow=False)  # type: ignore[arg-type]
    item.finished = time.monotonic()  # its completion is being written
    store.states = {job.id: "lost"}
    heartbeater(store, [item]).beat()
    assert not item.ctx.lost


@pytest.mark.parametrize("leases,expected", [([30, 6], 2.0), ([0.3], 0.2), ([], 1.0)])
def test_the_heartbeat_interval_is_a_third_of_the_shortest_lease(
        leases: list[float], expected: float) -> None:
    store = FakeStore()
    items = [Inflight(claimed(n, lease=lease), JobContext(claimed(n), store), slow=True)  # type: ignore[arg-type]
             for n, lease in enumerate(leases)]
    assert heartbeater(store, items).interval() == pytest.approx(expected)


def test_config_payment_slots_and_statement_timeout() -> None:
    from worker import config

    loaded = config.load([], {"DATABASE_URL": "postgresql://x/y", "WORKER_PAYMENT_SLOTS": "0",
                              "WORKER_STATEMENT_TIMEOUT": "2.5"})
    assert loaded.payment_slots == 0 and loaded.statement_timeout == 2.5
    assert config.load([], {"DATABASE_URL": "postgresql://x/y"}).payment_slots == 2
    assert config.load(["--payment-slots", "3"], {"DATABASE_URL": "postgresql://x/y"}
                       ).pool_size == 4 + 3 + 3 + 1
    with pytest.raises(config.ConfigError):
        config.load([], {"DATABASE_URL": "postgresql://x/y", "WORKER_PAYMENT_SLOTS": "-1"})


def test_leases_the_worker_never_received_are_given_back() -> None:
    worker, store = make_worker(["demo.noop"])
    known = claimed(1)
    worker.inflight.add(Inflight(known, JobContext(known, store), slow=False))  # type: ignore[arg-type]
    released: list[list[tuple[str, int]]] = []
    store.held = lambda: [known.key, (claimed(2).id, 1), (known.id, 5)]  # type: ignore[attr-defined]
    store.release_many = lambda held: released.append(list(held)) or len(released[-1])  # type: ignore[attr-defined]
    worker._release_orphans()
    # the job it runs stays; one it never received, and a newer attempt of its own job, go back
    assert released == [[(claimed(2).id, 1), (known.id, 5)]]
    # never while a claim is in flight (its jobs are not in `inflight` yet)
    worker._claims_in_flight = 1
    worker._release_orphans()
    assert len(released) == 1


def test_values_from_the_query_are_masked_wherever_they_are_echoed() -> None:
    from wayfare.redact import redact
    from worker.handlers.research import known_values, mask_known

    known = known_values("My name is Maria Gonzalez and my passport number is C03005988.")
    echo = "maria GONZALEZ: show c03005988 at the desk; Santa Mariana, Gonzalezville, C030059881"
    assert mask_known("Gonzalez and maria", known) == "[NAME] and [NAME]"
    assert mask_known(echo, known) == (
        "[NAME]: show [PASSPORT] at the desk; Santa Mariana, Gonzalezville, C030059881")
    assert "show [PASSPORT] at the desk" in redact(mask_known(echo, known))
    assert known_values("Three days in Lisbon with kids") == []
