"""AI provider configuration, read from AI_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wayfare.ai.types import AIConfigError

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class AIConfig:
    """How to reach the chat-completions provider.

    ``base_url`` None means "no provider configured": ``make_provider`` then returns the
    offline provider. ``api_key`` is excluded from ``repr``.
    """

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model: str = ""
    timeout_s: float = 60.0
    connect_timeout_s: float = 10.0
    max_retries: int = 3
    redact_outbound: bool = True
    temperature: float | None = None
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    retry_after_cap_s: float = 30.0

    def __post_init__(self) -> None:
        if self.base_url is not None:
            url = self.base_url.strip().rstrip("/")
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise AIConfigError(
                    "AI_BASE_URL must be an http(s) URL, e.g. https://api.openai.com/v1"
                )
            object.__setattr__(self, "base_url", url)
            if not self.model:
                raise AIConfigError("AI_MODEL is required when AI_BASE_URL is set")
        if self.timeout_s <= 0 or self.connect_timeout_s <= 0:
            raise AIConfigError("AI_TIMEOUT_S must be > 0")
        if not 0 <= self.max_retries <= 10:
            raise AIConfigError("AI_MAX_RETRIES must be between 0 and 10")
        if self.backoff_base_s < 0 or self.backoff_max_s < 0 or self.retry_after_cap_s < 0:
            raise AIConfigError("backoff settings must be >= 0")

    @property
    def offline(self) -> bool:
        return self.base_url is None

    @property
    def provider_name(self) -> str:
        """A short label for logs and ``Completion.provider``: the host[:port] or "offline"."""
        if self.base_url is None:
            return "offline"
        return urlsplit(self.base_url).netloc.rsplit("@", 1)[-1]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AIConfig:
        """Build from AI_BASE_URL, AI_API_KEY, AI_MODEL, AI_TIMEOUT_S, AI_CONNECT_TIMEOUT_S,
        AI_MAX_RETRIES, AI_REDACT_OUTBOUND, AI_TEMPERATURE. Empty values count as unset."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        timeout_s = _float(get("AI_TIMEOUT_S"), "AI_TIMEOUT_S", 60.0)
        connect_default = min(10.0, timeout_s)
        temperature = get("AI_TEMPERATURE")
        return cls(
            base_url=get("AI_BASE_URL"),
            api_key=get("AI_API_KEY"),
            model=get("AI_MODEL") or "",
            timeout_s=timeout_s,
            connect_timeout_s=_float(
                get("AI_CONNECT_TIMEOUT_S"), "AI_CONNECT_TIMEOUT_S", connect_default
            ),
            max_retries=_int(get("AI_MAX_RETRIES"), "AI_MAX_RETRIES", 3),
            redact_outbound=_bool(get("AI_REDACT_OUTBOUND"), "AI_REDACT_OUTBOUND", True),
            temperature=None if temperature is None else _float(temperature, "AI_TEMPERATURE", 0.0),
        )


def _float(raw: str | None, name: str, default: float) -> float:
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise AIConfigError(f"{name} must be a number") from None


def _int(raw: str | None, name: str, default: int) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise AIConfigError(f"{name} must be an integer") from None


def _bool(raw: str | None, name: str, default: bool) -> bool:
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise AIConfigError(f"{name} must be true or false")
