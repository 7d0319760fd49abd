"""`python -m worker [--concurrency N] [--batch N] [--poll-interval S] [--types a,b]`

Runs until SIGTERM or SIGINT (a second one stops without waiting for running jobs).
Settings: worker/config.py and docs/jobs.md.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType

from wayfare.config import ConfigError
from wayfare.logs import configure_logging, get_logger
from worker import config as worker_config
from worker import registry
from worker.service import Worker


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging("worker")
    log = get_logger("worker")
    try:
        config = worker_config.load(argv)
    except ConfigError as exc:
        log.error("worker.config_error", error=str(exc))
        return 2
    configure_logging("worker", config.log_level)
    handlers = registry.registered()
    if config.types:
        missing = [t for t in config.types if t not in handlers]
        if missing:
            log.error("worker.no_handler", types=missing)
            return 2
        handlers = {t: handlers[t] for t in config.types}
    worker = Worker(config, handlers)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker.signal", signal=signal.Signals(signum).name)
        worker.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return worker.run()


if __name__ == "__main__":
    sys.exit(main())
