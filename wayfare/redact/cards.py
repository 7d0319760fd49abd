"""Payment card numbers: 13-19 digits in any grouping (spaces or dashes) that pass Luhn."""

from __future__ import annotations

import re

from .patterns import cue_before, travel_number_before
from .types import Finding, PiiType

# Runs of digit groups joined by one space or dash ("4111 1111 1111 1111", "3782-822463-10005").
_RUN = re.compile(r"(?<![\w.,])\d++(?:[ \-\u2013]\d++)*+(?![\w]|[.,]\d)")
_GROUP = re.compile(r"\d+")
_CARD_CUE = re.compile(
    r"(?i:\b(?:card|credit|debit|visa|mastercard|master card|amex|american express|discover"
    r"|diners|jcb|maestro|unionpay|cc|pan|pay(?:ing|ment)?|charge[ds]?)\b)"
)
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        total += _DOUBLED[d] if i & 1 else d
    return total % 10 == 0


def _best_window(
    groups: list[tuple[int, int]], text: str, shortest: int = 13
) -> tuple[int, int] | None:
    """Longest run of whole groups with ``shortest``-19 digits that passes Luhn."""
    best: tuple[int, int] | None = None
    best_len = 0
    n = len(groups)
    for i in range(n):
        digits = ""
        for j in range(i, n):
            digits += text[groups[j][0] : groups[j][1]]
            if len(digits) > 19:
                break
            if len(digits) >= shortest and len(digits) > best_len and luhn_ok(digits):
                if len(digits) < 13 and not _MAESTRO.match(digits):
                    continue
                best, best_len = (groups[i][0], groups[j][1]), len(digits)
    return best


# Maestro numbers have 12 to 19 digits; a 12-digit one is taken only after a card cue.
_MAESTRO = re.compile(r"5[06-8]|6")


def detect(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in _RUN.finditer(text):
        if m.end() - m.start() < 12:
            continue
        groups = [g.span() for g in _GROUP.finditer(text, m.start(), m.end())]
        shortest = 12 if cue_before(_CARD_CUE, text, m.start(), 48) else 13
        while groups:
            window = _best_window(groups, text, shortest)
            if window is None:
                break
            start, end = window
            if not travel_number_before(text, start) or cue_before(_CARD_CUE, text, start, 48):
                found.append(Finding(PiiType.CARD, start, end))
            groups = [g for g in groups if g[0] >= end]
    return found
