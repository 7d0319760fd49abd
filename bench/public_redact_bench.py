"""The public redaction benchmark: presidio-evaluator's synthetic sentences, generated offline.

    .venv/bin/python -m bench.public_redact_bench [--sets main,heldout] [--n 1500]
        [--seconds 2] [--no-presidio] [--errors TYPE|all] [--raw-newlines]

Text nobody on this project wrote: presidio-evaluator 0.3.2's 209 templates filled by its
Faker providers and its FakeNameGenerator records (many nationalities), with fixed seeds:

* ``main``: seed 42, 1,500 sentences, ``en_US``, 5 % of sentences lower-cased (the package's
  defaults, and the set issue 11 quotes);
* ``heldout``: seed 2027, same size and settings. It was never looked at while tuning the
  detectors: only its totals are printed (``--errors`` refuses it).

The HospitalProvider is dropped (it queries WikiData over the network; no template uses it).
Templates write line breaks as the two characters ``\\n`` (and ``\\,``); they become a real
line break (and a comma) before generation, as a log line would hold them (``--raw-newlines``
keeps them verbatim).

Entity types are mapped to ours (PERSON -> NAME, STREET_ADDRESS -> ADDRESS, PHONE_NUMBER,
CREDIT_CARD, IBAN_CODE, US_SSN, EMAIL_ADDRESS, IP_ADDRESS, date_of_birth -> DOB); the rest are
"don't care" (city, country, organisation, date/time, URL, title, nationality, age, ZIP code,
driver's licence): a token inside them counts neither as a miss nor as a false finding.

Scored per redactor: tokens (maximal runs of letters or digits; punctuation is not a token)
with precision, recall and F1 over all types (a PII token is caught when any finding covers
it) and per type (the finding's type must match); span recall per type (a span is caught when
every letter and digit of it is inside findings); PII-free damage (sentences with no PII whose
redaction touches a token outside the don't-care spans); throughput in texts per CPU-second on
one core, on the sentences and on ~150-character texts (sentences joined).

Contenders in the same run: wayfare.redact, the seed's regexes (``bench.redact_bench``), and
Presidio 2.2 (pattern recognizers only, and with spaCy's small English model when one is
installed: see bench/README.md).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TQDM_DISABLE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import throughput  # noqa: E402
from wayfare.redact import find_pii, redact  # noqa: E402

Span = tuple[str, int, int]
FindFn = Callable[[str], Iterable[object]]

SETS = {"main": 42, "heldout": 2027}
HELD_OUT = frozenset({"heldout"})
OURS = {
    "PERSON": "NAME",
    "STREET_ADDRESS": "ADDRESS",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "SSN",
    "EMAIL_ADDRESS": "EMAIL",
    "IP_ADDRESS": "IP",
    "DOB": "DOB",
}
DONT_CARE = "DC"
STRUCTURED = ("EMAIL", "SSN", "IBAN", "IP", "PHONE", "CARD")
_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    spans: tuple[Span, ...]  # our types, or DONT_CARE
    template: int


# --------------------------------------------------------------------------- generation


def generate(seed: int, n: int, raw_newlines: bool = False) -> list[Sample]:
    """presidio-evaluator's sentences for ``seed``, offline, with our type names."""
    quiet = io.StringIO()
    with redirect_stdout(quiet), redirect_stderr(quiet):
        from presidio_evaluator.data_generator import (
            PresidioSentenceFaker,
            presidio_additional_entity_providers,
            presidio_templates_file_path,
        )
        from presidio_evaluator.data_generator.faker_extensions import HospitalProvider

        providers = [p for p in presidio_additional_entity_providers if p is not HospitalProvider]
        mapping = dict(PresidioSentenceFaker.ENTITY_TYPE_MAPPING)
        mapping["date_of_birth"] = "DOB"  # keep dates of birth apart from other dates
        templates = [line.strip() for line in presidio_templates_file_path.read_text().splitlines()]
        if not raw_newlines:
            templates = [t.replace("\\n", "\n").replace("\\,", ",") for t in templates]
        faker = PresidioSentenceFaker(
            locale="en_US",
            lower_case_ratio=0.05,
            sentence_templates=templates,
            entity_providers=providers,
            entity_type_mapping=mapping,
            random_seed=seed,
        )
        results = faker.generate_new_fake_sentences(n)
    out = []
    for r in results:
        spans = tuple(
            sorted(
                (OURS.get(s.entity_type, DONT_CARE), s.start_position, s.end_position)
                for s in r.spans
            )
        )
        out.append(Sample(r.full_text, spans, int(r.template_id or 0)))
    return out


