"""Lanes: handler slots reserved for bookings and payments (issue 10, docs/jobs.md).

Every job type belongs to a lane (`private.job_types.lane`): `payments` (payment.*,
booking.*) or `general` (everything else). A worker runs each lane in handler threads of its
own, `WORKER_CONCURRENCY` general slots and `WORKER_PAYMENT_SLOTS` payment slots, and claims
each lane's types separately, so no number of long general jobs can delay a payment: a
booking's job is claimed by an idle payment slot as soon as its NOTIFY arrives. With
`WORKER_PAYMENT_SLOTS=0` there is one lane for every type (the behaviour before lanes).

The lane of each type is read from the database when the worker starts; when the database is
not reachable then, the prefixes below decide.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from worker.inflight import Inflight

GENERAL = "general"
PAYMENTS = "payments"
PAYMENT_PREFIXES = ("payment.", "booking.")


def default_lane(job_type: str) -> str:
    return PAYMENTS if job_type.startswith(PAYMENT_PREFIXES) else GENERAL


def assign(types: Sequence[str], known: Mapping[str, str] | None, payment_slots: int,
           ) -> dict[str, list[str]]:
    """{lane: its types} for the types this worker handles (lanes without types left out).
    known: each type's lane as the database says (None: not known, use the prefixes)."""
    if payment_slots <= 0:
        return {GENERAL: sorted(types)} if types else {}
    lanes: dict[str, list[str]] = {}
    for t in sorted(types):
        lane = (known or {}).get(t) or default_lane(t)
        lanes.setdefault(PAYMENTS if lane == PAYMENTS else GENERAL, []).append(t)
    return lanes


class Lane:
    """One lane's handler threads and the bookkeeping of what they hold. The counters are
    guarded by the worker's lock."""

    def __init__(self, name: str, types: Sequence[str], *, concurrency: int, batch: int,
                 claimers: int) -> None:
        self.name = name
        self.types = list(types)
        self.concurrency = concurrency
        self.batch = batch
        self.buffer: queue.SimpleQueue[list[Inflight] | None] = queue.SimpleQueue()
        self.busy = 0  # handler threads running a chunk
        self.busy_slow = 0  # ... of slow jobs
        self.waiting = 0  # chunks in the buffer
        self.fast_pending = 0  # fast jobs claimed and not yet run
        self.fast_reserved = 0  # ... asked for by claims in flight
        self.slow_reserved = 0  # handler threads promised to slow claims in flight
        self.max_fast = claimers * batch  # claim fast jobs while fewer are held
        self.executors: list[threading.Thread] = []

    def idle(self) -> int:
        return self.concurrency - self.busy - self.waiting - self.slow_reserved

    def plans(self, ready: Mapping[str, int], is_fast: Callable[[str], bool],
              ) -> list[tuple[list[str], int, bool]]:
        """The claims this lane wants for its ready types: (types, how many, slow), with
        their room reserved (given back by `unreserve` or spent by `dispatch`)."""
        mine = [t for t in self.types if ready.get(t)]
        fast = [t for t in mine if is_fast(t)]
        slow = [t for t in mine if t not in fast]
        out: list[tuple[list[str], int, bool]] = []
        if (fast and self.fast_pending + self.fast_reserved < self.max_fast
                and self.busy_slow < self.concurrency):
            self.fast_reserved += self.batch
            out.append((fast, self.batch, False))
        idle = self.idle()
        if slow and idle > 0:
            self.slow_reserved += idle
            out.append((slow, idle, True))
        return out

    def unreserve(self, size: int, slow: bool) -> None:
        if slow:
            self.slow_reserved -= size
        else:
            self.fast_reserved -= size

    def __repr__(self) -> str:
        return f"Lane({self.name}, slots={self.concurrency}, types={self.types})"
