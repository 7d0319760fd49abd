"""Job queue benchmark: Wayfare's worker against pgqueuer, procrastinate and a raw
FOR UPDATE SKIP LOCKED loop, on the local cluster, in one run, one worker process each.

    python bench/jobs_bench.py [--jobs 20000] [--latency-jobs 200] [--repeat 2]

For each system, in a scratch database migrated like the tests' template:
- batch enqueue: N no-op jobs in statements of 1,000 (jobs/s);
- drain: the worker process is started on an empty queue and left to settle, then N jobs are
  committed in one statement; drain time runs from that commit until a 20 ms poll finds nothing
  unfinished (the systems' own "done" state, durably written). Runs of the systems are
  interleaved; best of --repeat runs each;
- pickup latency (ours, pgqueuer, procrastinate): an idle worker, single jobs enqueued 20 ms
  apart; from just before the INSERT until the handler starts (handlers write the time to a
  file), p50 and p99.
Ratios printed: ours/pgqueuer and ours/raw (drain). Results also go to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

if __package__ in (None, ""):  # `python bench/jobs_bench.py`: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import scratch_database
from tests.harness.users import create_user

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SYSTEMS = ("ours", "pgqueuer", "procrastinate", "raw")


# ============================================================================ worker processes
def worker_command(system: str, url: str, args: argparse.Namespace, trace: Path | None,
                   ) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "DATABASE_URL": url}
    if system == "ours":
        env["LOG_LEVEL"] = "WARNING"
        if trace:
            env["WORKER_TRACE_FILE"] = str(trace)
        batch = ["--batch", str(args.ours_batch)] if args.ours_batch else []  # else: its default
        return ([sys.executable, "-m", "worker", "--types", "demo.noop", *batch,
                 "--concurrency", str(args.concurrency)], env)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", system, "--url", url,
           "--batch", str(args.batch)]
    if trace:
        cmd += ["--trace", str(trace)]
    return cmd, env


@contextlib.contextmanager
def running_worker(system: str, url: str, args: argparse.Namespace,
                   trace: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    cmd, env = worker_command(system, url, args, trace)
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(args.settle)  # connect, LISTEN, first empty poll
        if proc.poll() is not None:
            raise RuntimeError(f"{system} worker exited early with {proc.returncode}")
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def trace_line(trace: str | None, job_id: object) -> None:
    if trace:
        with open(trace, "a") as f:
            f.write(f"{time.time():.6f} {job_id}\n")


def run_pgqueuer_worker(url: str, batch: int, trace: str | None) -> None:
    import asyncpg
    import uvloop
    from pgqueuer import AsyncpgDriver, PgQueuer

    async def main() -> None:
        conn = await asyncpg.connect(url)
        pgq = PgQueuer(AsyncpgDriver(conn))

        @pgq.entrypoint("noop")
        async def noop(job: Any) -> None:
            trace_line(trace, job.id)

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, pgq.shutdown.set)
        await pgq.run(batch_size=batch, dequeue_timeout=timedelta(seconds=30))

    uvloop.run(main())


def procrastinate_app(url: str) -> Any:
    import procrastinate

    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))


def run_procrastinate_worker(url: str, concurrency: int, trace: str | None) -> None:
    app = procrastinate_app(url)

    @app.task(name="noop", queue="bench", pass_context=True)
    async def noop(context: Any) -> None:
        trace_line(trace, context.job.id)

    async def main() -> None:
        async with app.open_async():
            await app.run_worker_async(queues=["bench"], concurrency=concurrency,
                                       listen_notify=True, delete_jobs="never",
                                       install_signal_handlers=True)

    asyncio.run(main())


def run_raw_worker(url: str, batch: int) -> None:
    """The ceiling: one connection, claim a batch and mark it done in one transaction."""
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    with psycopg.connect(url) as conn:
        while not stop:
            with conn.transaction():
                rows = conn.execute(
                    "select id, payload from bench_raw where status = 'queued' order by id "
                    "limit %s for update skip locked", (batch,)).fetchall()
                for _row in rows:
                    pass  # the no-op handler
                if rows:
                    conn.execute("update bench_raw set status = 'done', done_at = "
                                 "clock_timestamp() where id = any(%s)",
                                 ([r[0] for r in rows],))
            if not rows:
                time.sleep(0.005)


# ============================================================================ per system
class System:
    """Set-up, batch enqueue and the 'all done?' probe of one queue implementation."""

    name = ""
    done_sql = ""

    def __init__(self, url: str, user_id: str) -> None:
        self.url = url
        self.user_id = user_id

    def setup(self, conn: psycopg.Connection) -> None:
        pass

    def reset(self, conn: psycopg.Connection) -> None:
        raise NotImplementedError

    def enqueue(self, conn: psycopg.Connection, n: int) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def single_enqueuer(self, conn: psycopg.Connection) -> Iterator[Callable[[], str]]:
        """A function that enqueues one job through the system's own API, set up once."""
        raise NotImplementedError
        yield


