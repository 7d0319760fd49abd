"""ai.research: plan sub-questions, research each, synthesize (docs/jobs.md,
docs/ai-providers.md).

Each step is checkpointed as soon as it is done (`plan`, then `answers` one sub-question at a
time), so a resumed job (after a crash, a lease expiry or a retry) asks the model nothing it
has already answered. Progress: 10 % after the plan, then evenly per sub-question up to 90 %,
100 % with the synthesis. Cancellation is honoured between steps.

Every provider call is logged once in private.ai_logs through ctx.log_ai_call: usage and
timing always; prompt and response only redacted, and only when the user's profile consents
(`redacted`); values the redactor finds in the query itself (a name, a passport number) are
masked wherever the model echoes them without their cue. Outbound prompts are redacted too
unless AI_REDACT_OUTBOUND=false. A malformed answer is asked again (MAX_ASKS per step); then
the job fails with a user-safe message.
Provider outages and rate limits are retried by the job's backoff, keeping the checkpoints.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from wayfare.ai import AIConfig, make_provider
from wayfare.ai.types import AIBadResponse, AIProviderError, ChatProvider, Completion
from wayfare.logs import get_logger
from wayfare.redact import PiiType, find_pii, redact
from worker.context import JobContext
from worker.errors import PermanentError, RetryableError
from worker.handlers import research_schema as schema
from worker.registry import handler

log = get_logger("worker.research")
T = TypeVar("T")

MAX_ASKS = 3
UNUSABLE = "The research assistant gave answers we could not use. Please try again later."
REFUSED = "The research assistant could not take this request."

SYSTEM = {
    "plan": (
        "TASK: plan\nYou are Wayfare's travel research assistant. Break the traveller's "
        "request into 2 to 4 focused sub-questions that together answer it. Reply with JSON "
        'only: {"sub_questions": ["...", "..."]}'
    ),
    "research": (
        "TASK: research\nYou are Wayfare's travel research assistant. Answer one "
        "sub-question of a trip request with concrete places. Reply with JSON only: "
        '{"notes": "...", "places": [{"name": "...", "why": "...", "tips": ["..."]}]}'
    ),
    "synthesize": (
        "TASK: synthesize\nYou are Wayfare's travel research assistant. Combine the research "
        "notes into one recommendation of at most 10 places. Reply with JSON only: "
        '{"summary": "...", "places": [{"name": "...", "why": "...", "tips": ["..."]}]}'
    ),
}

_provider: ChatProvider | None = None
_provider_lock = threading.Lock()


def provider() -> ChatProvider:
    """One provider per worker process, configured from the environment."""
    global _provider
    with _provider_lock:
        if _provider is None:
            _provider = make_provider(AIConfig.from_env(), redactor=redact)
        return _provider


def messages(task: str, user_text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM[task]}, {"role": "user", "content": user_text}]


KnownValue = tuple[re.Pattern[str], str]


def known_values(text: str) -> list[KnownValue]:
    """The personal data the redactor finds in the job's own input (where its cue is: "my name
    is ...", "passport number ..."), as patterns for the same values anywhere else, whole words,
    any case: a model that echoes them without the cue ("show C03005988 at the desk") must not
    get them past the redactor into private.ai_logs. A name also word by word (3+ letters)."""
    values: dict[str, str] = {}
    for finding in find_pii(text):
        value = text[finding.start:finding.end].strip()
        if len(value) < 3:
            continue
        values[value] = finding.type.placeholder
        if finding.type is PiiType.NAME:
            for word in re.findall(r"[^\W\d_]{3,}", value):
                values.setdefault(word, finding.type.placeholder)
    return [(re.compile(r"(?<!\w)" + re.escape(v) + r"(?!\w)", re.IGNORECASE), placeholder)
            for v, placeholder in sorted(values.items(), key=lambda kv: -len(kv[0]))]


def mask_known(text: str, known: Sequence[KnownValue]) -> str:
    for pattern, placeholder in known:
        text = pattern.sub(placeholder, text)
    return text


class Calls:
    """Ask the model, validate, log each call; one per job run."""

    def __init__(self, ctx: JobContext, chat: ChatProvider) -> None:
        self.ctx = ctx
        self.chat = chat
        self.known = known_values(str(ctx.input.get("query", "")))

    def scrub(self, text: str) -> str:
        """What may be kept of a text: the job's known values masked, then redacted."""
        return redact(mask_known(text, self.known))

    def ask(self, task: str, step: str, user_text: str, parse: Callable[[Any], T]) -> T:
        prompt = messages(task, user_text)
        for ask in range(1, MAX_ASKS + 1):
            started = time.monotonic()
            completion: Completion | None = None
            try:
                completion = self.chat.complete(
                    prompt, response_format_json=True, request_id=self.ctx.request_id,
                    idempotency_key=f"{self.ctx.job_id}:{step}:{self.ctx.attempt}:{ask}")
                parsed = parse(completion.parse_json())
            except (AIBadResponse, schema.MalformedAnswer) as exc:
                self._log(task, prompt, completion, started, error=type(exc).__name__)
                log.warning("research.malformed_answer", step=step, ask=ask,
                            error_type=type(exc).__name__)
                continue
            except AIProviderError as exc:
                self._log(task, prompt, completion, started, error=type(exc).__name__,
                          attempts=exc.attempts)
                if exc.retryable:
                    raise RetryableError(f"AI provider {type(exc).__name__} at {step}") from exc
                raise PermanentError(REFUSED, detail=str(exc)) from exc
            self._log(task, prompt, completion, started, structured=parsed)
            return parsed
        raise PermanentError(UNUSABLE, detail=f"{MAX_ASKS} malformed answers at {step}")

    def _log(self, task: str, prompt: Sequence[dict[str, str]], completion: Completion | None,
             started: float, *, error: str | None = None, structured: Any = None,
             attempts: int | None = None) -> None:
        """One private.ai_logs row; texts redacted here, the values found in the job's input
        masked wherever they recur (the database keeps texts only with the user's consent, and
        refuses any that still hold an email, a card number, ...)."""
        prompt_text = "\n\n".join(m["content"] for m in prompt)
        kept = self.ctx.log_ai_call(
            provider=completion.provider if completion else self.chat.provider,
            model=(completion.model if completion else None) or "unknown",
            purpose=f"research.{task}",
            prompt=self.scrub(prompt_text),
            response=self.scrub(completion.text) if completion else None,
            structured=json.loads(self.scrub(json.dumps(structured, ensure_ascii=False)))
            if structured is not None else None,
            usage={
                "prompt_tokens": completion.prompt_tokens if completion else 0,
                "completion_tokens": completion.completion_tokens if completion else 0,
                "total_tokens": completion.total_tokens if completion else 0,
            },
            duration_ms=int((time.monotonic() - started) * 1000),
            attempts=completion.attempts if completion else (attempts or 1),
            error=error,
        )
        if not kept:
            # the redactor missed something the database still recognises: usage only
            log.warning("research.ai_log_text_refused", purpose=f"research.{task}")


