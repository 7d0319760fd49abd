"""Tiny server-side charts for the ops page: inline SVG, no JavaScript, nothing fetched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import escape

WIDTH, HEIGHT, PAD = 320, 110, 18


def _num(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}"


def bars(points: Sequence[tuple[Any, float]], title: str) -> str:
    """Up to 12 categories: horizontal bars with full labels and values (issue 13). More (a
    per-minute series): vertical bars, the non-zero ones labelled with their value, the time
    axis labelled at both ends and the value axis from 0 to its maximum."""
    if not points:
        return f"<p><small>{escape(title)}: nothing yet</small></p>"
    if len(points) <= 12:
        from webhook.monitoring import hbars

        return hbars([(str(label), float(value)) for label, value in points], title, _num)
    top = max(float(v) for _, v in points) or 1.0
    step = (WIDTH - 2 * PAD) / len(points)
    rects = []
    for i, (label, value) in enumerate(points):
        h = (HEIGHT - 2 * PAD) * float(value) / top
        x = PAD + i * step
        rects.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="#4b7bec"><title>{escape(str(label))}: {value}</title>'
            "</rect>")
        if value:
            rects.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD - h - 2:.1f}" font-size="8">'
                         f"{escape(_num(float(value)))}</text>")
    return _svg(title, "".join(rects) + _axes(points, top))


def line(points: Sequence[tuple[Any, float | None]], title: str) -> str:
    """A line per minute; minutes without data (None) are gaps, never zeros."""
    known = [float(v) for _, v in points if v is not None]
    if len(points) < 2 or not known:
        return f"<p><small>{escape(title)}: no data in the window</small></p>"
    top = max(known) or 1.0
    step = (WIDTH - 2 * PAD) / (len(points) - 1)
    segments: list[list[str]] = [[]]
    for i, (_, v) in enumerate(points):
        if v is None:
            segments.append([])
            continue
        segments[-1].append(
            f"{PAD + i * step:.1f},{HEIGHT - PAD - (HEIGHT - 2 * PAD) * float(v) / top:.1f}")
    body = "".join(
        f'<polyline points="{" ".join(s)}" fill="none" stroke="#e8590c" stroke-width="2"/>'
        if len(s) > 1 else
        f'<circle cx="{s[0].split(",")[0]}" cy="{s[0].split(",")[1]}" r="2" fill="#e8590c"/>'
        for s in segments if s)
    return _svg(title, body + _axes(points, top))


def _axes(points: Sequence[tuple[Any, Any]], top: float) -> str:
    base = HEIGHT - PAD
    return (f'<line x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" stroke="#667"/>'
            f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{base}" stroke="#667"/>'
            f'<text x="{PAD + 3}" y="{PAD + 8}" font-size="9" fill="#667">max '
            f"{escape(_num(top))}</text>"
            f'<text x="{PAD}" y="{HEIGHT - 4}" font-size="9">{escape(str(points[0][0]))}</text>'
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 4}" font-size="9" text-anchor="end">'
            f"{escape(str(points[-1][0]))}</text>")


def _svg(title: str, body: str) -> str:
    return (f'<svg role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}"><title>{escape(title)}</title>'
            f'<text x="{PAD}" y="11" font-size="10" fill="#667">{escape(title)}</text>'
            f"{body}</svg>")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
