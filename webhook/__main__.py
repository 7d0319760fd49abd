"""`python -m webhook`: the web service under gunicorn (one process, gthread workers).

Environment: PORT (default 8000), DATABASE_URL, STRIPE_WEBHOOK_SECRET (comma-separated during
a rotation); WEB_THREADS (default 8) and WEB_CONCURRENCY (processes, default 1: Prometheus
metrics are per process) tune it.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from wayfare.config import Settings
from wayfare.logs import configure_logging, get_logger
from webhook.app import create_app

log = get_logger("webhook")


class WebhookServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        configure_logging("webhook", os.environ.get("LOG_LEVEL", "INFO"))
        return create_app()


def options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"0.0.0.0:{settings.port}",
        "workers": int(os.environ.get("WEB_CONCURRENCY", "1")),
        "worker_class": "gthread",
        "threads": int(os.environ.get("WEB_THREADS", "8")),
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "wayfare-webhook",
    }


def main() -> None:
    configure_logging("webhook", os.environ.get("LOG_LEVEL", "INFO"))
    settings = Settings.from_env()
    log.info("webhook.starting", port=settings.port,
             signing_keys=len(settings.stripe_webhook_secrets))
    WebhookServer(options(settings)).run()


if __name__ == "__main__":
    main()
