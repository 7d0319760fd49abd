"""email.send: send one booking email of private.email_outbox (docs/payments.md, "Emails").

The outbox row was written by the trigger bookings_email_outbox in the transaction that changed
the booking; the job's input is {"outbox_id"}. One attempt:

1. `ctx.email_to_send(outbox_id)` (private.email_to_send) locks the row and counts the
   attempt. Nothing to do when the row is gone (its booking or user was deleted), already
   sent, failed or skipped.
2. Render the templates (wayfare/mail) and send over SMTP with a Message-ID derived from the
   row's dedupe key.
3. `ctx.email_sent` (private.email_sent) records it. A worker that dies between 2 and 3
   leaves the row pending: the job is claimed again after its lease and sends one more copy
   with the same Message-ID (at-least-once delivery; receivers and people can tell it is the
   same message).

Failures: a temporary one (4xx, connection, timeout) is kept on the row as last_error and the
job retries with its backoff; a permanent one (5xx), or the last attempt, marks the row failed
(/ops shows it) and fails the job without retrying. No address, name or body is ever logged:
log lines carry the outbox id, the booking id, the kind and the SMTP code.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from wayfare.logs import get_logger
from wayfare.mail import render, smtp
from wayfare.mail.config import SmtpSettings
from worker.context import JobContext
from worker.errors import PermanentError, RetryableError
from worker.registry import handler

log = get_logger("worker.email")

GAVE_UP = "The mail could not be sent."


@handler("email.send")
def send(ctx: JobContext) -> dict[str, Any]:
    outbox_id = ctx.input["outbox_id"]
    row = ctx.email_to_send(outbox_id)
    if row is None:
        log.info("email.skipped", outbox_id=outbox_id, reason="gone")
        return {"status": "gone"}
    if row["status"] != "pending":
        log.info("email.skipped", outbox_id=outbox_id, reason=row["status"])
        return {"status": row["status"]}
    fields = {"outbox_id": outbox_id, "booking_id": row["details"].get("booking_id"),
              "kind": row["kind"], "attempt": row["attempts"]}
    message: EmailMessage | None = None
    reply = ""
    failure: smtp.SendFailure | None = None
    try:
        settings = SmtpSettings.from_env()
    except ValueError as exc:  # a malformed SMTP_URL: the settings are wrong, not the mail
        failure = smtp.TemporaryFailure(f"settings: {exc}")
    else:
        message = render.build_message(row, settings)
        try:
            reply = smtp.send(message, settings)
        except smtp.SendFailure as exc:
            failure = exc
    if failure is not None:
        final = isinstance(failure, smtp.PermanentFailure) or ctx.attempt >= ctx.max_attempts
        status = ctx.email_failed(outbox_id, failure.reason, permanent=final)
        log.warning("email.failed", **fields, smtp_code=failure.code, final=final,
                    error_type=type(failure).__name__, outbox_status=status)
        if final:
            raise PermanentError(GAVE_UP, detail=failure.reason)
        raise RetryableError(failure.reason)
    assert message is not None
    status = ctx.email_sent(outbox_id)
    log.info("email.sent", **fields, outbox_status=status)
    return {"status": status, "messageId": message["Message-ID"], "reply": reply[:3]}
