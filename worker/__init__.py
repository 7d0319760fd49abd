"""The job worker: `python -m worker` claims jobs from Postgres and runs their handlers.

Handlers are registered with `@handler("type")` (worker/registry.py) in a module of
worker/handlers/ and receive a JobContext (worker/context.py). See docs/jobs.md.
"""
