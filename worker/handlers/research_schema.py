"""The shapes the research job accepts from a model, checked before anything is stored.

A model's answer is untrusted input: each parser returns a clean copy (trimmed strings,
bounded lists) or raises MalformedAnswer, which the handler treats as "ask again".
"""

from __future__ import annotations

from typing import Any


class MalformedAnswer(ValueError):
    """The model's JSON does not have the shape the step asked for."""


def _text(value: Any, name: str, *, max_length: int, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise MalformedAnswer(f"{name} must be a non-empty string")
    text = value.strip()
    if len(text) > max_length:
        raise MalformedAnswer(f"{name} is longer than {max_length} characters")
    return text


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedAnswer(f"{name} must be a JSON object")
    return value


def _list(value: Any, name: str, *, min_items: int, max_items: int) -> list[Any]:
    if not isinstance(value, list) or not min_items <= len(value) <= max_items:
        raise MalformedAnswer(f"{name} must be a list of {min_items} to {max_items} items")
    return value


def place(value: Any, name: str = "place") -> dict[str, Any]:
    data = _object(value, name)
    tips = data.get("tips", [])
    return {
        "name": _text(data.get("name"), f"{name}.name", max_length=200),
        "why": _text(data.get("why"), f"{name}.why", max_length=1000),
        "tips": [_text(t, f"{name}.tips[]", max_length=300)
                 for t in _list(tips, f"{name}.tips", min_items=0, max_items=10)],
    }


def plan(value: Any) -> list[str]:
    data = _object(value, "plan")
    questions = _list(data.get("sub_questions"), "sub_questions", min_items=1, max_items=6)
    return [_text(q, "sub_questions[]", max_length=300) for q in questions]


def research(value: Any) -> dict[str, Any]:
    data = _object(value, "research")
    places = _list(data.get("places", []), "places", min_items=0, max_items=10)
    return {
        "notes": _text(data.get("notes"), "notes", max_length=4000),
        "places": [place(p, f"places[{i}]") for i, p in enumerate(places)],
    }


def synthesis(value: Any) -> dict[str, Any]:
    data = _object(value, "synthesis")
    places = _list(data.get("places"), "places", min_items=1, max_items=20)
    return {
        "summary": _text(data.get("summary"), "summary", max_length=4000),
        "places": [place(p, f"places[{i}]") for i, p in enumerate(places)],
    }
