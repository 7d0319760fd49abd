"""The worker's settings: command-line flags win over the environment, which wins over the
defaults. DATABASE_URL comes from wayfare.config.Settings (python-dotenv reads .env)."""

from __future__ import annotations

import argparse
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from wayfare.config import ConfigError, Settings


@dataclass(frozen=True)
class WorkerConfig:
    database_url: str = field(repr=False)
    concurrency: int = 4  # general slots
    payment_slots: int = 2  # slots only the payments lane may use (0: no lanes)
    batch: int = 250
    claimers: int = 3
    poll_interval: float = 1.0
    types: tuple[str, ...] = ()  # empty: every type that has a handler
    shutdown_timeout: float = 20.0
    db_role: str = "wayfare_worker"  # empty: do not `set role`
    recover_interval: float = 10.0
    statement_timeout: float = 30.0  # seconds any one statement of the worker may run; 0: none
    worker_id: str = ""
    log_level: str = "INFO"

    @property
    def pool_size(self) -> int:
        # the claim loops, heartbeats, and one per handler thread for its own writes
        return self.concurrency + self.payment_slots + self.claimers + 1


def default_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _number(env: Mapping[str, str], name: str, default: float, kind: type = float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number") from exc


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m worker", description="Wayfare's job worker.")
    p.add_argument("--concurrency", type=int, help="handler threads (WORKER_CONCURRENCY, 4)")
    p.add_argument("--payment-slots", type=int,
                   help="handler threads only payment and booking jobs may use "
                        "(WORKER_PAYMENT_SLOTS, 2; 0: none reserved)")
    p.add_argument("--batch", type=int, help="most jobs claimed at once (WORKER_BATCH, 250)")
    p.add_argument("--claimers", type=int,
                   help="claim loops, each with a connection (WORKER_CLAIMERS, 3)")
    p.add_argument("--poll-interval", type=float,
                   help="seconds between polls when idle (WORKER_POLL_INTERVAL, 1.0)")
    p.add_argument("--types", help="comma-separated job types (WORKER_TYPES, all with handlers)")
    p.add_argument("--shutdown-timeout", type=float,
                   help="seconds in-flight jobs get on SIGTERM (WORKER_SHUTDOWN_TIMEOUT, 20)")
    return p


def load(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
         ) -> WorkerConfig:
    args = parser().parse_args(argv)
    settings = Settings.from_env(environ, service="worker")
    env = os.environ if environ is None else environ
    concurrency = args.concurrency or int(_number(env, "WORKER_CONCURRENCY", 4, int))
    payment_slots = (args.payment_slots if args.payment_slots is not None
                     else int(_number(env, "WORKER_PAYMENT_SLOTS", 2, int)))
    batch = args.batch or int(_number(env, "WORKER_BATCH", 250, int))
    claimers = args.claimers or int(_number(env, "WORKER_CLAIMERS", 3, int))
    poll = args.poll_interval or _number(env, "WORKER_POLL_INTERVAL", 1.0)
    shutdown = (args.shutdown_timeout if args.shutdown_timeout is not None
                else _number(env, "WORKER_SHUTDOWN_TIMEOUT", 20.0))
    types_text = args.types if args.types is not None else env.get("WORKER_TYPES", "")
    if not 1 <= concurrency <= 256:
        raise ConfigError("WORKER_CONCURRENCY must be from 1 to 256")
    statement_timeout = _number(env, "WORKER_STATEMENT_TIMEOUT", 30.0)
    if not 0 <= statement_timeout <= 3600:
        raise ConfigError("WORKER_STATEMENT_TIMEOUT must be from 0 to 3600 seconds")
    if not 0 <= payment_slots <= 64:
        raise ConfigError("WORKER_PAYMENT_SLOTS must be from 0 to 64")
    if not 1 <= batch <= 1000:
        raise ConfigError("WORKER_BATCH must be from 1 to 1000")
    if not 1 <= claimers <= 8:
        raise ConfigError("WORKER_CLAIMERS must be from 1 to 8")
    if poll <= 0 or shutdown < 0:
        raise ConfigError("WORKER_POLL_INTERVAL must be positive, WORKER_SHUTDOWN_TIMEOUT >= 0")
    return WorkerConfig(
        database_url=settings.database_url,
        concurrency=concurrency,
        payment_slots=payment_slots,
        batch=batch,
        claimers=claimers,
        poll_interval=poll,
        types=tuple(t.strip() for t in types_text.split(",") if t.strip()),
        shutdown_timeout=shutdown,
        db_role=env.get("WORKER_DB_ROLE", "wayfare_worker").strip(),
        recover_interval=_number(env, "WORKER_RECOVER_INTERVAL", 10.0),
        statement_timeout=statement_timeout,
        worker_id=env.get("WORKER_ID") or default_worker_id(),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
    )
