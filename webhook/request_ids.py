"""Request ids (docs/api.md#conventions) for the web service.

`X-Request-ID` is taken from the request when it is 8-128 characters of [A-Za-z0-9._-], else
a new UUID; it goes back on every response (errors too) and into every log line of the
request. A W3C `traceparent` header gives the trace id; without one the trace id is the
request id.
"""

from __future__ import annotations

import re
import uuid
from contextlib import AbstractContextManager
from typing import Any

from flask import Flask, Response, g, has_request_context, request

from wayfare.logs import log_context

HEADER = "X-Request-ID"
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,128}")
TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")


def request_id_from(value: str | None) -> str:
    """The client's id when it is acceptable, else a new UUID."""
    if value is not None and REQUEST_ID.fullmatch(value):
        return value
    return str(uuid.uuid4())


def trace_id_from(traceparent: str | None) -> str | None:
    """The trace id of a valid W3C traceparent (version 00-fe; ids not all zeros)."""
    if not traceparent:
        return None
    match = TRACEPARENT.fullmatch(traceparent.strip().lower())
    if match is None:
        return None
    version, trace_id, parent_id, _flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return trace_id


def current_request_id() -> str:
    """This request's id (outside a request, or before it was assigned: a new one)."""
    if has_request_context():
        if "request_id" not in g:  # an error before before_request ran: make one, keep it
            g.request_id = str(uuid.uuid4())
        return str(g.request_id)
    return str(uuid.uuid4())


def current_trace_id() -> str | None:
    return g.get("trace_id") if has_request_context() else None


def init_app(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        g.request_id = request_id_from(request.headers.get(HEADER))
        g.trace_id = trace_id_from(request.headers.get("traceparent")) or g.request_id
        context: AbstractContextManager[Any] = log_context(
            request_id=g.request_id, trace_id=g.trace_id
        )
        context.__enter__()
        g.log_context = context

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers[HEADER] = current_request_id()
        return response

    @app.teardown_request
    def leave_log_context(_exc: BaseException | None) -> None:
        context = g.pop("log_context", None)
        if context is not None:
            context.__exit__(None, None, None)
