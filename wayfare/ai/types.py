"""Shared types for AI providers: the completion result, the provider protocol, the errors.

Nothing in this module ever stores or formats prompt text or API keys in messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Message = Mapping[str, Any]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": str}``."""

Redactor = Callable[[str], str]
"""Replaces PII in a text with placeholders (see ``wayfare.redact``)."""


@dataclass(frozen=True, slots=True)
class Completion:
    """The result of one chat completion (after any retries).

    ``text`` is excluded from ``repr`` so a stray log of the object never dumps model output.
    """

    text: str = field(repr=False)
    model: str
    provider: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    duration_ms: int = 0
    attempts: int = 1
    finish_reason: str | None = None

    def parse_json(self) -> Any:
        """Parse ``text`` as JSON, tolerating a surrounding Markdown code fence.

        Raises ``AIBadResponse`` (without quoting the text) when it is not JSON.
        """
        return parse_model_json(self.text, provider=self.provider)


@runtime_checkable
class ChatProvider(Protocol):
    """What the research job depends on: ``ChatClient`` and ``OfflineProvider`` both fit."""

    @property
    def provider(self) -> str: ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        response_format_json: bool = False,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Completion: ...


class AIConfigError(ValueError):
    """The AI_* environment is invalid (raised at startup, not per request)."""


class AIProviderError(Exception):
    """Base class of every provider failure.

    Attributes:
        retryable: a hint for the caller (e.g. the job worker) that trying again later may
            succeed. The HTTP client has already done its own retries when this is raised.
        status: the HTTP status of the last attempt, or None (connection error, timeout, ...).
        user_message: a short text safe to show to an end user.
        detail: a technical text for logs (``str(exc)``); never contains prompts or keys.
        attempts: how many HTTP attempts were made.
        retry_after_s: the provider's Retry-After hint of the last attempt, if any.
    """

    default_retryable = False
    default_user_message = "The AI service failed. Please try again later."

    def __init__(
        self,
        detail: str | None = None,
        *,
        retryable: bool | None = None,
        status: int | None = None,
        user_message: str | None = None,
        attempts: int = 0,
        provider: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        self.retryable: bool = self.default_retryable if retryable is None else retryable
        self.status: int | None = status
        self.user_message: str = user_message or self.default_user_message
        self.detail: str = detail or self.user_message
        self.attempts: int = attempts
        self.provider: str | None = provider
        self.retry_after_s: float | None = retry_after_s
        super().__init__(self.detail)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor: make the error picklable (e.g. across processes).
        return (_restore_error, (type(self), dict(self.__dict__)))


def _restore_error(cls: type[AIProviderError], state: dict[str, Any]) -> AIProviderError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("detail", ""))
    err.__dict__.update(state)
    return err


class AIRateLimited(AIProviderError):
    """HTTP 429 on every attempt."""

    default_retryable = True
    default_user_message = "The AI service is busy right now. Please try again in a few minutes."


class AIUnavailable(AIProviderError):
    """HTTP 5xx, connection errors, timeouts on every attempt."""

    default_retryable = True
    default_user_message = "The AI service is temporarily unavailable. Please try again later."


class AIBadRequest(AIProviderError):
    """A 4xx other than 429 (and 408): the request itself is wrong; retrying will not help."""

    default_retryable = False
    default_user_message = "The AI request was rejected. This needs a fix on our side."


class AIAuthError(AIBadRequest):
    """HTTP 401/403: the API key is missing, wrong or lacks access."""

    default_user_message = "The AI service rejected our credentials. This needs a fix on our side."


class AIBadResponse(AIProviderError):
    """A 2xx whose body is not a chat completion (non-JSON, no choices), or model output that
    was expected to be JSON and is not.

    Not retried by the client (the call was billed); ``retryable`` is True because asking
    again usually yields a well-formed answer, so the job layer may decide to.
    """

    default_retryable = True
    default_user_message = "The AI service returned an unusable answer. Please try again."


def parse_model_json(text: str, *, provider: str | None = None) -> Any:
    """Parse model output as JSON; strips a ```json fence and surrounding prose if needed."""
    candidate = text.strip()
    if candidate.startswith("```"):
        first_newline = candidate.find("\n")
        candidate = candidate[first_newline + 1 :] if first_newline != -1 else ""
        if candidate.rstrip().endswith("```"):
            candidate = candidate.rstrip()[:-3]
        candidate = candidate.strip()
    try:
        return json.loads(candidate)
    except ValueError:
        pass
    start, end = candidate.find("{"), candidate.rfind("}")
    if start != -1 and end > start:
        try:
            return json.loads(candidate[start : end + 1])
        except ValueError:
            pass
    raise AIBadResponse(
        f"model output is not valid JSON ({len(text)} chars)", provider=provider, attempts=1
    )
