"""The web service: Stripe webhooks, health and readiness probes, Prometheus metrics.

    python -m webhook            # gunicorn (gthread) on $WAYFARE_WEB_HOST:$PORT (127.0.0.1:8000)

`create_app(settings=None)` builds the Flask app (tests, other WSGI servers).
"""

from webhook.app import create_app

__all__ = ["create_app"]
