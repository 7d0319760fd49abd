"""The worker: a claim loop, handler threads, and the threads that keep leases alive.

    claim loops     main thread (+ `claimers - 1` threads): claim jobs (private.claim_jobs)
                    when there is room and write completions (private.complete_jobs), both
                    batched; sleep until LISTEN, a handler thread or the poll timer wakes them.
                    With two loops one claim's round trip and commit overlap another's.
    handler threads run jobs (runner.py): `concurrency` general slots and `payment_slots`
                    slots only the payments lane (payment.*, booking.*) may use (lanes.py)
    heartbeat       extends leases, relays cancellations, recovers expired leases (heartbeat.py)
    listener        LISTEN wayfare_jobs / wayfare_job_cancel (listener.py)

How many jobs a claim takes: a type whose handler is fast (stats.py) is claimed in batches of
`batch` as soon as no more than one batch is left (so the next claim's round trip overlaps the
handlers' work on the current one), and handed to the handler threads in chunks;
any other type only into idle handler threads, one job each. Completions ride along with the
next claim, in its transaction (one commit for both); they are written alone when no claim
comes within 10 ms, and at once when nothing else is running.

Each lane claims its own types into its own handler threads, with the rules above applied per
lane, so long general jobs never hold up a payment.

On SIGTERM/SIGINT: stop claiming, give jobs not yet started back, let running jobs finish for
up to `shutdown_timeout` seconds, write their completions, give back the rest.
"""

from __future__ import annotations

import queue
import threading
import time

from wayfare.logs import get_logger
from worker.completions import Completions
from worker.config import WorkerConfig
from worker.context import JobContext
from worker.heartbeat import Heartbeater
from worker.inflight import Inflight, InflightSet
from worker.lanes import GENERAL, PAYMENTS, Lane, assign
from worker.listener import Listener
from worker.registry import Handler
from worker.runner import Runner
from worker.stats import TypeStats
from worker.store import TRANSIENT, ClaimedJob, JobStore

log = get_logger("worker")


