"""Structured logs: one JSON object a line, with request and job ids, never a secret or PII.

    log = get_logger("worker")
    with log_context(request_id=job.request_id, job_id=job.id):
        log.info("job.claimed", job_type=job.type, attempt=job.attempts)

Every string value passes through the PII redactor, and keys that name secrets are dropped,
so a careless field cannot leak an email, a card number or a token into the logs.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "log_context", default=None
)
SECRET_KEYS = re.compile(r"(secret|password|token|api_key|apikey|authorization|cookie|signature)",
                         re.I)
BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
STRIPE_KEY = re.compile(r"\b(sk|rk|whsec|pk)_(test|live)?_?[A-Za-z0-9]{6,}\b")
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\b")


def _load_redactor() -> Callable[[str], str]:
    try:
        from wayfare.redact import redact
    except ImportError:  # pragma: no cover - the redactor ships with the package
        return lambda text: text
    return redact


_redact = _load_redactor()


def scrub(value: Any) -> Any:
    """Redact PII and secrets from a value about to be logged."""
    if isinstance(value, str):
        value = BEARER.sub(r"\1[SECRET]", value)
        value = JWT.sub("[SECRET]", value)
        value = STRIPE_KEY.sub("[SECRET]", value)
        return _redact(value)
    if isinstance(value, dict):
        return {k: "[SECRET]" if SECRET_KEYS.search(str(k)) else scrub(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "event": record.getMessage(),
        }
        entry.update(_context.get() or {})
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(scrub(entry), default=str)


class StructuredLogger(logging.LoggerAdapter):
    """`log.info("event.name", key=value, ...)`: keyword arguments become JSON fields."""

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        exc_info = kwargs.pop("exc_info", None)
        fields = {k: v for k, v in kwargs.items() if k not in ("stack_info", "stacklevel")}
        if self.isEnabledFor(level):
            self.logger.log(level, msg, *args, exc_info=exc_info, extra={"fields": fields},
                            stacklevel=3)

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.log(logging.DEBUG, msg, *args, **kwargs)

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.log(logging.INFO, msg, *args, **kwargs)

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.log(logging.WARNING, msg, *args, **kwargs)

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.log(logging.ERROR, msg, *args, **kwargs)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exc_info", True)
        self.log(logging.ERROR, msg, *args, **kwargs)


def configure_logging(service: str, level: str | int = "INFO") -> None:
    """JSON lines on stderr for the whole process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "stripe", "werkzeug", "psycopg.pool"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> StructuredLogger:
    return StructuredLogger(logging.getLogger(name), {})


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Fields (request_id, job_id, ...) added to every line logged inside the block."""
    added = {k: v for k, v in fields.items() if v is not None}
    token = _context.set({**(_context.get() or {}), **added})
    try:
        yield
    finally:
        _context.reset(token)