class Ours(System):
    name = "ours"
    done_sql = ("select not exists (select 1 from public.jobs where status = 'queued') "
                "and not exists (select 1 from private.job_leases)")

    def reset(self, conn: psycopg.Connection) -> None:
        conn.execute("delete from public.jobs")
        conn.execute("vacuum analyze public.jobs")
        conn.execute("vacuum analyze private.job_leases")

    def enqueue(self, conn: psycopg.Connection, n: int) -> None:
        conn.execute("select count(*) from private.enqueue_jobs('demo.noop', "
                     "array_fill('{}'::jsonb, array[%s]), %s)", (n, self.user_id))

    @contextlib.contextmanager
    def single_enqueuer(self, conn: psycopg.Connection) -> Iterator[Callable[[], str]]:
        def one() -> str:
            row = conn.execute("select private.enqueue_job('demo.noop', '{}', %s)",
                               (self.user_id,)).fetchone()
            return str(row[0])

        yield one


class Raw(System):
    name = "raw"
    done_sql = "select not exists (select 1 from bench_raw where status = 'queued')"

    def setup(self, conn: psycopg.Connection) -> None:
        conn.execute("create table if not exists bench_raw (id bigserial primary key, "
                     "status text not null default 'queued', payload jsonb not null "
                     "default '{}', created_at timestamptz not null default now(), "
                     "done_at timestamptz)")
        conn.execute("create index if not exists bench_raw_queued on bench_raw (id) "
                     "where status = 'queued'")

    def reset(self, conn: psycopg.Connection) -> None:
        conn.execute("truncate bench_raw")
        conn.execute("vacuum analyze bench_raw")

    def enqueue(self, conn: psycopg.Connection, n: int) -> None:
        conn.execute("insert into bench_raw (payload) select '{}' from generate_series(1, %s)",
                     (n,))


class PgQueuerSystem(System):
    name = "pgqueuer"
    done_sql = "select not exists (select 1 from pgqueuer)"

    def _run(self, fn: Callable[[Any], Any]) -> Any:
        import asyncpg
        from pgqueuer import AsyncpgDriver, Queries

        async def main() -> Any:
            conn = await asyncpg.connect(self.url)
            try:
                return await fn(Queries(AsyncpgDriver(conn)))
            finally:
                await conn.close()

        return asyncio.run(main())

    def setup(self, conn: psycopg.Connection) -> None:
        self._run(lambda q: q.install())

    def reset(self, conn: psycopg.Connection) -> None:
        conn.execute("truncate pgqueuer, pgqueuer_log")
        conn.execute("vacuum analyze pgqueuer")

    def enqueue(self, conn: psycopg.Connection, n: int) -> None:
        self._run(lambda q: q.enqueue(["noop"] * n, [None] * n, [0] * n))

    @contextlib.contextmanager
    def single_enqueuer(self, conn: psycopg.Connection) -> Iterator[Callable[[], str]]:
        """pgqueuer's Queries.enqueue on an event loop of its own, in a thread."""
        import asyncpg
        from pgqueuer import AsyncpgDriver, Queries

        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()

        def call(coro: Any) -> Any:
            return asyncio.run_coroutine_threadsafe(coro, loop).result()

        apg = call(asyncpg.connect(self.url))
        queries = Queries(AsyncpgDriver(apg))
        try:
            yield lambda: str(call(queries.enqueue("noop", None))[0])
        finally:
            call(apg.close())
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)


