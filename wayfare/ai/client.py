"""HTTP client for OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, ...).

Retries 429, 408, 5xx, connection errors and timeouts with exponential backoff and full
jitter (a Retry-After header wins, capped). Logs carry only metadata (status, attempt,
timings, token counts, request id): never prompt text, model output or the API key.
"""

from __future__ import annotations

import dataclasses
import email.utils
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from wayfare.ai.config import AIConfig
from wayfare.ai.types import (
    AIAuthError,
    AIBadRequest,
    AIBadResponse,
    AIConfigError,
    AIProviderError,
    AIRateLimited,
    AIUnavailable,
    Completion,
    Message,
    Redactor,
)

logger = logging.getLogger("wayfare.ai")

_SAFE_CODE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_USER_AGENT = "wayfare-ai/0.1"


class ChatClient:
    """Calls ``POST {base_url}/chat/completions``. Thread-safe; reuse one per process."""

    def __init__(
        self,
        config: AIConfig,
        redactor: Redactor | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        if config.base_url is None:
            raise AIConfigError("ChatClient needs AI_BASE_URL; use make_provider() for offline")
        self._config = config
        self._redactor = redactor
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._url = f"{config.base_url}/chat/completions"
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=httpx.Timeout(
                config.timeout_s, connect=min(config.connect_timeout_s, config.timeout_s)
            ),
            follow_redirects=False,
        )
        if config.redact_outbound and redactor is None:
            logger.warning(
                "AI_REDACT_OUTBOUND is on but no redactor was wired; prompts go out unredacted"
            )

    @property
    def provider(self) -> str:
        return self._config.provider_name

    @property
    def config(self) -> AIConfig:
        return self._config

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def complete(
        self,
        messages: Sequence[Message],
        *,
        response_format_json: bool = False,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Completion:
        """Send one chat completion, retrying transient failures.

        Raises ``AIRateLimited`` / ``AIUnavailable`` once retries are exhausted,
        ``AIBadRequest`` (``AIAuthError`` for 401/403) at once on other 4xx, and
        ``AIBadResponse`` when a 2xx body is not a chat completion.
        """
        if not messages:
            raise ValueError("messages must not be empty")
        body = self._body(messages, response_format_json)
        headers = self._headers(request_id, idempotency_key)
        max_attempts = self._config.max_retries + 1
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            outcome, retry_after = self._attempt(body, headers)
            if isinstance(outcome, Completion):
                return self._finish(outcome, attempt, started, request_id)
            error = outcome
            error.attempts = attempt
            error.retry_after_s = retry_after
            if not error.retryable or isinstance(error, AIBadResponse) or attempt >= max_attempts:
                logger.warning(
                    "AI call failed: provider=%s status=%s attempts=%d error=%s request_id=%s",
                    self.provider,
                    error.status,
                    attempt,
                    type(error).__name__,
                    request_id,
                )
                raise error
            delay = self._backoff(attempt, retry_after)
            logger.info(
                "AI call attempt %d/%d failed (%s, status=%s); retrying in %.2fs request_id=%s",
                attempt,
                max_attempts,
                type(error).__name__,
                error.status,
                delay,
                request_id,
            )
            self._sleep(delay)

    # -- one attempt -------------------------------------------------------------------------

    def _attempt(
        self, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[Completion | AIProviderError, float | None]:
        provider = self.provider
        try:
            response = self._http.post(self._url, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            return AIUnavailable(
                f"AI provider {provider} timed out ({type(exc).__name__})", provider=provider
            ), None
        except httpx.TransportError as exc:
            return AIUnavailable(
                f"AI provider {provider} connection failed ({type(exc).__name__})",
                provider=provider,
            ), None
        status = response.status_code
        if 200 <= status < 300:
            try:
                return self._parse(response), None
            except AIBadResponse as exc:
                return exc, None
        retry_after = _retry_after_seconds(response.headers)
        detail = f"AI provider {provider} returned HTTP {status}{_error_code(response)}"
        if status == 429:
            return AIRateLimited(detail, status=status, provider=provider), retry_after
        if status >= 500 or status == 408:
            return AIUnavailable(detail, status=status, provider=provider), retry_after
        if status in (401, 403):
            return AIAuthError(
                detail + "; check AI_API_KEY", status=status, provider=provider
            ), None
        if 300 <= status < 400:
            detail += " (redirect; check AI_BASE_URL)"
        return AIBadRequest(detail, status=status, provider=provider), None

    def _parse(self, response: httpx.Response) -> Completion:
        provider = self.provider
        try:
            data = response.json()
        except ValueError:
            raise AIBadResponse(
                f"AI provider {provider} returned a non-JSON body "
                f"(HTTP {response.status_code}, {len(response.content)} bytes)",
                status=response.status_code,
                provider=provider,
            ) from None
        choice = _first_choice(data)
        if choice is None:
            raise AIBadResponse(
                f"AI provider {provider} returned JSON without choices{_error_code_from(data)}",
                status=response.status_code,
                provider=provider,
            )
        text = _content_text(choice.get("message"))
        if text is None:
            raise AIBadResponse(
                f"AI provider {provider} returned a choice without text content "
                f"(finish_reason={_safe(choice.get('finish_reason'))})",
                status=response.status_code,
                provider=provider,
            )
        prompt_tokens, completion_tokens, total_tokens = _usage(data.get("usage"))
        model = data.get("model")
        finish_reason = choice.get("finish_reason")
        return Completion(
            text=text,
            model=model if isinstance(model, str) and model else self._config.model,
            provider=provider,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=total_tokens,
            finish_reason=finish_reason if isinstance(finish_reason, str) else None,
        )

    def _finish(
        self, completion: Completion, attempts: int, started: float, request_id: str | None
    ) -> Completion:
        duration_ms = int((time.monotonic() - started) * 1000)
        logger.info(
            "AI call ok: provider=%s model=%s attempts=%d duration_ms=%d tokens=%d/%d "
            "finish_reason=%s request_id=%s",
            completion.provider,
            completion.model,
            attempts,
            duration_ms,
            completion.prompt_tokens,
            completion.completion_tokens,
            completion.finish_reason,
            request_id,
        )
        return dataclasses.replace(completion, duration_ms=duration_ms, attempts=attempts)

    # -- request building ----------------------------------------------------------------------

    def _body(self, messages: Sequence[Message], response_format_json: bool) -> dict[str, Any]:
        redact = self._redactor if self._config.redact_outbound else None
        body: dict[str, Any] = {
            "model": self._config.model,
            "messages": [_outbound_message(m, redact) for m in messages],
        }
        if self._config.temperature is not None:
            body["temperature"] = self._config.temperature
        if response_format_json:
            body["response_format"] = {"type": "json_object"}
        return body

    def _headers(self, request_id: str | None, idempotency_key: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
        if self._config.api_key:
            headers["Authorization"] = f"Bearer {self._config.api_key}"
        if request_id:
            headers["X-Request-ID"] = request_id
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._config.retry_after_cap_s)
        ceiling = min(self._config.backoff_max_s, self._config.backoff_base_s * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)


def _outbound_message(message: Message, redact: Redactor | None) -> dict[str, Any]:
    """A copy of ``message`` with its text content redacted (the caller's dict is untouched)."""
    out = dict(message)
    if redact is None:
        return out
    content = out.get("content")
    if isinstance(content, str):
        out["content"] = redact(content)
    elif isinstance(content, list):
        out["content"] = [
            {**part, "text": redact(part["text"])}
            if isinstance(part, dict) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
    return out


def _first_choice(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    return choices[0]


def _content_text(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers return content parts
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        texts = [p for p in parts if isinstance(p, str)]
        return "".join(texts) if texts else None
    return None


def _usage(usage: Any) -> tuple[int, int, int]:
    if not isinstance(usage, dict):
        return 0, 0, 0

    def count(key: str) -> int:
        value = usage.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    prompt, completion = count("prompt_tokens"), count("completion_tokens")
    return prompt, completion, count("total_tokens") or prompt + completion


def _retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date), else None."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_code(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    return _error_code_from(data)


def _error_code_from(data: Any) -> str:
    """`` (code=..., type=...)`` from an OpenAI error body; only short identifier-like values,
    never the provider's free-text message (it may quote the prompt)."""
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return ""
    error = data["error"]
    fields = [f"{key}={error[key]}" for key in ("code", "type") if _is_safe(error.get(key))]
    return f" ({', '.join(fields)})" if fields else ""


def _is_safe(value: Any) -> bool:
    return isinstance(value, str) and bool(_SAFE_CODE_RE.match(value))


def _safe(value: Any) -> str:
    return value if _is_safe(value) else "?"
