"""AI providers: an OpenAI-compatible chat-completions client and a deterministic offline one.

Typical wiring::

    from wayfare.ai import AIConfig, make_provider
    from wayfare.redact import redact

    provider = make_provider(AIConfig.from_env(), redactor=redact)
    completion = provider.complete(messages, response_format_json=True, request_id=job_id)
"""

from __future__ import annotations

import logging

from wayfare.ai.client import ChatClient
from wayfare.ai.config import AIConfig
from wayfare.ai.offline import OFFLINE_MARKER, OfflineProvider, detect_task, estimate_tokens
from wayfare.ai.types import (
    AIAuthError,
    AIBadRequest,
    AIBadResponse,
    AIConfigError,
    AIProviderError,
    AIRateLimited,
    AIUnavailable,
    ChatProvider,
    Completion,
    Message,
    Redactor,
    parse_model_json,
)

__all__ = [
    "OFFLINE_MARKER",
    "AIAuthError",
    "AIBadRequest",
    "AIBadResponse",
    "AIConfig",
    "AIConfigError",
    "AIProviderError",
    "AIRateLimited",
    "AIUnavailable",
    "ChatClient",
    "ChatProvider",
    "Completion",
    "Message",
    "OfflineProvider",
    "Redactor",
    "detect_task",
    "estimate_tokens",
    "make_provider",
    "parse_model_json",
]

logger = logging.getLogger("wayfare.ai")


def make_provider(
    config: AIConfig, redactor: Redactor | None = None
) -> ChatClient | OfflineProvider:
    """The HTTP client when AI_BASE_URL is set, else the offline provider (no network, so the
    redactor is not needed there)."""
    if config.base_url is None:
        logger.info("AI_BASE_URL is unset: using the offline provider (not a model)")
        return OfflineProvider()
    return ChatClient(config, redactor=redactor)
