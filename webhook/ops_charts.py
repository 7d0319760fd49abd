"""Tiny server-side charts for the ops page: inline SVG, no JavaScript, nothing fetched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import escape

WIDTH, HEIGHT, PAD = 320, 110, 18


def bars(points: Sequence[tuple[Any, float]], title: str) -> str:
    if not points:
        return f"<p><small>{escape(title)}: nothing yet</small></p>"
    top = max(float(v) for _, v in points) or 1.0
    step = (WIDTH - 2 * PAD) / len(points)
    rects = []
    for i, (label, value) in enumerate(points):
        h = (HEIGHT - 2 * PAD) * float(value) / top
        x = PAD + i * step
        rects.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{max(step - 3, 1):.1f}" '
            f'height="{h:.1f}" fill="#4b7bec"><title>{escape(str(label))}: {value}</title>'
            "</rect>")
        if len(points) <= 8:
            rects.append(f'<text x="{x:.1f}" y="{HEIGHT - 4}" font-size="9">'
                         f"{escape(str(label))[:10]}</text>")
    return _svg(title, "".join(rects), top)


def line(points: Sequence[tuple[Any, float]], title: str) -> str:
    if len(points) < 2:
        return f"<p><small>{escape(title)}: not enough data yet</small></p>"
    top = max(float(v) for _, v in points) or 1.0
    step = (WIDTH - 2 * PAD) / (len(points) - 1)
    coords = " ".join(
        f"{PAD + i * step:.1f},{HEIGHT - PAD - (HEIGHT - 2 * PAD) * float(v) / top:.1f}"
        for i, (_, v) in enumerate(points))
    body = f'<polyline points="{coords}" fill="none" stroke="#e8590c" stroke-width="2"/>'
    return _svg(title, body, top)


def _svg(title: str, body: str, top: float) -> str:
    return (f'<svg role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}"><title>{escape(title)}</title>'
            f'<text x="{PAD}" y="11" font-size="10" fill="#667">{escape(title)} '
            f"(max {top:g})</text>{body}</svg>")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
