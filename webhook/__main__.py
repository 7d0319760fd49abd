"""`python -m webhook`: the web service under gunicorn (one process, gthread workers).

Environment: PORT (default 8000), WAYFARE_WEB_HOST (the address to bind, default 127.0.0.1:
set 0.0.0.0 when a proxy or load balancer on another host forwards to it), DATABASE_URL,
STRIPE_WEBHOOK_SECRET (comma-separated during a rotation), METRICS_TOKEN (when set, /metrics
wants `Authorization: Bearer <it>`); WEB_THREADS (default 8) and WEB_CONCURRENCY (processes,
default 1: Prometheus metrics are per process) tune it. With WAYFARE_ENV=production it refuses
to start on unsafe defaults (wayfare/config.py) and exits 2 with a message saying which.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from wayfare import errortracking, stripe_version
from wayfare.config import ConfigError, Settings
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
        errortracking.init("web")  # in each gunicorn worker: Sentry when SENTRY_DSN is set
        return create_app()


def options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.web_host}:{settings.port}",
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


def main() -> int:
    configure_logging("webhook", os.environ.get("LOG_LEVEL", "INFO"))
    try:
        settings = Settings.from_env(service="web")
    except ConfigError as exc:
        log.error("webhook.config_error", error=str(exc))
        print(f"wayfare web service: {exc}", file=sys.stderr)
        return 2
    log.info("webhook.starting", host=settings.web_host, port=settings.port,
             environment=settings.environment,
             signing_keys=len(settings.stripe_webhook_secrets),
             metrics_token=settings.metrics_token is not None)
    if os.environ.get("STRIPE_API_KEY"):  # the endpoint's Stripe API version (docs/deploy.md)
        stripe_version.check_endpoints(os.environ["STRIPE_API_KEY"], settings.stripe_api_base)
    WebhookServer(options(settings)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
