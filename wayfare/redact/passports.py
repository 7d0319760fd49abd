"""Passport numbers, only next to a passport cue ("passport", "passport no.", "pasaporte"...).

Formats: US 9 digits or a letter + 8 digits, UK 9 digits, "AB1234567" (two letters + 7 digits,
e.g. Japan, many EU countries), one letter + 7 digits (India, Australia), two letters + 6
digits (Canada), and 9-character alphanumerics with at least five digits (Germany "C01X00T47",
France "18AV12345").
"""

from __future__ import annotations

import re

from .types import Finding, PiiType

_CUE = re.compile(
    r"(?i:\b(?:passports?|pass(?:port)?\s*(?:no|num|number|#)|pasaporte|passeport|passaporto"
    r"|reisepass|paspoort|passaporte|travel document|document number|doc(?:ument)? no)\b)"
)
_NUMBER = re.compile(
    r"(?<![\w-])(?:[A-Z]{1,2}\d{6,8}|\d{9}|(?=[A-Z0-9]{8,9}(?![\w-]))"
    r"(?=\d*[A-Z])(?=(?:[A-Z]*\d){5})[A-Z0-9]{8,9})(?![\w-])"
)
_BEFORE = 60  # characters between the cue and the number ("passport number is: ...")
_AFTER = 30  # "AB1234567 is my passport number"


_QUICK = ("pass", "pasaporte", "reisepass", "paspoort", "document", "doc")


def detect(text: str) -> list[Finding]:
    low = text.lower()
    if not any(q in low for q in _QUICK):
        return []
    cues = [m.span() for m in _CUE.finditer(text)]
    if not cues:
        return []
    found: list[Finding] = []
    for m in _NUMBER.finditer(text):
        start, end = m.span()
        for cs, ce in cues:
            if (ce <= start and start - ce <= _BEFORE) or (cs >= end and cs - end <= _AFTER):
                found.append(Finding(PiiType.PASSPORT, start, end))
                break
    return found
