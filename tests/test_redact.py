"""Tests for wayfare.redact: the seed example, the corpus targets, the CLI and properties."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wayfare.redact import (
    PLACEHOLDERS,
    Finding,
    PiiType,
    contains_pii,
    find_pii,
    redact,
    redact_with_spans,
)
from wayfare.redact.score import Example, load_corpus, score

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "redact_corpus.jsonl"


def luhn_complete(body: str) -> str:
    """``body`` plus the Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


# --------------------------------------------------------------------------- the seed example


def test_seed_example_exact() -> None:
    text = "My email is john@example.com and phone is 555-123-4567"
    assert redact(text) == "My email is [EMAIL] and phone is [PHONE]"


# --------------------------------------------------------------------------- corpus targets


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    return load_corpus(CORPUS)


@pytest.fixture(scope="module")
def corpus_score(corpus: list[Example]):  # type: ignore[no-untyped-def]
    return score(find_pii, corpus)


def test_corpus_size_and_mix(corpus: list[Example]) -> None:
    negatives = sum(1 for ex in corpus if not ex.spans)
    assert len(corpus) >= 300
    assert negatives >= len(corpus) / 3
    kinds = {kind for ex in corpus for kind, _, _ in ex.spans}
    assert kinds == {t.value for t in PiiType}


def test_corpus_spans_are_well_formed(corpus: list[Example]) -> None:
    for ex in corpus:
        for kind, start, end in ex.spans:
            assert kind in PLACEHOLDERS
            assert 0 <= start < end <= len(ex.text)
            assert ex.text[start:end] == ex.text[start:end].strip()


@pytest.mark.parametrize("kind", ["EMAIL", "PHONE", "CARD", "SSN", "IBAN", "IP"])
def test_corpus_recall_is_perfect_for_structured_types(corpus_score, kind: str) -> None:  # type: ignore[no-untyped-def]
    assert corpus_score.recall(kind) == 1.0


def test_corpus_token_f1(corpus_score) -> None:  # type: ignore[no-untyped-def]
    assert corpus_score.f1 >= 0.95


def test_corpus_negatives_mostly_untouched(corpus_score) -> None:  # type: ignore[no-untyped-def]
    assert corpus_score.destroyed_pct <= 5.0


# --------------------------------------------------------------------------- must catch

