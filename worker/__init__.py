"""The job worker: `python -m worker` claims jobs from Postgres and runs their handlers.

Handlers are registered with `@handler("type")` (worker/registry.py) in a module of
worker/handlers/ and receive a JobContext (worker/context.py), their only way to the
database: named methods backed by JobStore (worker/store.py), which runs over the shared door
wayfare/db.py (pool, `set role wayfare_worker`, time limits, errors as the error contract).
See docs/jobs.md.
"""
