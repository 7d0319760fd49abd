"""The web service: Stripe webhooks, health and readiness probes, Prometheus metrics.

    python -m webhook            # gunicorn (gthread) on 0.0.0.0:$PORT

`create_app(settings=None)` builds the Flask app (tests, other WSGI servers).
"""

from webhook.app import create_app

__all__ = ["create_app"]