MUST_CATCH = [
    # (text, the PII value inside it, its type)
    ("write to john@example.com today", "john@example.com", "EMAIL"),
    ("ping MARIA.G+trip@mail.example.co.uk.", "MARIA.G+trip@mail.example.co.uk", "EMAIL"),
    ("call 555-123-4567 tonight", "555-123-4567", "PHONE"),
    ("US office (415) 555-0132", "(415) 555-0132", "PHONE"),
    ("UK +44 20 7946 0958", "+44 20 7946 0958", "PHONE"),
    ("UK mobile 07700 900123", "07700 900123", "PHONE"),
    ("FR +33 6 12 34 56 78", "+33 6 12 34 56 78", "PHONE"),
    ("FR 06 12 34 56 78", "06 12 34 56 78", "PHONE"),
    ("DE 030 12345678", "030 12345678", "PHONE"),
    ("DE +49 151 23456789", "+49 151 23456789", "PHONE"),
    ("ES 612 345 678", "612 345 678", "PHONE"),
    ("IT 347 123 4567", "347 123 4567", "PHONE"),
    ("IN 98765 43210", "98765 43210", "PHONE"),
    ("AU 0412 345 678", "0412 345 678", "PHONE"),
    ("AU (02) 9876 5432", "(02) 9876 5432", "PHONE"),
    ("JP 03-1234-5678", "03-1234-5678", "PHONE"),
    ("JP 090-1234-5678", "090-1234-5678", "PHONE"),
    ("BR (11) 91234-5678", "(11) 91234-5678", "PHONE"),
    ("MX +52 55 1234 5678", "+52 55 1234 5678", "PHONE"),
    ("NL 06-12345678", "06-12345678", "PHONE"),
    ("call me on 4155550132", "4155550132", "PHONE"),
    ("card 4111 1111 1111 1111", "4111 1111 1111 1111", "CARD"),
    ("card 4111-1111-1111-1111", "4111-1111-1111-1111", "CARD"),
    ("card 4111111111111111 exp 12/27", "4111111111111111", "CARD"),
    ("amex 3782 822463 10005", "3782 822463 10005", "CARD"),
    ("visa 4222222222222", "4222222222222", "CARD"),
    (
        "unionpay " + luhn_complete("621234567890123456"),
        luhn_complete("621234567890123456"),
        "CARD",
    ),
    ("SSN 123-45-6789", "123-45-6789", "SSN"),
    ("my SSN is 123456789", "123456789", "SSN"),
    ("social security number: 123 45 6789", "123 45 6789", "SSN"),
    ("passport number 123456789", "123456789", "PASSPORT"),
    ("passport: X12345678", "X12345678", "PASSPORT"),
    ("my passport AB1234567 expires soon", "AB1234567", "PASSPORT"),
    ("Passport No. C01X00T47", "C01X00T47", "PASSPORT"),
    ("IBAN GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32", "IBAN"),
    ("to DE89370400440532013000 please", "DE89370400440532013000", "IBAN"),
    ("FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606", "IBAN"),
    ("from 203.0.113.42 at 10:00", "203.0.113.42", "IP"),
    ("v6 2001:db8::1 blocked", "2001:db8::1", "IP"),
    ("link-local fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a", "IP"),
    ("DOB: 03/14/1985", "03/14/1985", "DOB"),
    ("I was born on 14 March 1985", "14 March 1985", "DOB"),
    ("date of birth 1985-03-14", "1985-03-14", "DOB"),
    ("my birthday is July 4th", "July 4th", "DOB"),
    ("I live at 221B Baker Street", "221B Baker Street", "ADDRESS"),
    ("1600 Pennsylvania Ave NW, Washington, DC 20500", "Pennsylvania Ave NW", "ADDRESS"),
    ("send it to Calle Mayor 5, 28013 Madrid", "Calle Mayor 5, 28013 Madrid", "ADDRESS"),
    ("10 rue de Rivoli, 75001 Paris", "10 rue de Rivoli, 75001 Paris", "ADDRESS"),
    ("Friedrichstraße 43, 10117 Berlin", "Friedrichstraße 43, 10117 Berlin", "ADDRESS"),
    ("traveling with Maria Gonzalez next week", "Maria Gonzalez", "NAME"),
    ("my name is John Smith", "John Smith", "NAME"),
    ("Mr. Tanaka asked for a late checkout", "Tanaka", "NAME"),
    ("Mrs. Smith and Ms. Lee", "Smith", "NAME"),
    ("Ms. Lee will pay", "Lee", "NAME"),
    ("Dr. Patel is joining", "Patel", "NAME"),
    ("Hi, I'm Priya!", "Priya", "NAME"),
    ("booked for Maria Gonzalez, 2 nights", "Maria Gonzalez", "NAME"),
    ("passenger: John Smith", "John Smith", "NAME"),
    ("GONZALEZ/MARIA MS seat 14C", "GONZALEZ/MARIA", "NAME"),
]


@pytest.mark.parametrize(("text", "value", "kind"), MUST_CATCH)
def test_must_catch(text: str, value: str, kind: str) -> None:
    result = redact_with_spans(text)
    assert value not in result.text
    assert f"[{kind}]" in result.text
    assert contains_pii(text)


