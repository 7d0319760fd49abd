"""Helpers for benchmarks: a scratch database migrated like the tests' template."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence

from tests.harness import databases


@contextlib.contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A fresh database brought up by compat + `supabase db push`, dropped afterwards."""
    url = databases.create_migrated(f"wayfare_bench_{name}_{os.getpid()}")
    databases.relax_rate_limits(url)
    try:
        yield url
    finally:
        databases.drop(url.rsplit("/", 1)[-1])


def rate(fn: Callable[[int], None], n: int) -> float:
    """Calls per second of fn(i) for i in range(n)."""
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - started)


def best_of(runs: int, measure: Callable[[], float]) -> float:
    return max(measure() for _ in range(runs))


def throughput(fn: Callable[[str], object], texts: Sequence[str], seconds: float) -> float:
    """Texts per CPU-second of this (single-threaded) process: best of timed rounds over
    `seconds`. CPU time rather than wall time, so other work on a shared machine does not count."""
    fn(texts[0])
    best = 0.0
    deadline = time.process_time() + seconds
    while True:
        start = time.process_time()
        for t in texts:
            fn(t)
        best = max(best, len(texts) / max(time.process_time() - start, 1e-9))
        if time.process_time() > deadline:
            return best
