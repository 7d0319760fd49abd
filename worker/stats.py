"""How long each job type's handler takes (an exponentially weighted mean).

Types whose handlers return within FAST_SECONDS are "fast": the worker claims them in
batches and buffers them ahead of its handler threads. Other types (and types not seen yet)
are claimed only into idle handler threads, so a worker never hoards long jobs that other
workers could run.
"""

from __future__ import annotations

import threading
from collections import Counter

FAST_SECONDS = 0.02
WEIGHT = 0.2


class TypeStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mean: dict[str, float] = {}
        self.outcomes: Counter[tuple[str, str]] = Counter()

    def observe(self, job_type: str, seconds: float) -> None:
        with self._lock:
            mean = self._mean.get(job_type)
            self._mean[job_type] = seconds if mean is None else mean + WEIGHT * (seconds - mean)

    def is_fast(self, job_type: str) -> bool:
        mean = self._mean.get(job_type)
        return mean is not None and mean < FAST_SECONDS

    def count(self, job_type: str, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.outcomes[(job_type, outcome)] += n

    def take_outcomes(self) -> dict[str, int]:
        with self._lock:
            out = {f"{t}:{o}": n for (t, o), n in sorted(self.outcomes.items())}
            self.outcomes.clear()
            return out
