"""Phone numbers in international and national formats.

A cheap regex finds candidate digit runs (digits joined by single spaces, dashes, dots, slashes
or parentheses); only those candidates are handed to ``phonenumbers``, which is imported on
first use. A candidate is a phone number when

* it starts with ``+`` or ``00`` and is a possible number for its country code, or
* it is written in groups (or follows a phone cue such as "call", "tel", "mobile") and is a
  valid number for one of ``REGIONS`` (numbers written with a leading trunk ``0`` are only
  checked against regions that use one, so "88412093" is not read as a German number), or
* it has the North American shape ``(555) 123-4567`` / ``555-123-4567`` / ``555.123.4567``
  (fictional 555 numbers are not "valid" for ``phonenumbers`` but are obviously phone numbers).

Dates (``2026-12-03``, ``03.12.2026``), decimals (``138.7274``), and numbers right after a
booking/order/ticket cue are never phone numbers.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .patterns import travel_number_before
from .types import Finding, PiiType

# Regions tried for national formats, most common first. Those with a trunk prefix "0" are
# only tried for numbers that start with 0; the others only for numbers that do not.
TRUNK_ZERO_REGIONS = (
    "GB", "FR", "DE", "IT", "NL", "AU", "JP", "IN", "IE", "CH", "AT", "BE", "SE", "KR", "CN",
    "NZ", "ZA", "TR", "AR", "PE", "TH",
)  # fmt: skip
NO_TRUNK_REGIONS = ("US", "ES", "IT", "IN", "MX", "BR", "CN", "PT", "GR", "SG", "HK", "PL")
REGIONS = tuple(dict.fromkeys(NO_TRUNK_REGIONS + TRUNK_ZERO_REGIONS))

_GROUP = r"(?:\(\+?\d{1,5}\)|\d++)"
_SEP = r"(?:[ \u00a0]?[-./\u2013][ \u00a0]?|[ \u00a0]|(?=\()|(?<=\)))"
# A comma before the number is allowed after a letter ("...-Office,781-618-4959-Fax"), not
# after a digit ("1,234"). An extension ("x549", "ext. 12") is part of the number.
_CANDIDATE = re.compile(
    rf"(?<![\w@+./:#-])(?<!\d,)(?:\+[ \u00a0]?|\b00[ \u00a0]?)?{_GROUP}(?:{_SEP}{_GROUP}){{0,8}}"
    r"(?P<ext>[ ]?(?i:x|ext\.?|extension)[ ]?\d{1,5})?"
    r"(?![\w@]|[.,/:]\d|-\d)"
)
# Words that say the number next to them is a phone number: before it ("Phone:", "call me
# on", "messages to", "answering at") or glued after it ("-Office", " fax", " mobile").
_STRONG_CUE = re.compile(
    r"(?i:\b(?:phone|ph|tel|telephone|mobile|cell|cellphone|call(?:\s+me)?|text|sms"
    r"|whats ?app|fax|desk|office|landline|messages|registered|answering|reach(?:\s+me)?"
    r"|número|numero|teléfono|telefono|téléphone|portable|handy|móvil|celular|tlf|tfn"
    r"|ring|bel|ruf|appelez|appelle|llámame|llama|chiamami|chiama|zadzwoń|puhelin|telefon"
    r"|telemóvel|tél|tel\.|liga|ligue|contact\s+no|my\s+number|(?:new|mobile|cell|home|work)"
    r"\s+number)\b"
    r"(?:\s+(?:on|at|to|is|number|no\.?|#))?\s*[:.]?\s*(?:\n\s*)?)$"
)
_LABEL_AFTER = re.compile(
    r"[ \t]*-?[ \t]*(?i:office|fax|mobile|cell|home|work|desk|direct|tel|phone)\b"
)
_TIME_SHAPE = re.compile(r"\d{1,2}:\d{2}")
_DIGIT_GROUP = re.compile(r"\d+")
_NANP = re.compile(r"(?:\+?1[ .-]?)?(?:\(\d{3}\)[ ]?|\d{3}[-. ])\d{3}[-. ]\d{4}")
_DATE_SHAPE = re.compile(
    r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{1,2}[-./]\d{4}"
)
# A date written inside a run ("€89 2026-12-03"): the run is a price and a date, not a phone.
_DATE_INSIDE = re.compile(
    r"(?<!\d)(?:(?:19|20)\d\d-\d\d-\d\d|\d\d?[./]\d\d?[./](?:19|20)\d\d)(?!\d)"
)
_CUE = re.compile(
    r"(?i:\b(?:phone|ph|tel|telephone|mobile|cell|cellphone|call|text|sms|whats ?app|signal"
    r"|telegram|viber|reach|contact|fax|landline|número|numero|teléfono|telefono|téléphone"
    r"|portable|handy|móvil|celular)\b)"
)
_MIN_DIGITS = 7
_MAX_DIGITS = 15
_WINDOW_MIN_DIGITS = 9


def _pn() -> Any:
    import phonenumbers  # lazy: slow import, only paid when a candidate appears

    return phonenumbers


@lru_cache(maxsize=4096)
def _international_ok(candidate: str) -> bool:
    pn = _pn()
    try:
        number = pn.parse(candidate, None)
    except pn.NumberParseException:
        return False
    return bool(pn.is_possible_number(number))


@lru_cache(maxsize=4096)
def _national_ok(candidate: str) -> bool:
    pn = _pn()
    regions = TRUNK_ZERO_REGIONS if candidate.lstrip("(").startswith("0") else NO_TRUNK_REGIONS
    for region in regions:
        try:
            number = pn.parse(candidate, region)
        except pn.NumberParseException:
            continue
        if pn.is_valid_number(number):
            return True
    return False


def _classify(text: str, start: int, end: int) -> bool:
    cand = text[start:end]
    digits = sum(c.isdigit() for c in cand)
    if digits < _MIN_DIGITS or digits > _MAX_DIGITS + 2:
        return False
    if cand[0] == "+" or cand.startswith("00"):
        intl = "+" + cand[2:] if cand[0] == "0" else cand
        # "+41 (0)57 460 09 23": the bracketed trunk zero is not dialled from abroad.
        intl = intl.replace("(0)", "")
        return digits >= 8 and _international_ok(intl)
    if _DATE_SHAPE.fullmatch(cand) or _DATE_INSIDE.search(cand):
        return False
    groups = _DIGIT_GROUP.findall(cand)
    seps = {c for c in cand if not c.isdigit() and c not in "()"}
    if "." in seps and (len(groups) == 2 or len(seps) > 1):
        return False  # decimals such as coordinates ("138.7274 35.3606"); phones use dots alone
    if travel_number_before(text, start):
        return False
    if _NANP.fullmatch(cand):
        return True
    grouped = len(groups) >= 2
    if not grouped and not _CUE.search(text, max(0, start - 40), start):
        return False
    if digits > _MAX_DIGITS:
        return False
    return _national_ok(cand)


def _windows(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Prefixes and suffixes of a candidate made of whole digit groups, longest first."""
    spans = [m.span() for m in _DIGIT_GROUP.finditer(text, start, end)]
    out: list[tuple[int, int]] = []
    n = len(spans)
    for size in range(n - 1, 0, -1):
        for i in dict.fromkeys((0, n - size)):
            s = spans[i][0]
            e = spans[i + size - 1][1]
            if s > start and text[s - 1] in "(+":
                s -= 1
            if e < end and text[e] == ")":
                e += 1
            out.append((s, e))
    return out


