"""Value types shared by the detectors, the engine and callers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum


class PiiType(StrEnum):
    """The kinds of personal data the redactor knows. The value is the placeholder's label."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CARD = "CARD"
    SSN = "SSN"
    PASSPORT = "PASSPORT"
    IBAN = "IBAN"
    IP = "IP"
    DOB = "DOB"
    ADDRESS = "ADDRESS"
    NAME = "NAME"

    @property
    def placeholder(self) -> str:
        return f"[{self.value}]"


# Lower number wins when two findings overlap (the merged span takes that type): the more
# specific, checksum-validated kinds first.
PRIORITY: dict[PiiType, int] = {
    t: i
    for i, t in enumerate(
        (
            PiiType.EMAIL,
            PiiType.IBAN,
            PiiType.CARD,
            PiiType.SSN,
            PiiType.IP,
            PiiType.PASSPORT,
            PiiType.DOB,
            PiiType.PHONE,
            PiiType.ADDRESS,
            PiiType.NAME,
        )
    )
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected piece of PII: its type and its [start, end) offsets in the input text.

    A finding never carries the matched text, so it is safe to log or count.
    """

    type: PiiType
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Redaction:
    """The redacted text and the findings (offsets refer to the original text)."""

    text: str
    findings: tuple[Finding, ...]

    def counts(self) -> dict[str, int]:
        """Number of findings per type, e.g. ``{"EMAIL": 1, "PHONE": 2}``."""
        return dict(Counter(f.type.value for f in self.findings))