class Procrastinate(System):
    name = "procrastinate"
    done_sql = ("select not exists (select 1 from procrastinate_jobs "
                "where status in ('todo', 'doing'))")

    def setup(self, conn: psycopg.Connection) -> None:
        app = procrastinate_app(self.url)
        with app.open():
            app.schema_manager.apply_schema()

    def reset(self, conn: psycopg.Connection) -> None:
        conn.execute("truncate procrastinate_jobs cascade")
        conn.execute("vacuum analyze procrastinate_jobs")

    def _task(self) -> tuple[Any, Any]:
        app = procrastinate_app(self.url)

        @app.task(name="noop", queue="bench")
        async def noop() -> None:
            return None

        return app, noop

    def enqueue(self, conn: psycopg.Connection, n: int) -> None:
        app, noop = self._task()
        with app.open():
            noop.batch_defer(*([{}] * n))

    @contextlib.contextmanager
    def single_enqueuer(self, conn: psycopg.Connection) -> Iterator[Callable[[], str]]:
        app, noop = self._task()
        with app.open():
            yield lambda: str(noop.defer())


# ============================================================================ measurements
def enqueue_rate(system: System, conn: psycopg.Connection, n: int) -> float:
    system.reset(conn)
    started = time.perf_counter()
    for done in range(0, n, 1000):
        system.enqueue(conn, min(1000, n - done))
    rate = n / (time.perf_counter() - started)
    system.reset(conn)
    return rate


def drain_rate(system: System, conn: psycopg.Connection, n: int,
               args: argparse.Namespace) -> float:
    system.reset(conn)
    with running_worker(system.name, system.url, args):
        system.enqueue(conn, n)  # one statement: every job appears at its commit
        started = time.perf_counter()
        deadline = started + args.timeout
        while not conn.execute(system.done_sql).fetchone()[0]:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{system.name} did not drain {n} jobs in {args.timeout}s")
            time.sleep(args.poll)
        elapsed = time.perf_counter() - started
    return n / elapsed


def pickup_latency(system: System, conn: psycopg.Connection, n: int, args: argparse.Namespace,
                   tmp: Path) -> dict[str, float]:
    system.reset(conn)
    trace = tmp / f"latency-{system.name}.txt"
    trace.unlink(missing_ok=True)
    sent: dict[str, float] = {}
    round_trips: list[float] = []
    with running_worker(system.name, system.url, args, trace=trace), \
            system.single_enqueuer(conn) as enqueue_one:
        for _ in range(n):
            t = time.time()
            sent[enqueue_one()] = t
            round_trips.append((time.time() - t) * 1000)
            time.sleep(0.02)
        time.sleep(0.5)
    started: dict[str, float] = {}
    for line in trace.read_text().splitlines():
        parts = line.split()
        if system.name == "ours":  # worker/trace.py: time pid job attempt event
            started.setdefault(parts[2], float(parts[0]))
        else:
            started.setdefault(parts[1], float(parts[0]))
    latencies = sorted((started[k] - t) * 1000 for k, t in sent.items() if k in started)
    if len(latencies) < n:
        raise RuntimeError(f"{system.name}: {n - len(latencies)} jobs were never started")
    return {"p50_ms": statistics.median(latencies),
            "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "max_ms": latencies[-1],
            # the INSERT and its commit (an fsync): part of every pickup measured here
            "enqueue_round_trip_p50_ms": statistics.median(round_trips)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"jobs": args.jobs, "batch": args.batch,
                               "ours_batch": args.ours_batch,
                               "concurrency": args.concurrency, "systems": {}}
    tmp = RESULTS / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    with scratch_database("jobs") as url:
        user = create_user(url)
        with psycopg.connect(url, autocommit=True) as conn:
            systems: dict[str, System] = {}
            for cls in (Ours, PgQueuerSystem, Procrastinate, Raw):
                if cls.name in args.systems:
                    systems[cls.name] = cls(url, user.id)
                    systems[cls.name].setup(conn)
            out: dict[str, dict[str, Any]] = {name: {} for name in systems}
            for name, system in systems.items():
                out[name]["enqueue_per_s"] = enqueue_rate(system, conn, args.jobs)
            # drains interleaved (ours, pgqueuer, ..., ours, pgqueuer, ...), best of --repeat:
            # the machine's other load then weighs on every system alike
            for _ in range(args.repeat):
                for name, system in systems.items():
                    n = args.jobs if name != "procrastinate" else min(args.jobs, args.slow_jobs)
                    out[name]["drained_jobs"] = n
                    rate = drain_rate(system, conn, n, args)
                    out[name].setdefault("drain_runs", []).append(round(rate))
                    out[name]["drain_per_s"] = max(out[name]["drain_runs"])
            for name, system in systems.items():
                if name != "raw" and args.latency_jobs:
                    out[name]["pickup"] = pickup_latency(system, conn, args.latency_jobs, args,
                                                         tmp)
                results["systems"][name] = out[name]
                print(f"  {name:14s} {json.dumps(out[name])}", flush=True)
    s = results["systems"]
    if "ours" in s and "pgqueuer" in s:
        results["ours_vs_pgqueuer"] = s["ours"]["drain_per_s"] / s["pgqueuer"]["drain_per_s"]
    if "ours" in s and "raw" in s:
        results["ours_vs_raw"] = s["ours"]["drain_per_s"] / s["raw"]["drain_per_s"]
    results["load_average"] = os.getloadavg()
    return results


