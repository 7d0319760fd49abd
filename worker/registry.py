"""The handler registry: `@handler("demo.steps")` binds a function to a job type.

    from worker.registry import handler

    @handler("demo.noop")
    def noop(ctx: JobContext) -> dict | None:
        return None

A handler takes the JobContext and returns a JSON-serialisable result (stored in
jobs.result). The worker is built from an explicit list of handler modules
(worker/__main__.py, HANDLER_MODULES); this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from worker.context import JobContext

Handler = Callable[["JobContext"], Any]

_handlers: dict[str, Handler] = {}


def handler(job_type: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of `job_type` (one per type)."""

    def register(fn: Handler) -> Handler:
        existing = _handlers.get(job_type)
        if existing is not None and existing is not fn:
            raise ValueError(f"job type {job_type!r} already has a handler: {existing!r}")
        _handlers[job_type] = fn
        return fn

    return register


def registered() -> dict[str, Handler]:
    """Every handler registered so far (by the modules the caller imported)."""
    return dict(_handlers)
