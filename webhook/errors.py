"""Every error of the web service answered with the error envelope of docs/errors.md
(wayfare.errors): our own ApiErrors, Werkzeug's HTTP errors (404, 405, 413, ...) and anything
unexpected (500 INTERNAL, logged with the request id; nothing internal reaches the client).
Database errors arrive already as ApiErrors (wayfare/db.py maps them): a query cancelled by
its route's statement time limit is 408 TIMEOUT, a database out of reach 503, both retryable
with Retry-After."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from wayfare.errors import ApiError, envelope
from wayfare.logs import get_logger
from webhook.request_ids import current_request_id, current_trace_id

log = get_logger("webhook.errors")


def error_response(error: ApiError) -> Response:
    response = jsonify(envelope(error, request_id=current_request_id(),
                                trace_id=current_trace_id()))
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def from_http_exception(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    if status == 404:
        return ApiError("NOT_FOUND", "No such endpoint.")
    if status == 405:
        allowed = ", ".join(sorted(exc.valid_methods or [])) if isinstance(
            exc, MethodNotAllowed) else ""
        return ApiError("VALIDATION_FAILED", "This method is not allowed here.", status=405,
                        headers={"Allow": allowed} if allowed else None)
    if status == 413:
        return ApiError("VALIDATION_FAILED", "The request body is too large.", field="body",
                        status=413)
    if 400 <= status < 500:
        return ApiError("VALIDATION_FAILED", "The request is not valid.", status=status)
    return ApiError("INTERNAL", status=status)


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return error_response(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return error_response(from_http_exception(exc))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.error("http.unexpected_error", error_type=type(exc).__name__, exc_info=exc)
        return error_response(ApiError("INTERNAL"))
