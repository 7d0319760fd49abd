"""Runs the detectors, merges overlapping findings and replaces them with placeholders."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial

from . import addresses, cards, dob, emails, ibans, ips, names, passports, phones, ssn
from .types import PRIORITY, Finding, PiiType, Redaction

Detector = Callable[[str], list[Finding]]

# Order matters only for contains_pii (cheap and common detectors first).
DETECTORS: dict[PiiType, Detector] = {
    PiiType.EMAIL: emails.detect,
    PiiType.IBAN: ibans.detect,
    PiiType.CARD: cards.detect,
    PiiType.SSN: ssn.detect,
    PiiType.IP: ips.detect,
    PiiType.PASSPORT: passports.detect,
    PiiType.PHONE: phones.detect,
    PiiType.DOB: dob.detect,
    PiiType.ADDRESS: addresses.detect,
    PiiType.NAME: names.detect,
}
# Later passes look again only where a cue may have come closer: names by their cues alone (the
# lexicon rules do not depend on what is around a name, so the first pass found those).
AGAIN: dict[PiiType, Detector] = {
    **DETECTORS,
    PiiType.NAME: partial(names.detect, lexicon=False),
}
# Every kind except e-mails and names needs at least one digit.
_NEED_DIGIT = frozenset(DETECTORS) - {PiiType.EMAIL, PiiType.NAME}
_ALL = tuple(DETECTORS.values())
_NO_DIGIT = tuple(d for t, d in DETECTORS.items() if t not in _NEED_DIGIT)
_ALL_AGAIN = tuple(AGAIN.values())
_NO_DIGIT_AGAIN = tuple(d for t, d in AGAIN.items() if t not in _NEED_DIGIT)
_DIGIT = re.compile(r"\d")
# Removing a value can expose another: a cue moves closer ("passport ... [EMAIL] AB1234567"),
# or a placeholder gives a clean boundary. Detection is repeated on the redacted text until
# nothing new is found, at most this many passes in all.
MAX_PASSES = 3


def _detectors(
    text: str, types: Iterable[PiiType] | None, again: bool = False
) -> tuple[Detector, ...]:
    has_digit = _DIGIT.search(text) is not None
    if types is None:
        if again:
            return _ALL_AGAIN if has_digit else _NO_DIGIT_AGAIN
        return _ALL if has_digit else _NO_DIGIT
    wanted = {PiiType(t) for t in types}
    table = AGAIN if again else DETECTORS
    return tuple(d for t, d in table.items() if t in wanted and (has_digit or t not in _NEED_DIGIT))


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """Sort findings and merge overlapping ones; a merged span takes the higher-priority type."""
    merged: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if f.end <= f.start:
            continue
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            kind = last.type if PRIORITY[last.type] <= PRIORITY[f.type] else f.type
            merged[-1] = Finding(kind, last.start, max(last.end, f.end))
        else:
            merged.append(f)
    return merged


def _find_once(text: str, types: Iterable[PiiType] | None, again: bool = False) -> list[Finding]:
    found: list[Finding] = []
    for detect in _detectors(text, types, again):
        found.extend(detect(text))
    return merge(found)


def _to_original(findings: list[Finding], placed: list[Finding]) -> list[Finding]:
    """Map findings in a redacted text back to offsets in the original text.

    ``placed`` are the (sorted) findings whose placeholders produced the redacted text. A new
    finding that touches a placeholder grows to cover that placeholder's original span.
    """
    # (redacted_start, redacted_end, original_start, original_end) of each placeholder.
    boxes: list[tuple[int, int, int, int]] = []
    shift = 0
    for f in placed:
        width = len(f.type.placeholder)
        boxes.append((f.start + shift, f.start + shift + width, f.start, f.end))
        shift += width - (f.end - f.start)

    def orig(pos: int, is_end: bool) -> int:
        offset = 0  # original minus redacted position, past the boxes seen so far
        for r_start, r_end, o_start, o_end in boxes:
            if pos <= r_start:
                break
            if pos < r_end:  # strictly inside a placeholder: take all of it
                return o_end if is_end else o_start
            offset = o_end - r_end
        return pos + offset

    return [Finding(f.type, orig(f.start, False), orig(f.end, True)) for f in findings]


def find(text: str, types: Iterable[PiiType] | None = None) -> list[Finding]:
    """All PII findings in ``text``, sorted and non-overlapping (offsets into ``text``)."""
    if not text:
        return []
    findings = _find_once(text, types)
    for _ in range(MAX_PASSES - 1):
        if not findings:
            break
        extra = _find_once(apply(text, findings), types, again=True)
        if not extra:
            break
        findings = merge(findings + _to_original(extra, findings))
    return findings


def apply(text: str, findings: list[Finding]) -> str:
    """Replace each (sorted, non-overlapping) finding with its placeholder."""
    if not findings:
        return text
    parts: list[str] = []
    pos = 0
    for f in findings:
        parts.append(text[pos : f.start])
        parts.append(f.type.placeholder)
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)


def redact_with_spans(text: str, types: Iterable[PiiType] | None = None) -> Redaction:
    findings = find(text, types)
    return Redaction(apply(text, findings), tuple(findings))


def contains_pii(text: str, types: Iterable[PiiType] | None = None) -> bool:
    return any(detect(text) for detect in _detectors(text, types)) if text else False