def report(results: dict[str, Any]) -> None:
    print(f"\n== job queues: drain of {results['jobs']} no-op jobs by one worker process "
          f"(batch: pgqueuer and raw {results['batch']}, ours "
          f"{results.get('ours_batch') or 'its default, 250'})")
    print(f"  {'system':14s} {'enqueue/s':>10s} {'drain/s':>9s} {'pickup p50':>11s} "
          f"{'p99':>8s} {'(INSERT+commit p50)':>20s}")
    for name, r in results["systems"].items():
        pickup = r.get("pickup")
        p50 = f"{pickup['p50_ms']:.1f} ms" if pickup else "-"
        p99 = f"{pickup['p99_ms']:.1f} ms" if pickup else "-"
        rt = f"{pickup['enqueue_round_trip_p50_ms']:.1f} ms" if pickup else "-"
        note = "" if r["drained_jobs"] == results["jobs"] else f" ({r['drained_jobs']} jobs)"
        print(f"  {name:14s} {r['enqueue_per_s']:10.0f} {r['drain_per_s']:9.0f} {p50:>11s} "
              f"{p99:>8s} {rt:>20s}{note}")
    for key, target in (("ours_vs_pgqueuer", 1.5), ("ours_vs_raw", 0.5)):
        if key in results:
            verdict = "meets" if results[key] >= target else "MISSES"
            print(f"  {key:18s} {results[key]:5.2f}  (target >= {target}: {verdict})")
    ours = results["systems"].get("ours", {}).get("pickup")
    if ours:
        ok = ours["p50_ms"] < 5 and ours["p99_ms"] < 25
        print(f"  ours pickup       p50 {ours['p50_ms']:.1f} ms, p99 {ours['p99_ms']:.1f} ms "
              f"(target < 5 / < 25 ms: {'meets' if ok else 'MISSES'})")
    print(f"  load average during the run: {results['load_average']}")


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--slow-jobs", type=int, default=5000,
                        help="jobs for procrastinate, which fetches one job per query")
    parser.add_argument("--latency-jobs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100,
                        help="batch of pgqueuer (its recommended 100) and of the raw loop")
    parser.add_argument("--ours-batch", type=int, default=0,
                        help="our worker's batch (default: the worker's own default, 250)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--poll", type=float, default=0.02,
                        help="seconds between 'all done?' probes while draining")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--worker", choices=["pgqueuer", "procrastinate", "raw"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--trace", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "pgqueuer":
        run_pgqueuer_worker(args.url, args.batch, args.trace)
        return None
    if args.worker == "procrastinate":
        run_procrastinate_worker(args.url, 10, args.trace)
        return None
    if args.worker == "raw":
        run_raw_worker(args.url, args.batch)
        return None
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    results = run(args)
    report(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "jobs.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
