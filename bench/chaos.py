"""A chaos run (issue 10): mixed jobs, real processes, random kills, a Postgres restart.

    make chaos                                  # 5,000 jobs, 3 workers (2-4 alive), ~2-3 min
    .venv/bin/python -m bench.chaos --jobs 300 --workers 2 --window 30

On a throwaway Postgres cluster of its own (never the shared one: it is restarted), with the
worker (`python -m worker`, two to four processes), the web service (`python -m webhook`) and
the Stripe double, it runs demo jobs (noop, steps with checkpoints, failing-then-succeeding),
AI research (the offline provider; queries that hold PII) and bookings that are paid, fail
then pay, are cancelled unpaid, or are refunded after confirmation. Throughout the window it
SIGKILLs and SIGTERMs random workers (starting replacements), restarts Postgres once, and
posts the double's webhooks to the web service again, shuffled and duplicated.

Afterwards it checks, and counts every violation as an anomaly:
- every job of the run ended (completed, failed or cancelled) and did so exactly once (an audit
  trigger on the run's own database records each move into a final status);
- no job was processing past its lease (sampled every second, and at the end: no lease left);
- each booking has exactly one PaymentIntent and at most one refund at the Stripe double, and
  its final status matches what the run did to it;
- no log line of the workers or the web service holds PII (user emails, the research queries'
  email, phone and card number) or a secret (the Stripe key, the webhook secret, a
  PaymentIntent's client secret).
It prints the figures (jobs, kills, restarts, duplicates, anomalies) and exits 1 on any anomaly.
tests/test_chaos.py runs a small version in `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb

from devstack.processes import stop_process
from devstack.smtp_sink import SmtpSink
from devstack.stripe_double.harness import StripeDoubleHandle, start_stripe_double
from devstack.stripe_double.webhooks import sign

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PARIS_HOTEL = "985c87ec-1d28-4b09-ac8c-3484ea1965c4"
FINAL = ("completed", "failed", "cancelled")
TYPES = ("demo.noop", "demo.steps", "demo.fail", "ai.research", "payment.create_intent",
         "payment.cancel", "payment.refund", "booking.confirm", "email.send")
WEBHOOK_SECRET = "whsec_chaos_" + uuid.uuid4().hex
STRIPE_KEY = "sk_test_chaos_" + uuid.uuid4().hex
LEASE_GRACE_SECONDS = 10  # a lease this long past its end, with workers recovering every 1 s
# what the run does to each booking, and the status it must end in
PLANS = {"pay": "confirmed", "fail_then_pay": "confirmed", "cancel_unpaid": "cancelled",
         "refund": "cancelled"}


@dataclass
class ChaosConfig:
    jobs: int = 5000
    workers: int = 3
    window: float = 90.0  # seconds of chaos (kills, the restart, webhook replays)
    kill_every: tuple[float, float] = (2.0, 6.0)
    settle_timeout: float = 240.0
    seed: int | None = None
    keep: bool = False  # keep the cluster's directory and the logs
    crash: bool = False  # restart Postgres with `-m immediate` (a crash) instead of `fast`


@dataclass
class ChaosReport:
    jobs: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    bookings: int = 0
    sigkills: int = 0
    sigterms: int = 0
    workers_started: int = 0
    restarts: int = 0
    webhooks_posted: int = 0
    duplicates: int = 0
    interrupted: int = 0  # jobs whose worker was killed while it ran them (lease expired)
    resumed: int = 0  # jobs completed on a later attempt than their first
    log_lines: int = 0
    emails: int = 0
    seconds: float = 0.0
    anomalies: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.by_status.items()))
        return [
            f"jobs: {self.jobs} ({statuses}); bookings: {self.bookings}; emails: {self.emails}",
            f"workers started: {self.workers_started}; kills: {self.sigkills + self.sigterms} "
            f"(SIGKILL {self.sigkills}, SIGTERM {self.sigterms}); Postgres restarts: "
            f"{self.restarts}",
            f"jobs interrupted by a kill: {self.interrupted}; completed on a later attempt: "
            f"{self.resumed}",
            f"webhooks re-posted: {self.webhooks_posted} (duplicates: {self.duplicates})",
            f"log lines scanned: {self.log_lines}; seconds: {self.seconds:.0f}",
            f"anomalies: {len(self.anomalies)}",
            *(f"  - {a}" for a in self.anomalies[:50]),
        ]


# ---------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A Postgres 15 cluster of the run's own (needs root, runuser and the Debian binaries)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/wayfare"
        self.pg_ctl = ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                       str(home / "data"), "-l", str(home / "postgres.log")]

    @staticmethod
    def available() -> str | None:
        """None when a cluster can be made here, else why not."""
        if os.geteuid() != 0 or not shutil.which("runuser") or not (PG_BIN / "initdb").exists():
            return "needs root, runuser and the Postgres 15 binaries"
        return None

    def start(self) -> None:
        self.home.chmod(0o755)
        shutil.chown(self.home, "postgres", "postgres")
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D",
                        str(self.home / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                        "--locale=C.UTF-8"], check=True, capture_output=True, timeout=120)
        with (self.home / "data" / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.home}'\nfsync = off\n"
                       "max_connections = 200\n")
        subprocess.run([*self.pg_ctl, "-w", "start"], check=True, capture_output=True,
                       timeout=60)
        with psycopg.connect(self.url.replace("/wayfare", "/postgres"), autocommit=True) as c:
            c.execute("create database wayfare")
        subprocess.run([str(ROOT / "scripts/stack.sh"), "migrate", self.url], check=True,
                       cwd=ROOT, capture_output=True, timeout=300)

    def restart(self, crash: bool = False) -> None:
        subprocess.run([*self.pg_ctl, "-m", "immediate" if crash else "fast", "-w", "restart"],
                       check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        subprocess.run([*self.pg_ctl, "-m", "immediate", "stop"], capture_output=True,
                       timeout=60)


class Proc:
    """A subprocess whose output goes to a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out,
                                          stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def stop(self) -> None:
        stop_process(self.popen)


