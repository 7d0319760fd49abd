"""The error contract (docs/errors.md) for the Python services.

The catalogue mirrors private.error_codes in Postgres (a test keeps the two equal). The web
service answers errors as

    {"error": {"type", "code", "message", "field", "retryable"},
     "metadata": {"requestId", "traceId", "timestamp"}}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class ErrorCode:
    code: str
    http_status: int
    error_type: str
    retryable: bool
    default_message: str
    default_hint: str | None = None


CATALOGUE: dict[str, ErrorCode] = {e.code: e for e in (
    ErrorCode("VALIDATION_FAILED", 400, "validation", False, "The request is not valid.",
              "Correct the field named in details.field and try again."),
    ErrorCode("UNAUTHORIZED", 401, "auth", False, "Sign-in required.",
              "Sign in again or refresh your access token."),
    ErrorCode("FORBIDDEN", 403, "auth", False, "You do not have permission to do this."),
    ErrorCode("NOT_FOUND", 404, "not_found", False, "Not found."),
    ErrorCode("IDEMPOTENCY_KEY_INVALID", 400, "validation", False,
              "The Idempotency-Key is not valid.",
              "Use 1 to 255 printable ASCII characters, for example a UUID."),
    ErrorCode("IDEMPOTENCY_KEY_REUSED", 422, "validation", False,
              "This Idempotency-Key was already used with different data.",
              "Use a new key for a new request."),
    ErrorCode("IDEMPOTENCY_KEY_IN_USE", 409, "conflict", True,
              "A request with this Idempotency-Key is still running.",
              "Retry in a moment with the same key."),
    ErrorCode("INVALID_STATE", 409, "conflict", False,
              "This action is not allowed in the current state."),
    ErrorCode("RATE_LIMITED", 429, "rate_limit", True, "Too many requests.",
              "Wait for the number of seconds in Retry-After, then retry."),
    ErrorCode("TIMEOUT", 408, "timeout", True,
              "The request ran past its time limit; nothing was changed.",
              "Try again in a moment."),
    ErrorCode("INTERNAL", 500, "server", True, "Something went wrong on our side.",
              "Retry later; quote the requestId if it persists."),
)}


class ApiError(Exception):
    """An error the web service answers with the error envelope (docs/errors.md)."""

    def __init__(self, code: str, message: str | None = None, *, field: str | None = None,
                 headers: dict[str, str] | None = None, status: int | None = None) -> None:
        self.spec = CATALOGUE.get(code, CATALOGUE["INTERNAL"])
        self.message = message or self.spec.default_message
        self.field = field
        self.headers = headers or {}
        self.status = status or self.spec.http_status
        super().__init__(f"{self.spec.code}: {self.message}")

    @property
    def code(self) -> str:
        return self.spec.code


def envelope(error: ApiError, *, request_id: str, trace_id: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "type": error.spec.error_type,
            "code": error.spec.code,
            "message": error.message,
            "field": error.field,
            "retryable": error.spec.retryable,
        },
        "metadata": {
            "requestId": request_id,
            "traceId": trace_id or request_id,
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
        },
    }
