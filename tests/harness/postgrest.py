"""The PostgREST emulation lives in devstack (make run's demo uses it too)."""

from devstack.postgrest import PostgREST, Response, status_for

__all__ = ["PostgREST", "Response", "status_for"]
