"""`python -m worker [--concurrency N] [--batch N] [--poll-interval S] [--types a,b]`

Runs until SIGTERM or SIGINT (a second one stops without waiting for running jobs).
Settings: worker/config.py and docs/jobs.md.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence

from wayfare import errortracking
from wayfare.config import ConfigError
from wayfare.logs import StructuredLogger, configure_logging, get_logger
from worker import config as worker_config
from worker import registry
from worker.handlers import demo, email, payments, research
from worker.service import Worker

# The handler modules the worker runs; importing each registers its job types.
# Add a module here (and nowhere else) to give the worker a new handler.
HANDLER_MODULES = (demo, email, payments, research)


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging("worker")
    log = get_logger("worker")
    try:
        config = worker_config.load(argv)
    except ConfigError as exc:
        log.error("worker.config_error", error=str(exc))
        return 2
    configure_logging("worker", config.log_level)
    errortracking.init("worker")  # Sentry when SENTRY_DSN is set (wayfare/errortracking.py)
    handlers = registry.registered()
    if config.types:
        missing = [t for t in config.types if t not in handlers]
        if missing:
            log.error("worker.no_handler", types=missing)
            return 2
        handlers = {t: handlers[t] for t in config.types}
    worker = Worker(config, handlers)
    return run_until_signalled(worker, log)


def run_until_signalled(worker: Worker, log: StructuredLogger) -> int:
    """Run the worker on its own thread; take SIGTERM/SIGINT here, synchronously.

    A Python signal handler runs in the main thread between two bytecodes, possibly while
    that thread holds a lock the handler then needs (Event.set inside Event.clear: a
    self-deadlock that left a worker hanging on SIGTERM). So no handler at all: the signals
    are blocked (threads started later inherit that) and the main thread waits for them.
    """
    signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    outcome: list[int] = []
    runner = threading.Thread(target=lambda: outcome.append(worker.run()), name="worker-run")
    runner.start()
    while runner.is_alive():
        received = signal.sigtimedwait(signals, 0.5)
        if received is not None:
            log.info("worker.signal", signal=signal.Signals(received.si_signo).name)
            worker.request_stop()
    runner.join()
    return outcome[0] if outcome else 1


if __name__ == "__main__":
    sys.exit(main())
