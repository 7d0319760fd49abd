"""Booking emails from the templates in wayfare/mail/templates: `<kind>.subject.txt`,
`<kind>.txt` (plain text) and `<kind>.html` (HTML, autoescaped), rendered with Jinja2.

    message = build_message(outbox_row, settings)   # an email.message.EmailMessage

`details` is the snapshot the outbox trigger took when the booking changed (hotel, city, dates,
amounts in minor units, currency, the payment error). The Message-ID is derived from the
outbox row's dedupe key, so a resend of the same mail carries the same Message-ID.
"""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from wayfare.mail.config import SmtpSettings

TEMPLATES = Path(__file__).resolve().parent / "templates"
KINDS = ("booking_confirmed", "payment_failed", "booking_refunded")

# Stripe's zero-decimal and three-decimal currencies; every other one has cents
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF",
                          "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
MESSAGE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def format_amount(minor: int, currency: str) -> str:
    """An amount in the currency's minor unit for people: 64500 EUR -> €645.00,
    38000 JPY -> ¥38,000, 1234 CHF -> 12.34 CHF."""
    code = currency.upper()
    decimals = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    text = f"{minor / 10 ** decimals:,.{decimals}f}"
    symbol = SYMBOLS.get(code)
    return f"{symbol}{text}" if symbol else f"{text} {code}"


def format_date(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def context(kind: str, details: dict[str, Any], settings: SmtpSettings) -> dict[str, Any]:
    """What the templates see."""
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}")
    check_in = dt.date.fromisoformat(details["check_in"])
    check_out = dt.date.fromisoformat(details["check_out"])
    currency = details["currency"]
    booking_id = details["booking_id"]
    return {
        "kind": kind,
        "status": details.get("status") or "",
        "booking_id": booking_id,
        "reference": booking_id.split("-")[0].upper(),
        "hotel": details.get("hotel") or "your hotel",
        "city": details.get("city") or "",
        "check_in": format_date(check_in),
        "check_out": format_date(check_out),
        "nights": (check_out - check_in).days,
        "amount": format_amount(int(details["amount"]), currency),
        "amount_refunded": format_amount(int(details.get("amount_refunded") or 0), currency),
        "currency": currency,
        # a full refund until the day before check-in (docs/payments.md)
        "cancel_until": format_date(check_in - dt.timedelta(days=1)),
        "cancellable": dt.datetime.now(dt.UTC).date() < check_in,
        "error": details.get("error") or "",
        "link": f"{settings.app_url}/bookings/{booking_id}",
        "app_url": settings.app_url,
    }


def render(kind: str, details: dict[str, Any], settings: SmtpSettings) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a mail of this kind."""
    values = context(kind, details, settings)
    subject = " ".join(_env.get_template(f"{kind}.subject.txt").render(values).split())
    text = _env.get_template(f"{kind}.txt").render(values)
    html = _env.get_template(f"{kind}.html").render(values)
    return subject, text, html


def message_id(dedupe_key: str, settings: SmtpSettings) -> str:
    return f"<{MESSAGE_ID_UNSAFE.sub('', dedupe_key)}@{settings.domain}>"


def build_message(row: dict[str, Any], settings: SmtpSettings) -> EmailMessage:
    """The MIME message of an outbox row (as private.email_to_send returns it)."""
    subject, text, html = render(row["kind"], row["details"], settings)
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = row["recipient"]
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(row["dedupe_key"], settings)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    msg["X-Wayfare-Kind"] = row["kind"]
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
