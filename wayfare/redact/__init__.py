"""PII redaction for Wayfare: e-mails, phones, cards, SSNs, passports, IBANs, IPs, dates of
birth, street addresses and person names in travel-chat text.

    >>> from wayfare.redact import redact, redact_with_spans
    >>> redact("My email is john@example.com and phone is 555-123-4567")
    'My email is [EMAIL] and phone is [PHONE]'
    >>> redact_with_spans("call +44 20 7946 0958").counts()
    {'PHONE': 1}

Travel data (flight numbers, booking references, prices, dates, room and confirmation numbers,
coordinates, airports, landmarks) is left alone. Importing this package only compiles regexes;
``phonenumbers`` and ``stdnum`` are imported the first time a candidate needs them.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import engine
from .types import Finding, PiiType, Redaction

__all__ = [
    "PLACEHOLDERS",
    "Finding",
    "PiiType",
    "Redaction",
    "contains_pii",
    "find_pii",
    "redact",
    "redact_with_spans",
]

PLACEHOLDERS: dict[PiiType, str] = {t: t.placeholder for t in PiiType}


def redact(text: str, types: Iterable[PiiType | str] | None = None) -> str:
    """Return ``text`` with every piece of PII replaced by its placeholder (``[EMAIL]``...).

    ``types`` restricts redaction to some kinds (default: all).
    """
    return engine.redact_with_spans(text, _types(types)).text


def redact_with_spans(text: str, types: Iterable[PiiType | str] | None = None) -> Redaction:
    """Like :func:`redact`, also returning the findings (type and offsets, never the value)."""
    return engine.redact_with_spans(text, _types(types))


def find_pii(text: str, types: Iterable[PiiType | str] | None = None) -> list[Finding]:
    """The findings only, sorted by offset and non-overlapping."""
    return engine.find(text, _types(types))


def contains_pii(text: str, types: Iterable[PiiType | str] | None = None) -> bool:
    """True if ``text`` contains any PII (stops at the first detector that finds some)."""
    return engine.contains_pii(text, _types(types))


def _types(types: Iterable[PiiType | str] | None) -> list[PiiType] | None:
    return None if types is None else [PiiType(t) for t in types]