def base_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_", "WORKER_"))}
    env.update({"DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                            os.environ.get("PYTHONPATH")]))})
    return env


# ---------------------------------------------------------------------- the run
class Run:
    def __init__(self, config: ChaosConfig, home: Path) -> None:
        self.config = config
        self.home = home
        self.rng = random.Random(config.seed)
        self.cluster = Cluster(home / "pg")
        self.report = ChaosReport()
        self.workers: list[Proc] = []
        self.all_workers: list[Proc] = []
        self.web: Proc | None = None
        self.double: StripeDoubleHandle | None = None
        self.smtp: SmtpSink | None = None
        self.users: list[tuple[str, str]] = []  # (id, email)
        self.secrets: set[str] = {WEBHOOK_SECRET, STRIPE_KEY}
        self.pii: set[str] = set()
        self.bookings: dict[str, dict[str, Any]] = {}  # id -> {"user", "plan", "step"}
        self.stop_chaos = threading.Event()
        self.db_down = threading.Event()
        self.lock = threading.Lock()
        self.web_port = free_port()

    # -- setup ----------------------------------------------------------------------------
    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.cluster.url, autocommit=True, connect_timeout=5)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """A query, retried while Postgres restarts."""
        for attempt in range(60):
            try:
                with self.connect() as conn:
                    cur = conn.execute(query, params)
                    return cur.fetchall() if cur.description else []
            except psycopg.OperationalError:
                if attempt == 59:
                    raise
                time.sleep(0.5)
        return []

    def setup(self) -> None:
        self.home.chmod(0o755)  # the postgres user must reach the cluster below it
        (self.home / "pg").mkdir(parents=True)
        self.cluster.start()
        with self.connect() as conn:
            # tuned as operators may: short leases and backoff, so a killed worker's jobs
            # come back within seconds
            conn.execute("update private.job_types set lease_seconds = 6, "
                         "retry_base = interval '1 second', retry_cap = interval '5 seconds'")
            conn.execute("""
                create schema chaos;
                create table chaos.job_final (job_id uuid, old_status text, new_status text,
                                              at timestamptz default clock_timestamp());
                create function chaos.audit() returns trigger language plpgsql as $$
                begin
                    if new.status is distinct from old.status
                       and (new.status in ('completed', 'failed', 'cancelled')
                            or old.status in ('completed', 'failed', 'cancelled')) then
                        insert into chaos.job_final (job_id, old_status, new_status)
                        values (new.id, old.status, new.status);
                    end if;
                    return null;
                end $$;
                create trigger chaos_audit after update of status on public.jobs
                for each row execute function chaos.audit();
            """)
            for n in range(max(4, self.config.jobs // 100)):
                user_id = str(uuid.uuid4())
                email = f"chaos.user{n}.{uuid.uuid4().hex[:6]}@example.com"
                conn.execute("insert into auth.users (id, email, raw_app_meta_data) "
                             "values (%s, %s, %s)",
                             (user_id, email, Jsonb({"provider": "email"})))
                self.users.append((user_id, email))
                self.pii.add(email)
        self.smtp = SmtpSink(self.home / "mail").start()
        self.double = start_stripe_double(
            webhook_url=f"http://127.0.0.1:{self.web_port}/webhooks/stripe",
            webhook_secret=WEBHOOK_SECRET, webhook_retries=30, webhook_retry_delay=0.5)
        env = base_env(self.cluster.url)
        env.update({"PORT": str(self.web_port), "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "STRIPE_API_KEY": STRIPE_KEY})
        self.web = Proc("web", [sys.executable, "-m", "webhook"], env, self.home / "web.log")
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.web_port}/healthz",
                             timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or not self.web.alive():
                raise RuntimeError("the web service did not start: " + self.web.log.read_text())
            time.sleep(0.1)
        for _ in range(self.config.workers):
            self.start_worker()

    def start_worker(self) -> Proc:
        assert self.double is not None
        env = base_env(self.cluster.url)
        env.update({"WORKER_TYPES": ",".join(TYPES), "WORKER_POLL_INTERVAL": "0.5",
                    "WORKER_RECOVER_INTERVAL": "1", "WORKER_SHUTDOWN_TIMEOUT": "3",
                    "STRIPE_API_KEY": STRIPE_KEY, "STRIPE_API_BASE": self.double.url,
                    "AI_BASE_URL": "", "SMTP_URL": self.smtp.url if self.smtp else ""})
        n = len(self.all_workers)
        worker = Proc(f"worker-{n}", [sys.executable, "-m", "worker"], env,
                      self.home / f"worker-{n}.log")
        self.workers.append(worker)
        self.all_workers.append(worker)
        self.report.workers_started += 1
        return worker

    # -- load -----------------------------------------------------------------------------
    def as_user(self, conn: psycopg.Connection[Any], user_id: str, query: str,
                *params: Any) -> Any:
        with conn.transaction():
            conn.execute("select set_config('role', 'authenticated', true), "
                         "set_config('request.jwt.claims', %s, true)",
                         (json.dumps({"sub": user_id, "role": "authenticated"}),))
            return conn.execute(query, params).fetchone()[0]

    def produce(self) -> None:
        """Create the jobs over the first two thirds of the window."""
        total = self.config.jobs
        bookings = max(8, total // 25)  # each makes two or three payment jobs
        research = max(2, total // 10)
        failing = max(2, total // 20)
        steps = max(2, total // 10)
        noop = max(2, total - bookings * 2 - research - failing - steps)
        plan: list[tuple[str, int]] = [("demo.noop", noop), ("demo.steps", steps),
                                       ("demo.fail", failing), ("ai.research", research),
                                       ("booking", bookings)]
        units = [kind for kind, n in plan for _ in range(n)]
        self.rng.shuffle(units)
        waves = 20
        pause = self.config.window * 0.66 / waves
        for w in range(waves):
            chunk = units[w::waves]
            while True:
                try:
                    self._enqueue(chunk)
                    break
                except psycopg.OperationalError:  # Postgres is restarting
                    time.sleep(0.5)
            if self.stop_chaos.wait(pause):
                break

    def _enqueue(self, chunk: list[str]) -> None:
        with self.connect() as conn:
            kinds = Counter(chunk)
            for kind, n in kinds.items():
                user_id, _ = self.rng.choice(self.users)
                if kind == "demo.noop":
                    inputs = [Jsonb({})] * n
                elif kind == "demo.steps":
                    # long enough (0.15-4 s) that kills find them running
                    inputs = [Jsonb({"steps": self.rng.randint(3, 20),
                                     "step_ms": self.rng.randint(50, 200)}) for _ in range(n)]
                elif kind == "demo.fail":
                    inputs = [Jsonb({"fail_times": 1}) for _ in range(n)]
                elif kind == "ai.research":
                    inputs = []
                    for i in range(n):
                        email = f"traveller{uuid.uuid4().hex[:8]}@example.org"
                        phone = f"+44 20 7946 {self.rng.randint(1000, 9999)}"
                        self.pii.update({email, phone})
                        inputs.append(Jsonb({"query": f"Three days in Lisbon {i}, write to "
                                                      f"{email} or call {phone}; card "
                                                      "4111 1111 1111 1111"}))
                else:
                    for _ in range(n):
                        self._book(conn)
                    continue
                conn.execute("select private.enqueue_jobs(%s, %s::jsonb[], %s)",
                             (kind, inputs, user_id))

    def _book(self, conn: psycopg.Connection[Any]) -> None:
        user_id, _ = self.rng.choice(self.users)
        start = self.rng.randint(10, 60)
        body = self.as_user(conn, user_id,
                            "select public.create_booking(%s, current_date + %s, "
                            "current_date + %s)", PARIS_HOTEL, start, start + 2)
        with self.lock:  # every plan at least once, then at random
            plan = (list(PLANS)[len(self.bookings)] if len(self.bookings) < len(PLANS)
                    else self.rng.choices(list(PLANS), weights=(5, 1, 2, 2))[0])
            self.bookings[body["id"]] = {"user": user_id, "plan": plan, "step": 0}

    # -- the customer and Stripe's side ---------------------------------------------------
    def pay(self) -> None:
        """Move each booking along its plan once its PaymentIntent exists."""
        while True:
            try:
                self._pay_round()
            except (psycopg.OperationalError, httpx.HTTPError, OSError):
                pass  # Postgres restarting, or the double busy: the next round goes on
            except psycopg.Error as exc:
                self.anomaly(f"a customer action failed: {type(exc).__name__}: {exc}"[:300])
            if self.stop_chaos.is_set() and (not self._unsettled_payments()
                                             or time.monotonic() > self._pay_deadline):
                return
            time.sleep(0.3)

    _pay_deadline = float("inf")

    def _unsettled_payments(self) -> bool:
        with self.lock:
            return any(b["step"] < 9 for b in self.bookings.values())

    def _pay_round(self) -> None:
        assert self.double is not None
        with self.lock:
            pending = {k: dict(v) for k, v in self.bookings.items() if v["step"] < 9}
        if not pending:
            return
        rows = self.sql("select id::text, status, payment_intent_id from public.bookings "
                        "where id = any(%s::uuid[])", list(pending))
        with self.connect() as conn:
            for booking_id, status, pi in rows:
                b = pending[booking_id]
                step = b["step"]
                if not pi:
                    continue
                if b["plan"] in ("pay", "refund") and step == 0:
                    self.double.succeed(pi)
                    step = 1
                elif b["plan"] == "fail_then_pay" and step == 0:
                    self.double.fail(pi, "card_declined")
                    step = 1
                elif b["plan"] == "fail_then_pay" and step == 1 and status == "payment_failed":
                    self.double.succeed(pi)
                    step = 2
                elif b["plan"] == "cancel_unpaid" and step == 0:
                    self.as_user(conn, b["user"], "select public.cancel_booking(%s)", booking_id)
                    step = 1
                elif b["plan"] == "refund" and step == 1 and status == "confirmed":
                    self.as_user(conn, b["user"], "select public.cancel_booking(%s)", booking_id)
                    step = 2
                if status == PLANS[b["plan"]] and (b["plan"] != "refund" or step == 2):
                    step = 9
                with self.lock:
                    self.bookings[booking_id]["step"] = step

    def replay_webhooks(self) -> None:
        """Post the double's events to the web service again: shuffled, some twice or more."""
        assert self.double is not None
        url = f"http://127.0.0.1:{self.web_port}/webhooks/stripe"
        with httpx.Client(timeout=10) as client:
            while not self.stop_chaos.wait(self.rng.uniform(0.2, 0.8)):
                try:
                    events = self.double.events()
                except (OSError, httpx.HTTPError):
                    continue
                if not events:
                    continue
                batch = self.rng.sample(events, min(len(events), self.rng.randint(1, 8)))
                batch += self.rng.sample(batch, self.rng.randint(0, len(batch)))
                self.rng.shuffle(batch)
                for event in batch:
                    payload = json.dumps(event)
                    headers = {"Content-Type": "application/json",
                               "Stripe-Signature": sign(payload, WEBHOOK_SECRET,
                                                        int(time.time()))}
                    try:
                        response = client.post(url, content=payload.encode(), headers=headers)
                    except httpx.HTTPError:
                        continue
                    self.report.webhooks_posted += 1
                    self.report.duplicates += 1  # every re-post is a duplicate delivery
                    if response.status_code >= 400 and response.status_code != 503:
                        self.anomaly(f"webhook replay answered {response.status_code}: "
                                     f"{response.text[:200]}")

    # -- chaos ----------------------------------------------------------------------------
    def chaos(self) -> None:
        restart_at = time.monotonic() + self.config.window * self.rng.uniform(0.35, 0.6)
        end = time.monotonic() + self.config.window
        while time.monotonic() < end:
            if self.stop_chaos.wait(self.rng.uniform(*self.config.kill_every)):
                return
            if self.report.restarts == 0 and time.monotonic() >= restart_at:
                self.db_down.set()
                try:
                    self.cluster.restart(self.config.crash)
                finally:
                    self.db_down.clear()
                self.report.restarts += 1
                continue
            alive = [w for w in self.workers if w.alive()]
            if alive:
                victim = self.rng.choice(self.busy(alive) or alive)
                if self.rng.random() < 0.5:
                    victim.signal(signal.SIGKILL)
                    self.report.sigkills += 1
                else:
                    victim.signal(signal.SIGTERM)
                    self.report.sigterms += 1
                self.workers.remove(victim)
            # two to four alive: replacements for the victim, sometimes one more or fewer
            target = self.rng.randint(2, 4)
            while len([w for w in self.workers if w.alive()]) < target:
                self.start_worker()
            self.workers = [w for w in self.workers if w.alive()]
        if self.report.restarts == 0:
            self.cluster.restart(self.config.crash)
            self.report.restarts += 1

    def busy(self, workers: list[Proc]) -> list[Proc]:
        """The workers that hold a lease now (worker ids are host:pid:random)."""
        try:
            with self.connect() as conn:
                held = {r[0] for r in conn.execute(
                    "select distinct split_part(worker_id, ':', 2) from private.job_leases")}
        except psycopg.OperationalError:
            return []
        return [w for w in workers if str(w.popen.pid) in held]

    def watch_leases(self) -> None:
        """Sample: no job may be processing long past its lease."""
        while not self.stop_chaos.wait(1.0):
            if self.db_down.is_set():
                continue
            with contextlib.suppress(psycopg.OperationalError):
                self.late_leases()

    def late_leases(self) -> None:
        with self.connect() as conn:
            rows = conn.execute(
                "select l.job_id::text, extract(epoch from now() - l.locked_until)::int "
                "from private.job_leases as l "
                "where l.locked_until < now() - make_interval(secs => %s)",
                (LEASE_GRACE_SECONDS,)).fetchall()
        for job_id, late in rows:
            self.anomaly(f"job {job_id} processing {late} s past its lease")

    def anomaly(self, text: str) -> None:
        with self.lock:
            self.report.anomalies.append(text)

    # -- the checks -----------------------------------------------------------------------
    def settle(self) -> None:
        deadline = time.monotonic() + self.config.settle_timeout
        self._pay_deadline = deadline
        while time.monotonic() < deadline:
            open_jobs = self.sql("select count(*) from public.jobs where type = any(%s) "
                                 "and status not in ('completed', 'failed', 'cancelled')",
                                 list(TYPES))[0][0]
            if open_jobs == 0 and not self._unsettled_payments():
                return
            while len([w for w in self.workers if w.alive()]) < 2:
                self.start_worker()
            time.sleep(0.5)

    def check(self) -> None:
        assert self.double is not None
        r = self.report
        statuses = self.sql("select status, count(*) from public.jobs where type = any(%s) "
                            "group by status", list(TYPES))
        r.by_status = Counter({s: n for s, n in statuses})
        r.jobs = sum(r.by_status.values())
        for status, n in r.by_status.items():
            if status not in FINAL:
                self.anomaly(f"{n} jobs still {status}")
        for job_id, n, moves in self.sql(
                "select f.job_id::text, count(*), string_agg(f.old_status || '->' || "
                "f.new_status, ' ') from chaos.job_final as f group by f.job_id "
                "having count(*) <> 1"):
            self.anomaly(f"job {job_id} ended {n} times: {moves}")
        ended = self.sql("select count(distinct job_id) from chaos.job_final")[0][0]
        if ended != sum(n for s, n in r.by_status.items() if s in FINAL):
            self.anomaly(f"{ended} jobs recorded ending, {r.jobs} finished")
        r.interrupted = self.sql("select count(distinct job_id) from private.job_errors "
                                 "where error like 'lease expired%%'")[0][0]
        r.resumed = self.sql("select count(*) from public.jobs where type = any(%s) and "
                             "status = 'completed' and attempts > 1", list(TYPES))[0][0]
        self.late_leases()
        for (n,) in self.sql("select count(*) from private.job_leases"):
            if n:
                self.anomaly(f"{n} leases left after the run")
        for (n,) in self.sql("select count(*) from public.jobs where type = 'demo.steps' and "
                             "status = 'completed' and (result->>'steps')::int <> "
                             "(input->>'steps')::int"):
            if n:
                self.anomaly(f"{n} demo.steps jobs completed without all their steps")
        # a failed job must have used up its attempts (each one failed or was killed);
        # anything else failed it wrongly
        for job_type, n in self.sql(
                "select j.type, count(*) from public.jobs as j where j.type = any(%s) and "
                "j.status = 'failed' and (select count(*) from private.job_errors as e "
                "where e.job_id = j.id) < j.max_attempts group by j.type", list(TYPES)):
            self.anomaly(f"{n} {job_type} jobs failed with attempts left")
        # Stripe's side
        intents = self.double.payment_intents()
        refunds = self.double.refunds()
        r.bookings = len(self.bookings)
        per_booking = Counter(pi["metadata"].get("booking_id") for pi in intents)
        refunds_per_pi = Counter(rf["payment_intent"] for rf in refunds)
        rows = {b: (s, pi) for b, s, pi in self.sql(
            "select id::text, status, payment_intent_id from public.bookings")}
        for booking_id, b in self.bookings.items():
            if per_booking[booking_id] != 1:
                self.anomaly(f"booking {booking_id}: {per_booking[booking_id]} PaymentIntents")
            status, pi = rows.get(booking_id, (None, None))
            if status != PLANS[b["plan"]]:
                self.anomaly(f"booking {booking_id} ({b['plan']}) ended {status}")
            n = refunds_per_pi[pi] if pi else 0
            if n > 1 or (b["plan"] == "refund") != (n == 1):
                self.anomaly(f"booking {booking_id} ({b['plan']}): {n} refunds")
        self.secrets.update(pi["client_secret"] for pi in intents if pi.get("client_secret"))
        # booking emails: each outbox row sent, at least once and at most twice (a worker
        # killed between sending and recording it sends again), always with its Message-ID
        if self.smtp is not None:
            ids = Counter(str(m["Message-ID"]) for m in self.smtp.messages())
            r.emails = sum(ids.values())
            for dedupe_key, status in self.sql("select dedupe_key, status "
                                               "from private.email_outbox"):
                sent = sum(n for mid, n in ids.items() if f"<{dedupe_key}@" in mid)
                if status != "sent" or not 1 <= sent <= 2:
                    self.anomaly(f"email {dedupe_key}: {status}, sent {sent} times")
        # the logs
        needles = sorted(self.secrets | self.pii | {"4111 1111 1111 1111", "4111111111111111"})
        for proc in [*self.all_workers, *([self.web] if self.web else [])]:
            for number, line in enumerate(proc.log.read_text(errors="replace").splitlines(), 1):
                r.log_lines += 1
                found = [n for n in needles if n in line]
                if found:
                    kind = "a secret" if set(found) & self.secrets else "PII"
                    self.anomaly(f"{proc.name} log line {number} holds {kind}")

    # -- everything -----------------------------------------------------------------------
    def plant_violations(self) -> list[str]:
        """Break each rule once, then check again: what the checks found (for the test that
        shows they can fail). Runs after `check`, with the cluster still up."""
        assert self.double is not None
        for worker in self.all_workers:  # nobody may repair what is planted
            worker.signal(signal.SIGKILL)
            worker.popen.wait(10)
        job = self.sql("select id::text from public.jobs where type = 'demo.noop' "
                       "and status = 'completed' limit 1")[0][0]
        self.sql("update public.jobs set status = 'queued', completed_at = null where id = %s",
                 job)
        self.sql("update public.jobs set status = 'completed', completed_at = now() "
                 "where id = %s", job)
        other = self.sql("select id from public.jobs where type = 'demo.steps' "
                         "and status = 'completed' limit 1")[0][0]
        self.sql("update public.jobs set status = 'processing', completed_at = null "
                 "where id = %s", other)
        self.sql("insert into private.job_leases (job_id, worker_id, attempt, lease_seconds, "
                 "locked_until) values (%s, 'ghost:1:x', 1, 5, now() - interval '1 minute')",
                 other)
        self.sql("update private.email_outbox set status = 'pending' "
                 "where id = (select id from private.email_outbox limit 1)")
        booking_id = next(iter(self.bookings))
        self.double.stripe_client(STRIPE_KEY).v1.payment_intents.create(params={
            "amount": 100, "currency": "eur", "metadata": {"booking_id": booking_id}})
        with self.all_workers[0].log.open("a") as log:
            log.write(json.dumps({"event": "oops", "who": self.users[0][1]}) + "\n")
        if self.web:
            with self.web.log.open("a") as log:
                log.write(f"key {STRIPE_KEY}\n")
        self.report = ChaosReport()
        self.check()
        return self.report.anomalies

    def run(self, then: Callable[[Run], Any] | None = None) -> ChaosReport:
        started = time.monotonic()
        report = self.report
        threads = [threading.Thread(target=fn, name=fn.__name__, daemon=True)
                   for fn in (self.produce, self.pay, self.replay_webhooks, self.watch_leases)]
        try:
            self.setup()
            for t in threads:
                t.start()
            self.chaos()
            self.stop_chaos.set()
            threads[0].join(60)  # the producer finishes its wave
            self.settle()
            threads[1].join(30)
            self.check()
            report = self.report
            if then is not None:
                then(self)
        finally:
            self.stop_chaos.set()
            for w in self.all_workers:
                w.signal(signal.SIGTERM)
            for w in self.all_workers:
                w.stop()
            if self.web:
                self.web.stop()
            if self.double:
                self.double.stop()
            if self.smtp:
                self.smtp.stop()
            self.cluster.stop()
        report.seconds = time.monotonic() - started
        return report


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="wayfare-chaos-"))
    try:
        yield home
    finally:
        if keep:
            print(f"kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def run_chaos(config: ChaosConfig, then: Callable[[Run], Any] | None = None) -> ChaosReport:
    """Run it; `then(run)` runs after the checks, before everything is stopped."""
    with workdir(config.keep) as home:
        return Run(config, home).run(then)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n")[0])
    p.add_argument("--jobs", type=int, default=5000)
    p.add_argument("--workers", type=int, default=3, choices=(2, 3, 4))
    p.add_argument("--window", type=float, default=90.0, help="seconds of chaos")
    p.add_argument("--seed", type=int)
    p.add_argument("--keep", action="store_true", help="keep the cluster and logs")
    p.add_argument("--crash", action="store_true",
                   help="restart Postgres as after a crash (-m immediate), not a fast shutdown")
    args = p.parse_args(argv)
    why = Cluster.available()
    if why:
        print(f"chaos: cannot run: {why}", file=sys.stderr)
        return 2
    report = run_chaos(ChaosConfig(jobs=args.jobs, workers=args.workers, window=args.window,
                                   seed=args.seed, keep=args.keep, crash=args.crash))
    print("\n".join(["chaos run:", *report.lines()]))
    return 1 if report.anomalies else 0


if __name__ == "__main__":
    sys.exit(main())