HARD_NEGATIVES = [
    "Flight BA 117 departs 2026-12-03 at 14:35 from Heathrow.",
    "UA2345 to JFK, booking reference X7KQ2P.",
    "Total $1,234.56, or 450 EUR at the hotel.",
    "Arriving Dec 3, room 1204, confirmation 88412093.",
    "I walked 12,000 steps today.",
    "Mount Fuji is 3,776 m high.",
    "Meet at 35.3606, 138.7274 before sunrise.",
    "From JFK to Washington Square, then the Eiffel Tower in Paris.",
    "Order " + luhn_complete("482930184712009")[:-1] + "4 for the museum.",
    "Order 4829 3018 4712 0093 for the Louvre tickets.",
    "The hotel opened in 2019; we stay at Hotel Granvia Kyoto.",
    "Is the 10001 area near Penn Station?",
    "Flying with Delta, then British Airways to Lisbon.",
    "Booked for Kyoto, 3 nights, 2 adults.",
    "Traveling with kids to Rome in July.",
    "Seat 14C, gate B32, boarding 17:05, terminal 5.",
    "Ticket 125-2345678901 shows LH 400 FRA-JFK.",
    "Trip ID 2026-0412-77, 4 travellers.",
    "Is 03.12.2026 or 12/03/2026 better for the ferry?",
    "Do I need my passport for a day trip to Gibraltar?",
    "Planning a birthday dinner for 6 at 19:30.",
    "Shinkansen Nozomi 225, car 7, ¥14,170.",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_untouched(text: str) -> None:
    if text.startswith("Order ") and "4829" not in text:
        digits = text.split()[1]
        assert luhn_complete(digits[:-1]) != digits  # the order number really fails Luhn
    assert redact(text) == text
    assert not contains_pii(text)


# --------------------------------------------------------------------------- API


def test_redact_with_spans_offsets_and_counts() -> None:
    text = "Mail a@b.co or c@d.io, call +44 20 7946 0958."
    result = redact_with_spans(text)
    assert result.text == "Mail [EMAIL] or [EMAIL], call [PHONE]."
    assert [f.type for f in result.findings] == [PiiType.EMAIL, PiiType.EMAIL, PiiType.PHONE]
    assert [text[f.start : f.end] for f in result.findings] == [
        "a@b.co",
        "c@d.io",
        "+44 20 7946 0958",
    ]
    assert result.counts() == {"EMAIL": 2, "PHONE": 1}


def test_findings_never_carry_the_value() -> None:
    finding = redact_with_spans("a@b.co").findings[0]
    assert isinstance(finding, Finding)
    assert "a@b.co" not in repr(finding)
    assert set(Finding.__slots__) == {"type", "start", "end"}


def test_types_filter() -> None:
    text = "a@b.co and 555-123-4567"
    assert redact(text, types=["PHONE"]) == "a@b.co and [PHONE]"
    assert redact(text, types=[PiiType.EMAIL]) == "[EMAIL] and 555-123-4567"
    assert not contains_pii("a@b.co", types=["PHONE"])


def test_empty_and_placeholder_only_text() -> None:
    assert redact("") == ""
    assert not contains_pii("")
    placeholders = " ".join(PLACEHOLDERS.values())
    assert redact(placeholders) == placeholders


def test_overlapping_findings_merge() -> None:
    # An SSN cue next to a dashed number that is also a phone candidate: one placeholder.
    assert redact("SSN 123-45-6789") == "SSN [SSN]"


def test_import_is_light_and_side_effect_free() -> None:
    code = (
        "import sys, wayfare.redact as r; "
        "print('phonenumbers' in sys.modules, 'stdnum' in sys.modules, r.redact('x'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == ["False", "False", "x"]


# --------------------------------------------------------------------------- CLI


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "wayfare.redact", *args]


def test_cli_one_line_in_one_line_out() -> None:
    lines = [
        "My email is john@example.com and phone is 555-123-4567",
        "",
        "Flight BA 117 at 14:35, room 1204",
        "passport AB1234567, card 4111 1111 1111 1111",
        "traveling with Maria Gonzalez",
    ]
    out = subprocess.run(
        _cli(),
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    got = out.stdout.split("\n")
    assert got[-1] == ""
    assert got[:-1] == [
        "My email is [EMAIL] and phone is [PHONE]",
        "",
        "Flight BA 117 at 14:35, room 1204",
        "passport [PASSPORT], card [CARD]",
        "traveling with [NAME]",
    ]


def test_cli_flushes_each_line() -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="0")
    with subprocess.Popen(
        _cli(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=env
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for line in (b"mail a@b.co\n", b"nothing here\n"):
            proc.stdin.write(line)
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            assert ready, "no output for a line while stdin is still open"
            answer = proc.stdout.readline()
            assert answer.endswith(b"\n")
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0


def test_cli_keeps_non_utf8_bytes_and_counts_to_stderr() -> None:
    out = subprocess.run(
        _cli("--stats"),
        input=b"caf\xe9 a@b.co\r\nlast line without newline 555-123-4567",
        capture_output=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.stdout == b"caf\xe9 [EMAIL]\r\nlast line without newline [PHONE]"
    assert out.stderr.decode().strip() == "redacted: EMAIL=1 PHONE=1"


def test_cli_rejects_unknown_type() -> None:
    out = subprocess.run(
        _cli("--types", "EMAIL,NOPE"), input="", capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 2
    assert "known types" in out.stderr


# --------------------------------------------------------------------------- scorer


def test_scorer_token_metrics() -> None:
    corpus = [
        Example("call Ana at 555-123-4567 now", (("PHONE", 12, 24),)),
        Example("room 1204 at 14:35", ()),
        Example("room 1205 at 14:35", ()),
    ]

    def fake(text: str) -> list[tuple[str, int, int]]:
        if text.startswith("call"):
            return [("PHONE", 12, 24), ("NAME", 5, 8)]
        return [("PHONE", 5, 9)] if "1204" in text else []

    sc = score(fake, corpus)
    assert sc.recall("PHONE") == 1.0
    assert (sc.tp, sc.fp, sc.fn) == (1, 2, 0)
    assert sc.negative_precision == 0.5
    assert sc.destroyed_pct == pytest.approx(50.0)
    assert sc.f1 == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))


def test_scorer_cli_runs_on_the_corpus() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "wayfare.redact.score", str(CORPUS)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "F1" in out.stdout
    assert "EMAIL" in out.stdout


def test_corpus_generator_is_reproducible(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "data"))
    try:
        import make_redact_corpus as gen
    finally:
        sys.path.pop(0)
    rows = gen.build()
    committed = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    assert rows == committed


# --------------------------------------------------------------------------- properties

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TRAVEL_FRAGMENTS = [
    "BA 117", "UA2345", "LH400", "X7KQ2P", "PNR QF8LZ3", "$1,234.56", "450 EUR", "€89",
    "¥14,170", "2026-12-03", "14:35", "Dec 3", "3 December", "room 1204",
    "confirmation 88412093", "12,000 steps", "3,776 m", "35.3606, 138.7274", "JFK",
    "Heathrow", "Eiffel Tower", "Mount Fuji", "Washington Square", "Hotel Granvia Kyoto",
    "Kyoto", "Lisbon", "gate B32", "seat 14C", "terminal 5", "2 adults", "3 nights", "2026",
    "ICE 578", "platform 9", "the 10001 area", "order 4829 3018 4712 0093", "7.5 km",
    "25°C", "flight times 10:15-12:40", "Times Square", "Plaza Mayor", "Lincoln Memorial",
]  # fmt: skip
JOINERS = [" ", ", ", " then ", " at ", " on ", " from ", " to ", " and ", "; ", " - ", ". "]

travel_text = st.lists(
    st.tuples(st.sampled_from(TRAVEL_FRAGMENTS), st.sampled_from(JOINERS)), min_size=1, max_size=8
).map(lambda parts: "".join(f + j for f, j in parts).strip())

_local = st.from_regex(r"[a-z0-9](?:[a-z0-9._+-]{0,15}[a-z0-9])?", fullmatch=True)
_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_tld = st.from_regex(r"[a-z]{2,6}", fullmatch=True)
emails = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    _local,
    st.lists(_label, min_size=1, max_size=3),
    _tld,
)


@st.composite
def cards(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    body = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    number = luhn_complete(str(draw(st.integers(1, 9))) + body[1:])
    sep = draw(st.sampled_from([" ", "-", ""]))
    if not sep:
        return number
    groups, i = [], 0
    while i < len(number):
        size = draw(st.integers(3, 6))
        groups.append(number[i : i + size])
        i += size
    return sep.join(groups)


NEUTRAL = ["please use", "pay with", "my card is", "charge", "it's", "try", "use"]
pii_text = st.one_of(
    st.builds(lambda a, e, b: f"{a} {e} {b}", travel_text, emails, travel_text),
    st.builds(lambda n, c, b: f"{n} {c} for {b}", st.sampled_from(NEUTRAL), cards(), travel_text),
    st.text(max_size=200),
    travel_text,
)


@PROPS
@given(st.text(max_size=300))
def test_never_raises_on_any_text(text: str) -> None:
    result = redact_with_spans(text)
    assert isinstance(result.text, str)
    for f in result.findings:
        assert 0 <= f.start < f.end <= len(text)


@PROPS
@given(st.one_of(st.text(max_size=200), pii_text))
def test_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@PROPS
@given(travel_text)
def test_never_lengthens_pii_free_travel_text(text: str) -> None:
    assert len(redact(text)) <= len(text)


@PROPS
@given(travel_text, emails, travel_text)
def test_output_never_contains_the_email(before: str, email: str, after: str) -> None:
    text = f"{before} {email} {after}"
    out = redact(text)
    assert email not in out
    assert "[EMAIL]" in out


@PROPS
@given(st.sampled_from(NEUTRAL), cards(), travel_text)
def test_output_never_contains_the_card(prefix: str, card: str, after: str) -> None:
    text = f"{prefix} {card} for {after}"
    out = redact(text)
    assert card not in out
    assert "[CARD]" in out
