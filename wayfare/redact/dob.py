"""Dates of birth: a date right after a cue ("DOB", "born on", "date of birth", "birthday").

Only the date is redacted, the cue stays ("DOB: [DOB]"). Travel dates without a cue are left
alone.
"""

from __future__ import annotations

from .patterns import MONTH, lazy
from .types import Finding, PiiType

_CUE = (
    r"(?i:\b(?:d\.?o\.?b\b\.?|date\s+of\s+birth|birth\s*date|birthdate|born(?:\s+(?:on|in))?"
    r"|birthday|b-?day|bday|fecha\s+de\s+nacimiento|date\s+de\s+naissance|geburtsdatum"
    r"|geboren(?:\s+am)?|n[ée]e?\s+le|nat[oa]\s+il|data\s+di\s+nascita))"
)
# Words allowed between the cue and the date: "DOB is", "born on the", "birthday's on".
_FILLER = (
    r"(?:(?:\s*(?:[:=,\-\u2013]|'s|\u2019s)\s*"
    r"|\s+(?i:is|was|on|of|the|in|am|le|il|to|as)\s*)){0,3}\s*"
)
_ORD = r"(?:st|nd|rd|th|º|er)?"
_YEAR = r"(?:19|20)\d{2}"
_DATE = (
    rf"(?:{_YEAR}[-/.]\d{{1,2}}[-/.]\d{{1,2}}"  # 1985-03-14
    rf"|\d{{1,2}}[-/.]\d{{1,2}}[-/.](?:{_YEAR}|\d{{2}})"  # 14/03/1985, 03-14-85
    rf"|\d{{1,2}}[-/.\s](?i:{MONTH})\.?[-/.\s]{_YEAR}"  # 07-Mar-1975
    rf"|\d{{1,2}}{_ORD}(?:\s+(?i:of|de))?\s+(?i:{MONTH})\b\.?(?:,?\s+(?:(?i:de)\s+)?{_YEAR})?"
    rf"|(?i:{MONTH})\b\.?\s+\d{{1,2}}{_ORD}(?:,?\s+{_YEAR})?(?!\d)"  # March 4th, 1985
    rf"|(?i:{MONTH})\b\.?\s+{_YEAR}"  # born in March 1985
    rf"|{_YEAR}(?!\d))"  # born in 1985
)
_DOB = lazy(rf"{_CUE}{_FILLER}(?P<date>{_DATE})")
# A few lower-case words may sit between the cue and "to/as/is/on" + date: "update the DOB on
# my profile to 14/03/1985", "born in a small village on 4 May 1990".
_DOB_LATER = lazy(
    rf"{_CUE}(?:\s+[a-z'\u2019]+){{1,5}}?\s+(?:to|as|is|was|on)\s*:?\s*(?P<date>{_DATE})"
)
# A full date with a year within a sentence or two after the cue: "Please tell me your date of
# birth. It's 4/24/1960".
_FULL_DATE = (
    rf"(?:{_YEAR}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|\d{{1,2}}[-/.]\d{{1,2}}[-/.]{_YEAR}"
    rf"|\d{{1,2}}[-/.\s](?i:{MONTH})\.?[-/.\s]{_YEAR}"
    rf"|\d{{1,2}}{_ORD}\s+(?i:{MONTH})\.?,?\s+{_YEAR}|(?i:{MONTH})\.?\s+\d{{1,2}}{_ORD},?\s+{_YEAR})"
)
_DOB_NEAR = lazy(rf"{_CUE}[^\d\n]{{0,40}}?(?<![\w/.-])(?P<date>{_FULL_DATE})(?![\w/])")
_QUICK = (
    "dob",
    "d.o.b",
    "birth",
    "born",
    "bday",
    "b-day",
    "nacimiento",
    "naissance",
    "geb",
    " le ",
    "nat",
    "nascita",
)


def detect(text: str) -> list[Finding]:
    low = text.lower()
    if not any(q in low for q in _QUICK):
        return []
    found = [Finding(PiiType.DOB, m.start("date"), m.end("date")) for m in _DOB().finditer(text)]
    found += (
        Finding(PiiType.DOB, m.start("date"), m.end("date")) for m in _DOB_LATER().finditer(text)
    )
    found += (
        Finding(PiiType.DOB, m.start("date"), m.end("date")) for m in _DOB_NEAR().finditer(text)
    )
    return found
