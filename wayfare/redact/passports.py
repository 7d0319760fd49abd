"""Passport numbers, only next to a passport cue ("passport", "passport no.", "pasaporte"...).

Formats: US 9 digits or a letter + 8 digits, UK 9 digits, "AB1234567" (two letters + 7 digits,
e.g. Japan, many EU countries), one letter + 7 digits (India, Australia), two letters + 6
digits (Canada), and 9-character alphanumerics with at least five digits (Germany "C01X00T47",
France "18AV12345").
"""

from __future__ import annotations

import re

from .patterns import travel_number_before
from .types import Finding, PiiType

_CUE = re.compile(
    r"(?i:\b(?:passports?|pass(?:port)?\s*(?:no|num|number|#)|pasaporte|passeport|passaporto"
    r"|reisepass|paspoort|passaporte|travel document|document number|doc(?:ument)? no)\b)"
)
# ICAO 9303 document numbers are up to nine letters and digits in any order; near a cue we
# take 7-9 of them with at least three digits and one letter ("C4F9K27X1", "12AB34567"), or
# the common all-digit and letter-prefix forms.
_NUMBER = re.compile(
    r"(?<![\w-])(?:[A-Z]{1,2}\d{6,8}|\d{9}|(?=[A-Z0-9]{7,9}(?![\w-]))"
    r"(?=\d*[A-Z])(?=(?:[A-Z]*\d){3})[A-Z0-9]{7,9})(?![\w-])"
)
# The two lines of a passport's machine-readable zone (TD3): 44 characters of A-Z, 0-9, "<".
_MRZ = re.compile(r"(?<![\w<])(?=[A-Z0-9<]*<)[A-Z0-9<]{44}(?![\w<])")
_BEFORE = 60  # characters between the cue and the number ("passport number is: ...")
_AFTER = 30  # "AB1234567 is my passport number"


_QUICK = ("pass", "pasaporte", "reisepass", "paspoort", "document", "doc")


def detect(text: str) -> list[Finding]:
    found = [Finding(PiiType.PASSPORT, m.start(), m.end()) for m in _MRZ.finditer(text)]
    low = text.lower()
    if not any(q in low for q in _QUICK):
        return found
    cues = [m.span() for m in _CUE.finditer(text)]
    if not cues:
        return found
    for m in _NUMBER.finditer(text):
        start, end = m.span()
        if travel_number_before(text, start):
            continue  # "passport ready; booking ref AB12CD345"
        for cs, ce in cues:
            if (ce <= start and start - ce <= _BEFORE) or (cs >= end and cs - end <= _AFTER):
                found.append(Finding(PiiType.PASSPORT, start, end))
                break
    return found
