"""The offline provider: deterministic, no network, plainly not a model.

Used when AI_BASE_URL is unset so the app works on a fresh machine. It recognises the
research job's ``TASK: plan`` / ``TASK: research`` / ``TASK: synthesize`` marker on the first
line of the first system message and answers with JSON of the expected shape. The answer
builder is shared with ``devstack.openai_fake``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from typing import Any

from wayfare.ai.types import Completion, Message

OFFLINE_MARKER = "[offline provider: not a model]"
KNOWN_TASKS = ("plan", "research", "synthesize")

_TASK_RE = re.compile(r"^\s*TASK:\s*([A-Za-z_-]+)", re.IGNORECASE)
_WORD_RE = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_MAX_SCAN_CHARS = 50_000
_STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    between both but by can could day days did do does doing during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me
    more most my no nor not now of off on once only or other our ours out over own please
    question same she should so some such than that the their theirs them then there these
    they this those through to too trip under until up very want was we week weeks were what
    when where which while who whom why will with would you your yours plan research
    synthesize task json sub places place notes summary""".split()
)


def estimate_tokens(text: str) -> int:
    """Rough token count used by the offline provider and the fake server."""
    return len(text) // 4


def message_text(message: Message) -> str:
    """The text of one message; tolerates the multi-part content format."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def detect_task(messages: Sequence[Message]) -> str | None:
    """The lower-cased ``TASK: <name>`` from the first line of the first system message."""
    for message in messages:
        if message.get("role") == "system":
            first_line = message_text(message).lstrip().split("\n", 1)[0]
            match = _TASK_RE.match(first_line)
            return match.group(1).lower() if match else None
    return None


def build_answer(
    messages: Sequence[Message], *, json_mode: bool = False, marker: str = OFFLINE_MARKER
) -> str:
    """A deterministic answer for ``messages``: JSON for the TASK kinds, marked prose otherwise."""
    task = detect_task(messages)
    user_text = _user_text(messages)
    words = _keywords(user_text)
    topic = " ".join(words[:6]) or "your trip"
    if task == "plan":
        payload: dict[str, Any] = _plan(words, topic, marker)
    elif task == "research":
        payload = _research(words, topic, marker)
    elif task == "synthesize":
        payload = _synthesize(user_text, words, topic, marker)
    elif json_mode:
        payload = {"note": f"{marker} Deterministic placeholder; no model was asked."}
    else:
        return (
            f"{marker} This is a deterministic placeholder answer about {topic}. "
            "Set AI_BASE_URL and AI_MODEL to use a real model."
        )
    return json.dumps(payload, ensure_ascii=False)


class OfflineProvider:
    """Same interface as ``ChatClient``; never touches the network."""

    model = "offline"

    def __init__(self, marker: str = OFFLINE_MARKER) -> None:
        self._marker = marker

    @property
    def provider(self) -> str:
        return "offline"

    def complete(
        self,
        messages: Sequence[Message],
        *,
        response_format_json: bool = False,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Completion:
        started = time.monotonic()
        text = build_answer(messages, json_mode=response_format_json, marker=self._marker)
        prompt_tokens = estimate_tokens("".join(message_text(m) for m in messages))
        completion_tokens = estimate_tokens(text)
        return Completion(
            text=text,
            model=self.model,
            provider=self.provider,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
            duration_ms=int((time.monotonic() - started) * 1000),
            attempts=1,
            finish_reason="stop",
        )


def _user_text(messages: Sequence[Message]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message)[:_MAX_SCAN_CHARS]
    return ""


def _keywords(text: str) -> list[str]:
    """Distinct non-stopwords in order of appearance, capitalised ones (likely places) first."""
    seen: set[str] = set()
    capitalised: list[str] = []
    other: list[str] = []
    for word in _WORD_RE.findall(text):
        key = word.lower()
        if key in seen or key in _STOPWORDS or len(word) < 3:
            continue
        seen.add(key)
        (capitalised if word[0].isupper() else other).append(word)
    return capitalised + other


def _plan(words: list[str], topic: str, marker: str) -> dict[str, Any]:
    templates = (
        "Which sights and neighbourhoods are most worthwhile for: {t}?",
        "Where to eat and which local dishes to try for: {t}?",
        "How to get around and where to stay for: {t}?",
        "What practical tips (timing, budget, bookings) matter for: {t}?",
    )
    count = 2 + len(words) % 3
    return {
        "sub_questions": [template.format(t=topic) for template in templates[:count]],
        "note": f"{marker} Generic questions built from the query words.",
    }


def _places(words: list[str], count: int, marker: str) -> list[dict[str, Any]]:
    focus = words[0] if words else "the destination"
    return [
        {
            "name": f"Placeholder place {i} for {focus}",
            "why": f"{marker} Generic suggestion derived from the query words; not a real "
            "recommendation.",
            "tips": ["Check opening hours before you go.", "Book ahead in high season."],
        }
        for i in range(1, count + 1)
    ]


def _research(words: list[str], topic: str, marker: str) -> dict[str, Any]:
    return {
        "notes": f"{marker} Placeholder notes for: {topic}. No research was done.",
        "places": _places(words, 2, marker),
    }


def _synthesize(user_text: str, words: list[str], topic: str, marker: str) -> dict[str, Any]:
    places = _places_from_json(user_text) or _places(words, 3, marker)
    return {
        "summary": f"{marker} Placeholder summary for: {topic}. It lists {len(places)} "
        "places gathered without a model.",
        "places": places,
    }


def _places_from_json(text: str, limit: int = 8) -> list[dict[str, Any]]:
    """Collect ``places`` entries from JSON objects embedded in ``text`` (research results)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    names: set[str] = set()
    pos, scans = text.find("{"), 0
    while pos != -1 and scans < 500 and len(found) < limit:
        scans += 1
        try:
            obj, end = decoder.raw_decode(text, pos)
        except ValueError:
            pos = text.find("{", pos + 1)
            continue
        if isinstance(obj, dict) and isinstance(obj.get("places"), list):
            for place in obj["places"]:
                if not isinstance(place, dict) or not isinstance(place.get("name"), str):
                    continue
                if place["name"] in names or len(found) >= limit:
                    continue
                names.add(place["name"])
                tips = place.get("tips")
                found.append(
                    {
                        "name": place["name"],
                        "why": str(place.get("why", "")),
                        "tips": [str(t) for t in tips] if isinstance(tips, list) else [],
                    }
                )
        pos = text.find("{", end)
    return found