class Worker:
    def __init__(self, config: WorkerConfig, handlers: dict[str, Handler]) -> None:
        self.config = config
        self.handlers = handlers
        self.types = sorted(handlers)
        self.store = JobStore(config.database_url, worker_id=config.worker_id,
                              role=config.db_role, size=config.pool_size,
                              application_name=f"wayfare-worker:{config.worker_id}",
                              statement_timeout=config.statement_timeout)
        self.inflight = InflightSet()
        self.stats = TypeStats()
        self.completions = Completions(self.inflight, self.stats, batch=config.batch)
        self.runner = Runner(self.store, self.on_result, self.inflight, self.stats, handlers)
        self._stop = threading.Event()  # stop claiming
        self._hurry = threading.Event()  # a second signal: do not wait for running jobs
        self._threads_stop = threading.Event()  # heartbeat and listener
        self._wake = threading.Event()
        self._stop_at = 0.0
        self._lock = threading.Lock()
        # the lanes and their handler threads: made in run(), once the database has said
        # which lane each type belongs to (lanes.py)
        self.lanes: list[Lane] = []
        self.lane_of: dict[str, Lane] = {}
        # a second claim goes out beside one in flight only while the queue has a backlog (the
        # last claim came back full): an idle worker woken by a NOTIFY sends one claim
        self._claims_in_flight = 0
        self._backlog = False
        # lost claims (held_jobs): checked after a claim failed and every recover_interval,
        # while no claim is in flight and none may start (_fenced)
        self._fenced = False
        self._orphans_suspected = False
        self._next_orphan_check = 0.0
        self._deferred = False  # a loop stood back for a claim in flight: look again after it
        # round trips of the claim loop, for the logs: claims (and jobs they brought),
        # completions written with a claim, completion writes of their own
        self.counters = {"claims": 0, "claimed": 0, "completed_with_claim": 0,
                         "completion_writes": 0, "completed_alone": 0, "claim_seconds": 0.0}
        # types that may have due jobs, with a generation so a NOTIFY is never lost to a race
        self._ready: dict[str, int] = dict.fromkeys(self.types, 1)
        self._generation = 1
        self.heartbeater = Heartbeater(
            self.store, self.inflight, self.stats, recover_interval=config.recover_interval,
            on_recovered=self.poke, stop=self._threads_stop)
        listen_name = f"wayfare-worker-listen:{config.worker_id}"
        self.listener = Listener(
            lambda: self.store.connect(listen_name), on_job=self.on_notify,
            on_cancel=self.on_cancel, on_connected=self.poke, stop=self._threads_stop)
        self.claimers = [threading.Thread(target=self._claim_loop, args=(False,),
                                          name=f"claimer-{n}", daemon=True)
                         for n in range(1, config.claimers)]

    # ------------------------------------------------------------------ signals from outside
    def request_stop(self) -> None:
        """First call: graceful shutdown. Second call: do not wait for running jobs."""
        if self._stop.is_set():
            self._hurry.set()
        else:
            self._stop_at = time.monotonic()
            self._stop.set()
        self._wake.set()

    def poke(self) -> None:
        """Every type may have due jobs (a reconnect, recovered leases)."""
        self._mark_ready(self.types)

    def on_notify(self, job_type: str) -> None:
        """A job of this type was queued: claim it from this (the listener's) thread at once,
        without waking a claim loop first (one thread hand-off less between arrival and
        start). The claim loops take over if more is waiting."""
        if job_type not in self.handlers:
            return
        self._mark_ready([job_type], wake=False)
        if self._stop.is_set():
            return
        try:
            more = self._cycle()
        except Exception as exc:  # the claim loops retry it
            log.warning("worker.claim_failed", error_type=type(exc).__name__, at="notify")
            more = True
        if more:
            self._wake.set()

    def on_cancel(self, job_id: str) -> None:
        item = self.inflight.get(job_id)
        if item is not None:
            item.ctx.mark_cancelled()

    def on_result(self, item: Inflight, result_json: str) -> None:
        """A handler succeeded: queue its completion, and wake the claim loop to write it."""
        waiting = self.completions.add(item, result_json)
        if waiting == 1 or waiting == self.config.batch:
            self._wake.set()

    def _mark_ready(self, types: list[str], *, wake: bool = True) -> None:
        with self._lock:
            self._generation += 1
            for t in types:
                self._ready[t] = self._generation
        if wake:
            self._wake.set()

    # ------------------------------------------------------------------ run
    def run(self) -> int:
        self.store.open()
        self.make_lanes(self._check_types())
        log.info("worker.started", worker_id=self.config.worker_id, types=self.types,
                 concurrency=self.config.concurrency, batch=self.config.batch,
                 lanes={lane.name: lane.concurrency for lane in self.lanes})
        for thread in (self.heartbeater, self.listener, *self.executors, *self.claimers):
            thread.start()
        try:
            self._claim_loop(True)
        finally:
            self._shutdown()
        return 0

    def _check_types(self) -> dict[str, str] | None:
        """Each known type's lane (None: the database is not reachable now)."""
        try:
            known = self.store.type_lanes()
        except TRANSIENT:
            return None
        unknown = [t for t in self.types if t not in known]
        if unknown:
            log.warning("worker.unknown_types", types=unknown)
        return known

    def make_lanes(self, known: dict[str, str] | None) -> None:
        """The lanes and their handler threads (payments first: its claims go out first)."""
        slots = {GENERAL: self.config.concurrency, PAYMENTS: self.config.payment_slots}
        by_lane = assign(self.types, known, self.config.payment_slots)
        self.lanes = [Lane(name, by_lane[name], concurrency=slots[name],
                           batch=self.config.batch, claimers=self.config.claimers)
                      for name in (PAYMENTS, GENERAL) if by_lane.get(name)]
        self.lane_of = {t: lane for lane in self.lanes for t in lane.types}
        for lane in self.lanes:
            lane.executors = [
                threading.Thread(target=self._execute, args=(lane,),
                                 name=f"{lane.name}-{n}", daemon=True)
                for n in range(lane.concurrency)]

    @property
    def executors(self) -> list[threading.Thread]:
        return [t for lane in self.lanes for t in lane.executors]

    def _claim_loop(self, polls: bool) -> None:
        next_poll = 0.0 if polls else float("inf")
        backoff = 0.05
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_poll:  # the fallback for missed notifications and delayed retries
                self.poke()
                next_poll = now + self.config.poll_interval
            self._wake.clear()
            try:
                if polls and (self._orphans_suspected or now >= self._next_orphan_check):
                    self._release_orphans()
                more = self._cycle()
                backoff = 0.05
            except TRANSIENT as exc:
                log.warning("worker.claim_failed", error_type=type(exc).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            except Exception:  # a bug of ours or of the schema: say so, keep the leases alive
                log.exception("worker.claim_error")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            if not more:
                timeout = min(next_poll - time.monotonic(), self.config.poll_interval)
                due = self.completions.due_in()
                if due is not None:
                    timeout = min(timeout, due)
                self._wake.wait(max(0.0, timeout))

    def _cycle(self) -> bool:
        """Claim what there is room for, writing waiting completions with the first claim.
        True when a claim came back full (there may be more: go again)."""
        plans: list[tuple[Lane, list[str], int, bool]] = []
        with self._lock:
            if self._fenced or (self._claims_in_flight and not self._backlog):
                self._deferred = True
                return False
            ready = {t: g for t, g in self._ready.items() if g}
            for lane in self.lanes:
                plans.extend((lane, *plan) for plan in lane.plans(ready, self.stats.is_fast))
            if plans:
                self._claims_in_flight += 1
        if not plans:
            if self._completions_due():
                self._write_completions()
            return False
        full = False
        try:
            for n, (lane, types, size, slow_jobs) in enumerate(plans):
                pending = self.completions.take() if n == 0 else []
                started = time.perf_counter()
                try:
                    jobs, done = self.store.claim(types, size,
                                                  [(i.job, r) for i, r in pending])
                except BaseException as exc:
                    self.completions.put_back(pending)
                    if isinstance(exc, TRANSIENT):  # it may have committed all the same
                        self._orphans_suspected = True
                    raise
                if pending:
                    self.completions.written(pending, done)
                self._dispatch(lane, jobs, slow=slow_jobs, reserved=size)
                plans[n] = (lane, types, 0, slow_jobs)  # its reservation is spent
                with self._lock:
                    self.counters["claim_seconds"] += time.perf_counter() - started
                    self.counters["claims"] += 1
                    self.counters["claimed"] += len(jobs)
                    self.counters["completed_with_claim"] += len(pending)
                    if len(jobs) < size:  # none left for now: sleep until a NOTIFY or a poll
                        self._backlog = False
                        for t in types:
                            if self._ready.get(t) == ready[t]:
                                self._ready[t] = 0
                    else:
                        self._backlog = full = True
        finally:
            with self._lock:  # claims that failed give their reservations back
                self._claims_in_flight -= 1
                deferred, self._deferred = self._deferred, False
                for lane, _, size, slow_jobs in plans:
                    lane.unreserve(size, slow_jobs)
            if deferred:  # what woke the loop that stood back may need a claim now
                self._wake.set()
        return full

    def _release_orphans(self) -> None:
        """Give back the jobs this worker holds leases on but never received: a claim that
        committed while its answer was lost (the connection broke in between). Runs while no
        claim is in flight and none may start, so every lease of ours is in `inflight`."""
        with self._lock:
            if self._claims_in_flight:
                return  # next time round
            self._fenced = True
        try:
            held = self.store.held()
            if held is None:  # a database without held_jobs yet
                log.warning("worker.lost_claims_unchecked", reason="no private.held_jobs")
                self._orphans_suspected = False
                self._next_orphan_check = float("inf")
                return
            orphans = [(job_id, attempt) for job_id, attempt in held
                       if (item := self.inflight.get(job_id)) is None
                       or item.job.attempt != attempt]
            if orphans:
                released = self.store.release_many(orphans)
                log.warning("worker.lost_claims_released", jobs=len(orphans), released=released)
            self._orphans_suspected = False
            self._next_orphan_check = time.monotonic() + self.config.recover_interval
        finally:
            with self._lock:
                self._fenced = False
                deferred, self._deferred = self._deferred, False
            if deferred:
                self._wake.set()

    def _completions_due(self) -> bool:
        due = self.completions.due_in()
        if due is None:
            return False
        # nothing else in flight: nobody will claim soon, write now
        return due == 0 or len(self.inflight) <= len(self.completions)

    def _write_completions(self) -> None:
        pending = self.completions.take()
        if not pending:
            return
        try:
            done = self.store.complete_many([(i.job, r) for i, r in pending])
        except BaseException:
            self.completions.put_back(pending)
            raise
        self.completions.written(pending, done)
        self.counters["completion_writes"] += 1
        self.counters["completed_alone"] += len(pending)

    def _dispatch(self, lane: Lane, jobs: list[ClaimedJob], *, slow: bool,
                  reserved: int) -> None:
        items = [Inflight(job, JobContext(job, self.store), slow) for job in jobs]
        for item in items:
            self.inflight.add(item)
        if slow:
            chunks = [[item] for item in items]
        else:
            size = max(1, -(-len(items) // lane.concurrency))
            chunks = [items[i:i + size] for i in range(0, len(items), size)]
        with self._lock:  # from reserved to held, in one step
            lane.waiting += len(chunks)
            lane.unreserve(reserved, slow)
            if not slow:
                lane.fast_pending += len(items)
        for chunk in chunks:
            lane.buffer.put(chunk)

    def _execute(self, lane: Lane) -> None:
        while True:
            chunk = lane.buffer.get()
            if chunk is None:
                return
            slow = chunk[0].slow
            with self._lock:
                lane.waiting -= 1
                lane.busy += 1
                lane.busy_slow += slow
            try:
                for item in chunk:
                    try:
                        self.runner.run(item)
                    except Exception:  # the runner catches handler errors: a bug of ours
                        log.exception("worker.runner_error")
                    if not slow:
                        with self._lock:
                            lane.fast_pending -= 1
                            refill = lane.fast_pending == lane.max_fast - lane.batch
                        if refill:  # room for another batch
                            self._wake.set()
            finally:
                with self._lock:
                    lane.busy -= 1
                    lane.busy_slow -= slow
                self._wake.set()

    # ------------------------------------------------------------------ shutdown
    def _shutdown(self) -> None:
        deadline = (self._stop_at or time.monotonic()) + self.config.shutdown_timeout
        log.info("worker.stopping", held=len(self.inflight))
        for claimer in self.claimers:  # none may dispatch once the buffer is drained
            claimer.join(max(0.0, deadline - time.monotonic()))
        not_started: list[Inflight] = []
        for lane in self.lanes:
            while True:
                try:
                    chunk = lane.buffer.get_nowait()
                except queue.Empty:
                    break
                if chunk:
                    not_started.extend(chunk)
            for _ in lane.executors:
                lane.buffer.put(None)
        released = self._release(not_started)
        # running handlers get until the deadline; their completions are written meanwhile
        while time.monotonic() < deadline and not self._hurry.is_set():
            alive = [t for t in self.executors if t.is_alive()]
            if not alive:
                break
            self._try_write_completions()
            alive[0].join(0.05)
        flush_until = max(deadline, time.monotonic() + 1.0) + 5.0
        while len(self.completions) and time.monotonic() < flush_until:
            if not self._try_write_completions():
                time.sleep(0.2)
        still = [i for i in self.inflight.snapshot() if i.finished is None]
        for item in still:
            item.ctx.mark_lost()  # its handler's next write raises JobLost
        released += self._release(still)
        self._threads_stop.set()
        self.heartbeater.join(2.0)
        self.listener.join(2.0)
        self.store.close()
        self.counters["claim_seconds"] = round(self.counters["claim_seconds"], 3)
        log.info("worker.stopped", released=released, unfinished=len(still), **self.counters)

    def _try_write_completions(self) -> bool:
        try:
            self._write_completions()
            return True
        except TRANSIENT as exc:
            log.warning("worker.completion_retry", error_type=type(exc).__name__)
            return False

    def _release(self, items: list[Inflight]) -> int:
        if not items:
            return 0
        for attempt in range(20):
            try:
                count = self.store.release_many(i.job.key for i in items)
                break
            except TRANSIENT:
                time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            log.warning("worker.release_failed", jobs=len(items))  # recovered after the lease
            count = 0
        for item in items:
            self.inflight.remove(item.job.id)
        return count
