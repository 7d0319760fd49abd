"""The Flask app factory of the web service."""

from __future__ import annotations

from flask import Flask

from wayfare.config import Settings
from wayfare.logs import get_logger
from webhook import (
    db_metrics,
    errors,
    health,
    metrics,
    monitoring,
    ops,
    request_ids,
    stripe_webhooks,
)
from webhook.db import Database

MAX_BODY_BYTES = 256 * 1024  # Stripe events are a few KiB; larger bodies get 413
log = get_logger("webhook")


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Flask:
    settings = settings or Settings.from_env(service="web")
    app = Flask("webhook")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["wayfare.settings"] = settings
    if database is None:
        database = Database(settings.database_url)
        database.open()
    app.extensions["wayfare.db"] = database

    # order matters: request ids first (errors and logs use them), then metrics
    request_ids.init_app(app)
    metrics.init_app(app)
    db_metrics.init_app(app, lambda: ops.snapshot(database))
    monitoring.init_app(app, database)  # API latency by endpoint, query times per RPC
    errors.init_app(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(stripe_webhooks.blueprint)
    app.register_blueprint(ops.blueprint)
    if not settings.stripe_webhook_secrets:
        log.warning("stripe.webhook_secret_missing")
    return app
