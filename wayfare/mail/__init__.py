"""Transactional booking emails (docs/payments.md, "Emails"): SMTP settings from the
environment (`config`), templates rendered into a plain-text and an HTML part (`render`), and
sending with the SMTP reply classified as temporary or permanent (`smtp`).

The worker's `email.send` handler (worker/handlers/email.py) ties them to the outbox rows of
private.email_outbox. Nothing here logs an address, a name or a body.
"""
