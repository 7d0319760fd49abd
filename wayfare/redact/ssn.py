"""US Social Security numbers: ``123-45-6789`` anywhere, 9 digits after an SSN cue."""

from __future__ import annotations

import re

from .patterns import cue_before, travel_number_before
from .types import Finding, PiiType

_DASHED = re.compile(r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w]|-\d)")
_LOOSE = re.compile(r"(?<![\w-])(\d{3})[ .\-]?(\d{2})[ .\-]?(\d{4})(?![\w]|[-.]\d)")
_CUE = re.compile(r"(?i:\b(?:ssn|ss#|ss no|social security|social sec|soc\.? sec|itin)\b)")


def _plausible(area: str, group: str, serial: str) -> bool:
    return area not in ("000", "666") and group != "00" and serial != "0000"


def detect(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in _DASHED.finditer(text):
        if travel_number_before(text, m.start()) and not cue_before(_CUE, text, m.start(), 40):
            continue  # "rental agreement 123-45-6789", "booking ref 123-45-6789"
        if _plausible(*m.groups()) and not m[1].startswith("9"):
            found.append(Finding(PiiType.SSN, m.start(), m.end()))
    low = text.lower()
    if ("ss" in low or "social" in low or "soc" in low or "itin" in low) and _CUE.search(text):
        seen = {f.start for f in found}
        for m in _LOOSE.finditer(text):
            if (
                m.start() not in seen
                and _plausible(*m.groups())
                and cue_before(_CUE, text, m.start(), 40)
            ):
                found.append(Finding(PiiType.SSN, m.start(), m.end()))
    return found