# Countries (and their adjectives) that say which numbering plan a national number is in:
# "my Swiss number 0446681800", "in Norway: 22 12 34 56".
_COUNTRY_REGION = {
    "swiss": "CH", "switzerland": "CH", "german": "DE", "germany": "DE", "french": "FR",
    "france": "FR", "spanish": "ES", "spain": "ES", "italian": "IT", "italy": "IT",
    "dutch": "NL", "netherlands": "NL", "belgian": "BE", "belgium": "BE", "austrian": "AT",
    "austria": "AT", "british": "GB", "uk": "GB", "england": "GB", "irish": "IE",
    "ireland": "IE", "portuguese": "PT", "portugal": "PT", "norwegian": "NO", "norway": "NO",
    "swedish": "SE", "sweden": "SE", "danish": "DK", "denmark": "DK", "finnish": "FI",
    "finland": "FI", "icelandic": "IS", "iceland": "IS", "polish": "PL", "poland": "PL",
    "czech": "CZ", "hungarian": "HU", "hungary": "HU", "greek": "GR", "greece": "GR",
    "cypriot": "CY", "cyprus": "CY", "turkish": "TR", "turkey": "TR", "japanese": "JP",
    "japan": "JP", "korean": "KR", "korea": "KR", "chinese": "CN", "china": "CN",
    "indian": "IN", "india": "IN", "australian": "AU", "australia": "AU", "canadian": "CA",
    "canada": "CA", "american": "US", "us": "US", "usa": "US", "mexican": "MX",
    "mexico": "MX", "brazilian": "BR", "brazil": "BR", "argentine": "AR", "argentina": "AR",
    "chilean": "CL", "chile": "CL", "colombian": "CO", "colombia": "CO", "peruvian": "PE",
    "peru": "PE", "uruguayan": "UY", "uruguay": "UY", "south african": "ZA",
    "thai": "TH", "thailand": "TH", "singapore": "SG", "estonian": "EE", "estonia": "EE",
    "slovenian": "SI", "slovenia": "SI", "croatian": "HR", "croatia": "HR",
    "tunisian": "TN", "tunisia": "TN", "moroccan": "MA", "morocco": "MA",
    "new zealand": "NZ", "greenland": "GL", "israeli": "IL", "israel": "IL",
}  # fmt: skip
_COUNTRY = re.compile(
    r"(?i:\b(" + "|".join(sorted(map(re.escape, _COUNTRY_REGION), key=len, reverse=True)) + r")\b)"
)


