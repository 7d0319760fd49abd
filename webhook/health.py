"""Probes: `GET /healthz` (the process answers; no database) and `GET /readyz` (the database
answers `select 1` within a second; 503 otherwise, so a load balancer stops sending)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from wayfare.errors import ApiError
from webhook.db import Database, DatabaseTimeout, DatabaseUnavailable

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> ResponseReturnValue:
    database: Database = current_app.extensions["wayfare.db"]
    try:
        ready = database.ping()
    except (DatabaseUnavailable, DatabaseTimeout):
        ready = False
    if not ready:
        raise ApiError("INTERNAL", "The database is not reachable.", status=503,
                       headers={"Retry-After": "5"})
    return jsonify(status="ready")
