"""The jobs this worker holds a lease on: buffered (claimed, waiting for a handler thread),
running, or finished and waiting for their completion to be written."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from worker.context import JobContext
from worker.store import ClaimedJob


@dataclass(eq=False)
class Inflight:
    job: ClaimedJob
    ctx: JobContext
    slow: bool  # runs long enough to need a handler thread of its own (see stats.py)
    claimed: float = field(default_factory=time.monotonic)
    started: float | None = None  # when its handler started (None while buffered)
    finished: float | None = None  # when its handler returned


class InflightSet:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Inflight] = {}

    def add(self, item: Inflight) -> None:
        with self._lock:
            self._items[item.job.id] = item

    def get(self, job_id: str) -> Inflight | None:
        with self._lock:
            return self._items.get(job_id)

    def remove(self, job_id: str) -> None:
        with self._lock:
            self._items.pop(job_id, None)

    def snapshot(self) -> list[Inflight]:
        with self._lock:
            return list(self._items.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
