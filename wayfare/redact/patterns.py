"""Regex fragments and small helpers shared by several detectors.

Small patterns are compiled at import time. The big ones (names, addresses, dates of birth)
are wrapped in :func:`lazy` and compiled on first use, which keeps ``import wayfare.redact``
around 40 ms instead of 130 ms for processes that import it but rarely redact.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache


def lazy(pattern: str, flags: int = 0) -> Callable[[], re.Pattern[str]]:
    """A zero-argument function returning ``re.compile(pattern, flags)``, compiled once."""

    @cache
    def compiled() -> re.Pattern[str]:
        return re.compile(pattern, flags)

    return compiled


# Letter classes covering ASCII, Latin-1, Latin Extended-A and Latin Extended Additional (names
# like "José", "Łukasz", "Müller", "Şahin", "Nguyễn"). The extended blocks mix cases, so they
# appear in both classes.
UP = "A-ZÀ-ÖØ-ÞĀ-\u017f\u1e00-\u1eff"
LOW = "a-zß-öø-ÿĀ-\u017f\u1e00-\u1eff"

# A capitalised word: "Maria", "O'Connor", "McDonald", "Jean-Luc", "Al-Farsi", "José".
CAP_WORD = rf"[{UP}](?:[{LOW}]+(?:[{UP}][{LOW}]+)?|['\u2019][{UP}][{LOW}]+)(?:-[{UP}][{LOW}]+)*"

MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
    r"|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)"
)

# A cue word right before a number that says "this is a travel/booking number, not PII".
# Used to keep order, ticket and confirmation numbers that happen to look like a phone
# number or pass Luhn.
_TRAVEL_NUMBER_CUE = re.compile(
    r"(?i:\b(?:order|confirmation|confirm|booking|reservation|ticket|e-?ticket|ref|reference"
    r"|voucher|invoice|receipt|locator|membership|member|loyalty|frequent[ -]flyer|miles"
    r"|pnr|itinerary|tracking|policy|claim|case|flight|train|room|seat|gate|trip|account"
    r"|transaction|folio|coupon|bag|baggage|tag|code|pin|platform|terminal|track|bus|line|tram"
    r"|route|exit|pier|stop|coach|car|row|deck|level|floor|day|night|nights|week|version"
    # identifiers that only look like PII: "ISBN 978-3-16-148410-0", "rental agreement
    # 123-45-6789", "serial no. 4111111111111111"
    r"|isbn(?:-1[03])?|issn|ean|upc|sku|serial|model|part|build|release|agreement|contract"
    r"|rental|lease|permit|registration|plate|vin|parcel|shipment|waybill|awb|pnr)"
    r"(?:\s+(?:number|no\.?|num\.?|id|code|ref|#))?\s*[:#]?\s*(?:is\s+)?)$"
)


def travel_number_before(text: str, start: int, window: int = 32) -> bool:
    """True if the words right before ``start`` name a booking/order/ticket number."""
    return _TRAVEL_NUMBER_CUE.search(text, max(0, start - window), start) is not None


def cue_before(cue: re.Pattern[str], text: str, start: int, window: int) -> bool:
    """True if ``cue`` matches somewhere in the ``window`` characters before ``start``."""
    return cue.search(text, max(0, start - window), start) is not None
