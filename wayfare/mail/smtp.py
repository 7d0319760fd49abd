"""Sending one message over SMTP (smtplib), with the outcome classified:

- `TemporaryFailure`: a 4xx reply, a dropped or refused connection, a timeout, TLS or
  authentication trouble, including 530/534/535/538 replies (the settings are wrong, not the
  message): retry later.
- `PermanentFailure`: a 5xx reply to the sender, the recipient or the data: this message will
  never be accepted; do not retry.

The reason kept in either is the SMTP reply with every address replaced by `<address>`, one
line, at most 300 characters: it goes to the outbox row and /ops, never an address.
"""

from __future__ import annotations

import contextlib
import email.policy
import re
import smtplib
import ssl
from email.message import EmailMessage

from wayfare.mail.config import SmtpSettings

# CRLF line ends; headers unfolded up to RFC 5322's 998 characters, so the Message-ID stays
# on its header's line (bodies are quoted-printable, 76 characters a line, either way)
WIRE = email.policy.SMTP.clone(max_line_length=998)
ADDRESS = re.compile(r"<?[^\s<>()\[\]:;,\"']+@[^\s<>()\[\]:;,\"']+>?")


class SendFailure(Exception):
    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TemporaryFailure(SendFailure):
    pass


class PermanentFailure(SendFailure):
    pass


def scrub(text: str) -> str:
    """One line without addresses, at most 300 characters."""
    return " ".join(ADDRESS.sub("<address>", text).split())[:300]


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return scrub(f"{code} {text}")


# 5xx replies that blame the session's settings, not the message: authentication or TLS required
# (530, 538), a mechanism too weak (534), credentials refused (535). Fixing SMTP_* helps.
SETTINGS_CODES = frozenset({530, 534, 535, 538})


def _classify(code: int, reason: str, stage: str) -> SendFailure:
    text = f"{stage}: {reason}"
    if 500 <= code < 600 and code not in SETTINGS_CODES:
        return PermanentFailure(text, code)
    return TemporaryFailure(text, code)


def send(message: EmailMessage, settings: SmtpSettings) -> str:
    """Send `message` to its one recipient (the To header); returns the server's reply to the
    data. Raises TemporaryFailure or PermanentFailure."""
    if not settings.configured:
        raise TemporaryFailure("SMTP is not configured (set SMTP_URL or SMTP_HOST)")
    client: smtplib.SMTP | None = None
    try:
        client = _connect(settings)
        accepted = _transaction(client, message, settings)
    except SendFailure:
        _close(client)
        raise
    except smtplib.SMTPAuthenticationError as exc:
        _close(client)
        raise TemporaryFailure(f"authentication: {_reply(exc.smtp_code, exc.smtp_error)}",
                               exc.smtp_code) from None
    except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
        _close(client)
        raise _classify(exc.smtp_code, _reply(exc.smtp_code, exc.smtp_error), "data") from None
    except smtplib.SMTPResponseException as exc:  # greeting, HELO, STARTTLS
        _close(client)
        raise TemporaryFailure(f"session: {_reply(exc.smtp_code, exc.smtp_error)}",
                               exc.smtp_code) from None
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, refusals, timeouts, TLS
        _close(client)
        raise TemporaryFailure(f"connection: {type(exc).__name__}: {scrub(str(exc))}") from None
    # accepted: whatever QUIT answers no longer matters
    with contextlib.suppress(smtplib.SMTPException, OSError):
        client.quit()
    _close(client)
    return accepted


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host or "", settings.port, timeout=settings.timeout,
            context=ssl.create_default_context(cafile=settings.ca_file))
    else:
        client = smtplib.SMTP(settings.host or "", settings.port, timeout=settings.timeout)
    client.ehlo()
    if settings.starttls:
        client.starttls(context=ssl.create_default_context(cafile=settings.ca_file))
        client.ehlo()
    if settings.user:
        client.login(settings.user, settings.password or "")
    return client


def _transaction(client: smtplib.SMTP, message: EmailMessage, settings: SmtpSettings) -> str:
    """MAIL, RCPT, DATA, each reply checked (smtplib's mail() and rcpt() do not raise)."""
    code, reply = client.mail(settings.sender_address)
    if code != 250:
        raise _classify(code, _reply(code, reply), "sender")
    code, reply = client.rcpt(str(message["To"]))
    if code not in (250, 251):
        raise _classify(code, _reply(code, reply), "recipient")
    code, reply = client.data(message.as_bytes(policy=WIRE))
    if code != 250:
        raise _classify(code, _reply(code, reply), "data")
    return _reply(code, reply)


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        with contextlib.suppress(OSError):
            client.close()
