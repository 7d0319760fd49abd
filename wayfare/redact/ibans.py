"""IBANs with a valid country format and mod-97 checksum (``stdnum.iban``), spaced or not."""

from __future__ import annotations

import re
from functools import lru_cache

from .types import Finding, PiiType

# Country code, check digits, then 11-32 alphanumerics, optionally grouped. Greedy: it may
# swallow a following word ("... 0130 00 BIC"), so shorter prefixes are tried until one is valid.
_BODY = r"[A-Z]{2}\d{2}(?:[ \u00a0-]?[A-Z0-9]){11,32}"
_UPPER = re.compile(rf"(?<![\w]){_BODY}")
_ANY_CASE = re.compile(rf"(?i)(?<![\w]){_BODY}")  # only used when the text says "IBAN"
_MIN_LEN = 15  # Norway, the shortest IBAN


def _mod97_ok(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(c, 36)) for c in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


@lru_cache(maxsize=1024)
def _valid(compact: str) -> bool:
    if not _mod97_ok(compact):
        return False
    from stdnum import iban  # lazy: only imported when a candidate passes mod 97

    return bool(iban.is_valid(compact))


def detect(text: str) -> list[Finding]:
    found: list[Finding] = []
    pattern = _ANY_CASE if "iban" in text.lower() else _UPPER
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        pos = m.start() + 1  # a failed candidate may have swallowed the start of a real one
        # Positions just after each alphanumeric, longest prefix first.
        ends = [m.start() + i + 1 for i, c in enumerate(m[0]) if c.isalnum()]
        compact = "".join(c for c in m[0] if c.isalnum()).upper()
        for k in range(len(ends), _MIN_LEN - 1, -1):
            end = ends[k - 1]
            if end < len(text) and text[end].isalnum():
                continue  # would cut a word or a number in half
            if _valid(compact[:k]):
                found.append(Finding(PiiType.IBAN, m.start(), end))
                pos = end
                break
    return found