@lru_cache(maxsize=4096)
def _valid_in(candidate: str, region: str) -> bool:
    pn = _pn()
    try:
        return bool(pn.is_valid_number(pn.parse(candidate, region)))
    except pn.NumberParseException:
        return False


def _stated_country(text: str, start: int, end: int) -> bool:
    """A national number valid in the country the text names within 60 characters before."""
    cand = text[start:end]
    digits = sum(c.isdigit() for c in cand)
    if digits < 6 or digits > _MAX_DIGITS or travel_number_before(text, start):
        return False
    if _DATE_SHAPE.fullmatch(cand) or _DATE_INSIDE.search(cand):
        return False
    for m in _COUNTRY.finditer(text, max(0, start - 60), start):
        if _valid_in(cand, _COUNTRY_REGION[m[1].lower()]):
            return True
    return False


def _strong_context(text: str, start: int, end: int) -> bool:
    """A phone cue right before the number or a phone label right after it, and the number
    has a phone's shape: 6-15 digits, in groups or at least 7 in a row, not a date."""
    cand = text[start:end]
    digits = sum(c.isdigit() for c in cand)
    if digits < 6 or digits > _MAX_DIGITS:
        return False
    if _DATE_SHAPE.fullmatch(cand) or _DATE_INSIDE.search(cand) or "." in cand.strip("."):
        if not re.fullmatch(r"\d{3}\.\d{3}\.\d{4}", cand):
            return False
    groups = _DIGIT_GROUP.findall(cand)
    if len(groups) < 2 and digits < 7:
        return False
    if travel_number_before(text, start):
        return False
    return bool(
        _STRONG_CUE.search(text, max(0, start - 40), start) or _LABEL_AFTER.match(text, end)
    )


def detect(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in _CANDIDATE.finditer(text):
        start, end = m.span()
        if m["ext"]:
            end = m.start("ext")
        if (
            _classify(text, start, end)
            or _strong_context(text, start, end)
            or _stated_country(text, start, end)
        ):
            found.append(Finding(PiiType.PHONE, start, m.end()))
            continue
        if start > 0 and text[start - 1] == "(" and _classify(text, start - 1, end):
            found.append(Finding(PiiType.PHONE, start - 1, end))
            continue
        # A number written next to a phone ("2 555-123-4567", "555-123-4567 2"): try the run's
        # prefixes and suffixes of at least 9 digits, unless it is a booking number or has a date.
        if (
            text[start] == "+"
            or sum(c.isdigit() for c in m[0]) < _WINDOW_MIN_DIGITS + 1
            or travel_number_before(text, start)
            or _DATE_INSIDE.search(m[0])
        ):
            continue
        taken_end = start
        for s, e in _windows(text, start, end):
            if (
                s >= taken_end
                and sum(c.isdigit() for c in text[s:e]) >= _WINDOW_MIN_DIGITS
                and _classify(text, s, e)
            ):
                found.append(Finding(PiiType.PHONE, s, e))
                taken_end = e
    return found