@handler("ai.research")
def research(ctx: JobContext) -> dict[str, Any]:
    query = str(ctx.input["query"])
    calls = Calls(ctx, provider())

    plan: list[str] | None = ctx.checkpoint.get("plan")
    if plan is None:
        ctx.check_cancel()
        plan = calls.ask("plan", "plan", query, schema.plan)
        ctx.save_checkpoint("plan", plan, progress=10)

    answers: dict[str, Any] = dict(ctx.checkpoint.get("answers", {}))
    for index, question in enumerate(plan):
        if str(index) in answers:
            continue  # answered before a crash or retry: never asked again
        ctx.check_cancel()
        answers[str(index)] = calls.ask(
            "research", f"research.{index}",
            f"Trip request: {query}\nSub-question: {question}", schema.research)
        ctx.save_checkpoint("answers", answers,
                            progress=10 + 80 * len(answers) // len(plan))

    ctx.check_cancel()
    notes = [{"sub_question": q, **answers[str(i)]} for i, q in enumerate(plan)]
    final = calls.ask("synthesize", "synthesize",
                      f"Trip request: {query}\nResearch notes:\n{json.dumps(notes)}",
                      schema.synthesis)
    ctx.progress(100)
    return {
        "summary": final["summary"],
        "places": final["places"],
        "sub_questions": plan,
        "provider": calls.chat.provider,
    }
