"""Stripe webhooks through one web-service process (`python -m webhook`, gunicorn gthread),
signature checking included, against `GET /healthz` of the same process in the same run.

1. Throughput: closed loop, `--clients` threads posting signed events as fast as answers
   come back; events applied per second.
2. Latency at a fixed offered rate: an open-loop generator (threads, each with its own
   keep-alive connection) sends `--rate` events per second
   for `--seconds` (each request is due at t0 + i/rate; latency is measured from when it was
   due, so a slow server cannot hide queueing); p50/p99. Then `GET /healthz` the same way as
   the baseline.

Every event is new and applies to a real booking (payment_intent.processing, then
payment_intent.succeeded, which also enqueues the booking.confirm job), so the database does
the real work: insert the event, lock and update the booking, enqueue.

    python -m bench.webhook_bench [--rate 200] [--seconds 10] [--clients 16]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg

from bench.common import scratch_database
from tests.harness.users import create_user
from tests.webhook_helpers import make_event, run_webhook_service, sign

SECRET = "whsec_bench"
PARIS_HOTEL = "985c87ec-1d28-4b09-ac8c-3484ea1965c4"


def make_bookings(url: str, count: int) -> list[tuple[str, str, int]]:
    """count payment_pending bookings: (id, user_id, amount)."""
    user = create_user(url)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "insert into public.bookings (user_id, hotel_id, check_in, check_out, amount, "
            "currency) select %s, %s, current_date + 7, current_date + 9, 43000, 'EUR' "
            "from generate_series(1, %s) returning id::text, user_id::text, amount",
            (user.id, PARIS_HOTEL, count)).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def events_for(bookings: list[tuple[str, str, int]]) -> Iterator[str]:
    """For each booking: processing, then succeeded (JSON payloads, as Stripe sends them)."""
    now = int(time.time())
    for offset, event_type, status in ((-2, "payment_intent.processing", "processing"),
                                       (-1, "payment_intent.succeeded", "succeeded")):
        for booking_id, user_id, amount in bookings:
            pi = f"pi_{uuid.UUID(booking_id).hex[:24]}"
            obj = {"id": pi, "object": "payment_intent", "amount": amount, "currency": "eur",
                   "status": status, "last_payment_error": None,
                   "payment_method": "pm_card_visa" if status == "succeeded" else None,
                   "metadata": {"booking_id": booking_id, "user_id": user_id}}
            yield json.dumps(make_event(event_type, obj, created=now + offset), indent=2)


class Source:
    """Thread-safe supply of requests: (method, path, body or None)."""

    def __init__(self, items: Iterator[tuple[str, str, str | None]]) -> None:
        self._items = items
        self._lock = threading.Lock()

    def next(self) -> tuple[str, str, str | None] | None:
        with self._lock:
            return next(self._items, None)


class Connection:
    """One keep-alive HTTP/1.1 connection (stdlib http.client: a lighter client than httpx,
    so the load generator takes less of the machine's CPU from the server it measures)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None,
                headers: dict[str, str]) -> int:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt == 2:
                    raise
        return 0

    def close(self) -> None:
        self.conn.close()


def send(client: Connection, item: tuple[str, str, str | None]) -> int:
    method, path, body = item
    if body is None:
        return client.request(method, path, None, {})
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body, SECRET)}
    return client.request(method, path, body.encode(), headers)


def closed_loop(base: str, source: Source, clients: int, seconds: float) -> dict[str, float]:
    """As fast as the server answers, with `clients` concurrent connections."""
    done: list[int] = []
    deadline = time.perf_counter() + seconds

    def run() -> None:
        ok = 0
        client = Connection(base)
        while time.perf_counter() < deadline:
            item = source.next()
            if item is None:
                break
            if send(client, item) == 200:
                ok += 1
        client.close()
        done.append(ok)

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"requests_ok": float(sum(done)), "per_s": sum(done) / elapsed}


def open_loop(base: str, make: Callable[[int], tuple[str, str, str | None]], rate: float,
              seconds: float, senders: int = 48) -> dict[str, float]:
    """Request i is due at t0 + i/rate; latency counts from when it was due."""
    total = int(rate * seconds)
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[int] = []
    t0 = time.perf_counter() + 0.2

    def run() -> None:
        client = Connection(base)
        send(client, ("GET", "/healthz", None))  # connect before the clock starts
        while True:
            with lock:
                i = next(counter)
            if i >= total:
                break
            due = t0 + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            status = send(client, make(i))
            latency = time.perf_counter() - due
            with lock:
                latencies.append(latency)
                if status != 200:
                    errors.append(status)
        client.close()

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {
        "requests": float(len(latencies)),
        "errors": float(len(errors)),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "max_ms": 1000 * latencies[-1],
    }


def run(rate: float, seconds: float, clients: int) -> dict[str, float]:
    results: dict[str, float] = {}
    with scratch_database("webhook") as url:
        throughput_events = list(events_for(make_bookings(url, 3000)))
        paced_events = list(events_for(make_bookings(url, int(rate * seconds / 2) + 1)))
        with run_webhook_service(url, secrets=(SECRET,)) as web:
            base = web.url
            warm = Source(("GET", "/healthz", None) for _ in range(500))
            closed_loop(base, warm, 4, 5)

            source = Source(("POST", "/webhooks/stripe", body) for body in throughput_events)
            measured = closed_loop(base, source, clients, 8.0)
            results["webhook_events_per_s"] = measured["per_s"]
            health = Source(itertools.repeat(("GET", "/healthz", None)))
            results["healthz_per_s"] = closed_loop(base, health, clients, 4.0)["per_s"]

            paced = open_loop(base, lambda i: ("POST", "/webhooks/stripe", paced_events[i]),
                              rate, seconds)
            baseline = open_loop(base, lambda i: ("GET", "/healthz", None), rate, seconds)
            for key in ("p50_ms", "p99_ms", "max_ms", "errors"):
                results[f"webhook_{key}_at_{int(rate)}_per_s"] = paced[key]
                results[f"healthz_{key}_at_{int(rate)}_per_s"] = baseline[key]
            with psycopg.connect(url) as conn:
                applied = conn.execute("select count(*) from private.stripe_events "
                                       "where outcome = 'applied'").fetchone()[0]
            results["events_applied_total"] = float(applied)
    results["ratio_webhook_vs_healthz_per_s"] = (
        results["webhook_events_per_s"] / results["healthz_per_s"])
    results["ratio_webhook_vs_healthz_p99"] = (
        results[f"webhook_p99_ms_at_{int(rate)}_per_s"]
        / results[f"healthz_p99_ms_at_{int(rate)}_per_s"])
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args(argv)
    results = run(args.rate, args.seconds, args.clients)
    print(f"== web service: signed Stripe webhooks vs GET /healthz (one process, "
          f"{int(args.rate)}/s offered for {args.seconds:g} s)")
    for key, value in results.items():
        print(f"  {key:40s} {value:10.2f}")
    p99 = results[f"webhook_p99_ms_at_{int(args.rate)}_per_s"]
    verdict = "meets" if p99 < 50 else "MISSES"
    print(f"  target: webhook p99 < 50 ms at {int(args.rate)}/s -> {verdict}")
    return results


if __name__ == "__main__":
    main()