# --------------------------------------------------------------------------- scoring


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def p(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def r(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        return 2 * self.p * self.r / (self.p + self.r) if self.p + self.r else 0.0


@dataclass
class Result:
    name: str
    overall: Counts = field(default_factory=Counts)
    typed: dict[str, Counts] = field(default_factory=dict)
    spans: dict[str, int] = field(default_factory=dict)
    caught: dict[str, int] = field(default_factory=dict)
    negatives: int = 0
    damaged: int = 0
    tps: float = 0.0
    tps_150: float = 0.0
    errors: list[str] = field(default_factory=list)

    def span_recall(self, kind: str) -> float:
        return self.caught.get(kind, 0) / self.spans[kind] if self.spans.get(kind) else float("nan")

    @property
    def damaged_pct(self) -> float:
        return 100.0 * self.damaged / self.negatives if self.negatives else 0.0


def _as_span(item: object) -> Span:
    if isinstance(item, tuple):
        kind, start, end = item
        return str(kind), int(start), int(end)
    kind = getattr(item, "type")  # noqa: B009
    return str(getattr(kind, "value", kind)), int(getattr(item, "start")), int(getattr(item, "end"))  # noqa: B009


def _covered(text: str, start: int, end: int, found: Sequence[Span]) -> bool:
    inside = [False] * (end - start)
    for _, s, e in found:
        for i in range(max(s, start), min(e, end)):
            inside[i - start] = True
    return all(ok or not text[start + i].isalnum() for i, ok in enumerate(inside))


def score(name: str, find: FindFn, samples: Sequence[Sample], errors: str = "") -> Result:
    res = Result(name)
    for sample in samples:
        text = sample.text
        found = [_as_span(f) for f in find(text)]
        cared = [s for s in sample.spans if s[0] != DONT_CARE]
        for kind, s, e in cared:
            res.spans[kind] = res.spans.get(kind, 0) + 1
            if _covered(text, s, e, found):
                res.caught[kind] = res.caught.get(kind, 0) + 1
            elif errors in (kind, "all"):
                res.errors.append(f"MISSED {kind}: {text[s:e]!r}  in  {text!r}")
        touched_outside = False
        for tok in _TOKEN.finditer(text):
            ts, te = tok.span()
            gold = next((k for k, s, e in cared if s < te and ts < e), None)
            if gold is None and any(
                s < te and ts < e for k, s, e in sample.spans if k == DONT_CARE
            ):
                continue  # don't care
            pred = next((k for k, s, e in found if s < te and ts < e), None)
            if gold and pred:
                res.overall.tp += 1
            elif gold:
                res.overall.fn += 1
            elif pred:
                res.overall.fp += 1
                touched_outside = True
                if errors in (pred, "all"):
                    res.errors.append(f"FALSE  {pred}: {tok[0]!r}  in  {text!r}")
            for kind in {k for k in (gold, pred) if k}:
                c = res.typed.setdefault(kind, Counts())
                if gold == kind and pred == kind:
                    c.tp += 1
                elif gold == kind:
                    c.fn += 1
                else:
                    c.fp += 1
        if not cared:
            res.negatives += 1
            res.damaged += touched_outside
    return res


# --------------------------------------------------------------------------- contenders


def _presidio_find(analyzer: object, mapping: dict[str, str]) -> FindFn:
    entities = list(mapping)
    analyze = analyzer.analyze  # type: ignore[attr-defined]

    def find(text: str) -> list[Span]:
        results = analyze(text=text, language="en", entities=entities)
        return [(mapping[r.entity_type], r.start, r.end) for r in results]

    return find


def load_presidio() -> tuple[dict[str, FindFn], str]:
    """Presidio contenders that can run here, and a note saying which and why not others."""
    from bench.redact_bench import PRESIDIO_STRICT, PRESIDIO_WIDE
    from bench.redact_bench import load_presidio as load_with_spacy

    try:
        presidio, why = load_with_spacy()
    except Exception as exc:  # a broken optional install must not stop the bench
        return {}, f"Presidio skipped: {type(exc).__name__}: {exc}"
    if presidio is None:
        return {}, f"Presidio skipped: {why}"
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    analyzer = presidio.analyzer
    # Pattern recognizers only: the same engine without the spaCy NER recognizer.
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=analyzer.nlp_engine)  # type: ignore[attr-defined]
    for rec in list(registry.recognizers):
        if "Spacy" in type(rec).__name__ or "NlpEngine" in type(rec).__name__:
            registry.remove_recognizer(rec.name)
    patterns = AnalyzerEngine(
        registry=registry,
        nlp_engine=analyzer.nlp_engine,  # type: ignore[attr-defined]
        supported_languages=["en"],
    )
    strict_no_person = {k: v for k, v in PRESIDIO_STRICT.items() if k != "PERSON"}
    return (
        {
            "presidio patterns": _presidio_find(patterns, strict_no_person),
            "presidio + spaCy": _presidio_find(analyzer, PRESIDIO_WIDE),
        },
        f"Presidio {_version('presidio-analyzer')}; spaCy model {presidio.model}. "
        "'patterns' = its pattern recognizers (no NER) for EMAIL_ADDRESS, PHONE_NUMBER, "
        "CREDIT_CARD, US_SSN, US_PASSPORT, IBAN_CODE, IP_ADDRESS; '+ spaCy' = all default "
        "recognizers with PERSON -> NAME, LOCATION -> ADDRESS, DATE_TIME -> DOB (the mapping "
        "most favourable to it: its locations and dates in don't-care spans cost nothing).",
    )


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def texts_of_150(samples: Sequence[Sample], count: int = 400) -> list[str]:
    rng = random.Random(150)
    out = []
    for _ in range(count):
        parts: list[str] = []
        while sum(map(len, parts)) < 120:
            parts.append(rng.choice(samples).text)
        out.append(" ".join(parts))
    return out


# --------------------------------------------------------------------------- report


def report(set_name: str, samples: Sequence[Sample], results: Sequence[Result]) -> None:
    kinds = [k for k in ("NAME", "ADDRESS", "PHONE", "CARD", "EMAIL", "SSN", "IBAN", "IP", "DOB")
             if any(k in r.spans for r in results)]  # fmt: skip
    neg = results[0].negatives
    avg = sum(len(s.text) for s in samples) / len(samples)
    print(
        f"\n=== set {set_name}: {len(samples)} sentences (avg {avg:.0f} chars), {neg} without "
        "PII of our types"
    )
    print(
        f"{'redactor':<20} {'F1':>5} {'P':>5} {'R':>5} {'PII-free changed':>17}"
        f" {'texts/s':>8} {'@150ch':>7}"
    )
    for r in results:
        tps = f"{r.tps:>8.0f} {r.tps_150:>7.0f}" if r.tps else f"{'-':>8} {'-':>7}"
        print(
            f"{r.name:<20} {r.overall.f1:>5.3f} {r.overall.p:>5.3f} {r.overall.r:>5.3f}"
            f" {r.damaged_pct:>16.1f}% {tps}"
        )
    print("\ntoken F1 per type (P/R); the finding's type must match:")
    print(f"{'redactor':<20} " + " ".join(f"{k:>16}" for k in kinds))
    for r in results:
        cells = []
        for k in kinds:
            c = r.typed.get(k, Counts())
            cells.append(f"{c.f1:.2f} ({c.p:.2f}/{c.r:.2f})")
        print(f"{r.name:<20} " + " ".join(f"{c:>16}" for c in cells))
    print("\nspan recall per type (spans: " + ", ".join(f"{k} {results[0].spans.get(k, 0)}"
          for k in kinds) + "):")  # fmt: skip
    print(f"{'redactor':<20} " + " ".join(f"{k:>7}" for k in kinds))
    for r in results:
        print(f"{r.name:<20} " + " ".join(f"{r.span_recall(k):>7.2f}" for k in kinds))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sets", default="main,heldout")
    parser.add_argument("--n", type=int, default=1500, help="sentences per set")
    parser.add_argument("--seconds", type=float, default=2.0, help="timing budget per measure")
    parser.add_argument("--no-presidio", action="store_true")
    parser.add_argument("--errors", default="", help="print misses/false findings of a type")
    parser.add_argument("--raw-newlines", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        import presidio_evaluator  # noqa: F401
    except ImportError:
        print("public redaction bench skipped: presidio-evaluator is not installed "
              "(scripts/bench.sh installs presidio-evaluator==0.3.2)")  # fmt: skip
        return 0

    from bench.redact_bench import seed_find, seed_redact

    contenders: list[tuple[str, FindFn, Callable[[str], object] | None]] = [
        ("wayfare.redact", find_pii, redact),
        ("seed regexes", seed_find, seed_redact),
    ]
    note = "Presidio skipped (--no-presidio)."
    if not args.no_presidio:
        extra, note = load_presidio()
        contenders += [(name, fn, None) for name, fn in extra.items()]

    for set_name in args.sets.split(","):
        samples = generate(SETS[set_name], args.n, args.raw_newlines)
        errors = "" if set_name in HELD_OUT else args.errors
        results = []
        long_texts = texts_of_150(samples)
        texts = [s.text for s in samples]
        for name, find, run in contenders:
            if run is None:  # Presidio: time the detection pass itself (it dominates)
                t0 = time.process_time()
                res = score(name, find, samples, errors if name == "wayfare.redact" else "")
                res.tps = len(samples) / max(time.process_time() - t0, 1e-9)
                t0 = time.process_time()
                for t in long_texts[:100]:
                    find(t)
                res.tps_150 = 100 / max(time.process_time() - t0, 1e-9)
            else:
                res = score(name, find, samples, errors if name == "wayfare.redact" else "")
                res.tps = throughput(run, texts, args.seconds)
                res.tps_150 = throughput(run, long_texts, args.seconds)
            results.append(res)
        report(set_name, samples, results)
        if args.errors and set_name in HELD_OUT:
            print("(--errors is not available on the held-out set)")
        for line in results[0].errors:
            print(line)
    print(f"\n{note}")
    print(
        "texts/s = texts per CPU-second on one core (Presidio: analysis only, one pass); "
        f"@150ch = on ~150-character texts. Bench time {time.perf_counter() - started:.0f} s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
