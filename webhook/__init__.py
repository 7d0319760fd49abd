"""The web service (the folder keeps its first name): it serves

- POST /webhooks/stripe (Stripe events; webhook/stripe_webhooks.py),
- GET /healthz and /readyz (liveness and readiness; webhook/health.py),
- GET /metrics (Prometheus; webhook/metrics.py, monitoring.py, db_metrics.py),
- /ops, /ops/data.json, /ops/login, /ops/logout (the operators' page; webhook/ops.py),
- and the command `python -m webhook.replay` (feeds the Stripe events the endpoint missed,
  listed from the Stripe API, to the same SQL function; webhook/replay.py).
All of them reach Postgres only through webhook/db.py, the service's named statements over
the shared door wayfare/db.py (pool, `set role wayfare_web`, errors as the error contract).
See webhook/README.md.

    python -m webhook            # gunicorn (gthread) on $WAYFARE_WEB_HOST:$PORT (127.0.0.1:8000)

`create_app(settings=None)` builds the Flask app (tests, other WSGI servers).
"""

from webhook.app import create_app

__all__ = ["create_app"]
