"""Score a redactor against a labelled corpus.

    python -m wayfare.redact.score [corpus.jsonl] [--errors]

The corpus is JSON lines ``{"text": ..., "spans": [{"start", "end", "type"}]}``. Reported:

* per-type recall: a labelled span counts as caught when every non-space character of it is
  inside some finding (of any type: what matters is that the value is gone); the typed column
  also requires the finding's type to match;
* precision on negatives: the fraction of PII-free texts left unchanged, and its complement,
  the "destroyed" percentage;
* token-level precision, recall and F1: tokens are whitespace-split; a token is PII if it
  overlaps a labelled span and predicted if it overlaps a finding.

``--errors`` prints missed spans and false findings (the corpus is synthetic, so this prints no
real personal data; do not run it on production text).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "tests" / "data" / "redact_corpus.jsonl"
_TOKEN = re.compile(r"\S+")

Span = tuple[str, int, int]  # (type, start, end)
FindFn = Callable[[str], Iterable[object]]


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    spans: tuple[Span, ...]


@dataclass
class Score:
    texts: int = 0
    negatives: int = 0
    negatives_unchanged: int = 0
    gold: dict[str, int] = field(default_factory=dict)
    caught: dict[str, int] = field(default_factory=dict)
    caught_typed: dict[str, int] = field(default_factory=dict)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.caught.get(kind, 0) / self.gold[kind] if self.gold.get(kind) else 1.0

    def typed_recall(self, kind: str) -> float:
        return self.caught_typed.get(kind, 0) / self.gold[kind] if self.gold.get(kind) else 1.0

    @property
    def negative_precision(self) -> float:
        """Fraction of PII-free texts left unchanged."""
        return self.negatives_unchanged / self.negatives if self.negatives else 1.0

    @property
    def destroyed_pct(self) -> float:
        return 100.0 * (1.0 - self.negative_precision)

    @property
    def token_precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def token_recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.token_precision, self.token_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_corpus(path: Path | str = DEFAULT_CORPUS) -> list[Example]:
    out: list[Example] = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            spans = tuple((s["type"], int(s["start"]), int(s["end"])) for s in row["spans"])
            out.append(Example(row["text"], spans))
    return out


def _as_span(item: object) -> Span:
    if isinstance(item, tuple):
        kind, start, end = item
        return str(kind), int(start), int(end)
    kind = getattr(item, "type")  # noqa: B009 - Finding-like objects
    return str(getattr(kind, "value", kind)), int(getattr(item, "start")), int(getattr(item, "end"))  # noqa: B009


def _covered(text: str, start: int, end: int, spans: Sequence[Span], kind: str | None) -> bool:
    mask = [False] * (end - start)
    for k, s, e in spans:
        if kind is not None and k != kind:
            continue
        for i in range(max(s, start), min(e, end)):
            mask[i - start] = True
    return all(m or text[start + i].isspace() for i, m in enumerate(mask))


def score(find: FindFn, corpus: Sequence[Example], keep_errors: bool = False) -> Score:
    """Run ``find`` (text -> findings or (type, start, end) tuples) over ``corpus``."""
    sc = Score()
    for ex in corpus:
        predicted = [_as_span(f) for f in find(ex.text)]
        sc.texts += 1
        if not ex.spans:
            sc.negatives += 1
            if not predicted:
                sc.negatives_unchanged += 1
            elif keep_errors:
                shown = ", ".join(f"{k}:{ex.text[s:e]!r}" for k, s, e in predicted)
                sc.errors.append(f"FALSE  {shown}  in  {ex.text!r}")
        for kind, start, end in ex.spans:
            sc.gold[kind] = sc.gold.get(kind, 0) + 1
            if _covered(ex.text, start, end, predicted, None):
                sc.caught[kind] = sc.caught.get(kind, 0) + 1
            elif keep_errors:
                sc.errors.append(f"MISSED {kind}:{ex.text[start:end]!r}  in  {ex.text!r}")
            if _covered(ex.text, start, end, predicted, kind):
                sc.caught_typed[kind] = sc.caught_typed.get(kind, 0) + 1
        for tok in _TOKEN.finditer(ex.text):
            ts, te = tok.span()
            gold = any(s < te and ts < e for _, s, e in ex.spans)
            pred = any(s < te and ts < e for _, s, e in predicted)
            sc.tp += gold and pred
            sc.fp += pred and not gold
            sc.fn += gold and not pred
        if ex.spans and keep_errors:
            extra = [
                (k, s, e)
                for k, s, e in predicted
                if not any(gs < e and s < ge for _, gs, ge in ex.spans)
            ]
            if extra:
                shown = ", ".join(f"{k}:{ex.text[s:e]!r}" for k, s, e in extra)
                sc.errors.append(f"EXTRA  {shown}  in  {ex.text!r}")
    return sc


def format_report(sc: Score, name: str = "wayfare.redact") -> str:
    lines = [
        f"{name}: {sc.texts} texts, {sc.negatives} without PII",
        f"  {'type':<9} {'spans':>5} {'recall':>7} {'typed':>7}",
    ]
    for kind in sorted(sc.gold):
        lines.append(
            f"  {kind:<9} {sc.gold[kind]:>5} {sc.recall(kind):>7.3f} {sc.typed_recall(kind):>7.3f}"
        )
    lines += [
        f"  negatives unchanged: {sc.negative_precision:.3f}  (destroyed {sc.destroyed_pct:.1f}%)",
        f"  token precision {sc.token_precision:.3f}  recall {sc.token_recall:.3f}  F1 {sc.f1:.3f}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wayfare.redact.score", description=__doc__)
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--errors", action="store_true", help="print misses and false findings")
    args = parser.parse_args(argv)

    from . import find_pii  # lazy: keep `import wayfare.redact.score` light

    sc = score(find_pii, load_corpus(args.corpus), keep_errors=args.errors)
    print(format_report(sc))
    for err in sc.errors:
        print(err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
