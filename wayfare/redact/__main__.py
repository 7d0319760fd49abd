"""Redact standard input line by line: ``python -m wayfare.redact [--types T,...] [--stats]``.

One line in, one line out, flushed after every line, so it can sit in a pipe in front of a log
shipper (``worker | python -m wayfare.redact | logger``). Bytes that are not UTF-8 pass through
unchanged. ``--stats`` prints the number of findings per type to standard error at the end
(counts only, never values).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Sequence

from . import PiiType, redact_with_spans


def _parse_types(value: str | None) -> list[PiiType] | None:
    if not value:
        return None
    try:
        return [PiiType(v.strip().upper()) for v in value.split(",") if v.strip()]
    except ValueError as exc:
        known = ", ".join(t.value for t in PiiType)
        raise argparse.ArgumentTypeError(f"{exc}; known types: {known}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wayfare.redact",
        description="Replace PII on each line of standard input with placeholders like [EMAIL].",
    )
    parser.add_argument(
        "--types",
        type=_parse_types,
        default=None,
        help="comma-separated types to redact (default: all): "
        + ",".join(t.value for t in PiiType),
    )
    parser.add_argument(
        "--stats", action="store_true", help="print finding counts per type to stderr at the end"
    )
    args = parser.parse_args(argv)

    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    counts: Counter[str] = Counter()
    try:
        for raw in iter(stdin.readline, b""):
            line = raw.decode("utf-8", "surrogateescape")
            body = line.rstrip("\r\n")
            ending = line[len(body) :]
            result = redact_with_spans(body, args.types)
            if args.stats:
                counts.update(f.type.value for f in result.findings)
            stdout.write((result.text + ending).encode("utf-8", "surrogateescape"))
            stdout.flush()
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, like other filters do. Point
        # stdout at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    if args.stats:
        summary = " ".join(f"{k}={counts[k]}" for k in sorted(counts)) or "none"
        print(f"redacted: {summary}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
