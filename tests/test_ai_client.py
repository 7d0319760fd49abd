"""The AI client against the fake OpenAI server (a real subprocess), and the offline provider."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.openai_fake import FakeHandle, run_openai_fake
from wayfare.ai import (
    OFFLINE_MARKER,
    AIAuthError,
    AIBadRequest,
    AIBadResponse,
    AIConfig,
    AIConfigError,
    AIProviderError,
    AIRateLimited,
    AIUnavailable,
    ChatClient,
    ChatProvider,
    OfflineProvider,
    make_provider,
)

API_KEY = "sk-test-SECRET-4f9a"
PROMPT_SECRET = "prompt-text-canary-7731"
EMAIL = "alice.traveller@example.com"


def plan_messages(extra: str = "") -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "TASK: plan\nSplit the query into sub-questions as JSON."},
        {"role": "user", "content": f"5 days in Lisbon with kids, food and museums {extra}"},
    ]


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeHandle]:
    with run_openai_fake() as handle:
        yield handle


@pytest.fixture
def fake(fake_server: FakeHandle) -> FakeHandle:
    fake_server.reset()
    return fake_server


class Sleeps(list[float]):
    """Records backoff sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(fake: FakeHandle, sleeps: Sleeps | None = None, **overrides: Any) -> ChatClient:
    settings: dict[str, Any] = {
        "base_url": fake.base_url,
        "api_key": API_KEY,
        "model": "test-model",
        "timeout_s": 5.0,
        "max_retries": 3,
        "backoff_base_s": 0.01,
    }
    settings.update(overrides)
    redactor = settings.pop("redactor", None)
    sleep = Sleeps() if sleeps is None else sleeps
    return ChatClient(AIConfig(**settings), redactor=redactor, sleep=sleep)


def assert_no_secrets(exc: AIProviderError) -> None:
    for text in (str(exc), repr(exc), exc.user_message, exc.detail, *map(str, exc.args)):
        assert API_KEY not in text
        assert PROMPT_SECRET not in text
        assert "Lisbon" not in text


def test_success_captures_usage_and_sends_protocol_fields(fake: FakeHandle) -> None:
    with client(fake) as c:
        result = c.complete(
            plan_messages(),
            response_format_json=True,
            request_id="req-123",
            idempotency_key="idem-9",
        )
    assert json.loads(result.text)["sub_questions"]
    assert result.model == "test-model"
    assert result.provider.startswith("127.0.0.1:")
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    assert result.total_tokens == result.prompt_tokens + result.completion_tokens
    assert result.attempts == 1 and result.finish_reason == "stop"
    assert result.duration_ms >= 0
    assert result.text not in repr(result)
    (request,) = fake.requests()
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "test-model"
    assert request["body"]["messages"] == plan_messages()
    assert request["body"]["response_format"] == {"type": "json_object"}
    assert "temperature" not in request["body"]
    assert request["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert request["headers"]["x-request-id"] == "req-123"
    assert request["headers"]["idempotency-key"] == "idem-9"


def test_plain_request_has_no_response_format_and_no_auth_without_key(fake: FakeHandle) -> None:
    with client(fake, api_key=None, temperature=0.2) as c:
        c.complete([{"role": "user", "content": "hello"}])
    (request,) = fake.requests()
    assert "response_format" not in request["body"]
    assert request["body"]["temperature"] == 0.2
    assert "authorization" not in request["headers"]
    assert "x-request-id" not in request["headers"]


def test_500_then_success_retries_once(fake: FakeHandle) -> None:
    fake.script([{"status": 500}])
    sleeps = Sleeps()
    with client(fake, sleeps) as c:
        result = c.complete(plan_messages(), request_id="r1", idempotency_key="k1")
    assert result.attempts == 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.01
    requests = fake.requests()
    assert len(requests) == 2
    assert {r["headers"]["idempotency-key"] for r in requests} == {"k1"}


def test_429_honours_retry_after_then_succeeds(fake: FakeHandle) -> None:
    fake.script([{"status": 429, "retry_after": 1}])
    sleeps = Sleeps()
    with client(fake, sleeps) as c:
        result = c.complete(plan_messages())
    assert result.attempts == 2
    assert sleeps == [1.0]


def test_retry_after_is_capped(fake: FakeHandle) -> None:
    fake.script([{"status": 503, "retry_after": 3600}])
    sleeps = Sleeps()
    with client(fake, sleeps, retry_after_cap_s=2.5) as c:
        assert c.complete(plan_messages()).attempts == 2
    assert sleeps == [2.5]


def test_429_exhausted_raises_rate_limited(fake: FakeHandle) -> None:
    fake.script([{"status": 429, "repeat": 3}])
    sleeps = Sleeps()
    with client(fake, sleeps, max_retries=2) as c, pytest.raises(AIRateLimited) as info:
        c.complete(plan_messages())
    err = info.value
    assert err.retryable and err.status == 429 and err.attempts == 3
    assert len(sleeps) == 2
    assert fake.stats()["calls"] == 3


def test_400_is_bad_request_without_retry(fake: FakeHandle) -> None:
    # The provider's error text quotes the prompt and the key; none of it may leak.
    fake.script([{"status": 400, "error_message": f"bad: {PROMPT_SECRET} {API_KEY}"}])
    with client(fake) as c, pytest.raises(AIBadRequest) as info:
        c.complete(plan_messages(PROMPT_SECRET))
    err = info.value
    assert not err.retryable and err.status == 400 and err.attempts == 1
    assert len(fake.requests()) == 1
    assert_no_secrets(err)


def test_401_is_auth_error(fake: FakeHandle) -> None:
    fake.script([{"status": 401}])
    with client(fake) as c, pytest.raises(AIAuthError) as info:
        c.complete(plan_messages())
    assert isinstance(info.value, AIBadRequest) and info.value.status == 401
    assert len(fake.requests()) == 1


def test_garbage_body_is_bad_response(fake: FakeHandle) -> None:
    fake.script([{"body": "<html>definitely not json"}])
    with client(fake) as c, pytest.raises(AIBadResponse) as info:
        c.complete(plan_messages())
    assert info.value.attempts == 1
    assert len(fake.requests()) == 1
    assert_no_secrets(info.value)


def test_json_without_choices_is_bad_response(fake: FakeHandle) -> None:
    fake.script([{"body": json.dumps({"id": "x", "object": "chat.completion"})}])
    with client(fake) as c, pytest.raises(AIBadResponse):
        c.complete(plan_messages())


def test_missing_usage_gives_zeros(fake: FakeHandle) -> None:
    body = {"model": "m", "choices": [{"index": 0, "message": {"content": "hi"}}]}
    fake.script([{"body": json.dumps(body)}])
    with client(fake) as c:
        result = c.complete(plan_messages())
    assert (result.prompt_tokens, result.completion_tokens, result.total_tokens) == (0, 0, 0)
    assert result.text == "hi" and result.finish_reason is None


def test_scripted_content_is_returned_verbatim(fake: FakeHandle) -> None:
    fake.script([{"content": "garbage, not JSON", "finish_reason": "length"}])
    with client(fake) as c:
        result = c.complete(plan_messages())
    assert result.text == "garbage, not JSON" and result.finish_reason == "length"
    with pytest.raises(AIBadResponse):
        result.parse_json()


def test_timeout_is_retried_then_unavailable(fake: FakeHandle) -> None:
    fake.script([{"delay_ms": 1500, "repeat": 2}])
    sleeps = Sleeps()
    with (
        client(fake, sleeps, timeout_s=0.3, max_retries=1) as c,
        pytest.raises(AIUnavailable) as info,
    ):
        c.complete(plan_messages())
    err = info.value
    assert err.retryable and err.status is None and err.attempts == 2
    assert "timed out" in str(err)
    assert len(sleeps) == 1
    assert fake.stats()["calls"] == 2


def test_dropped_connection_is_retried(fake: FakeHandle) -> None:
    fake.script([{"drop": True}])
    with client(fake) as c:
        assert c.complete(plan_messages()).attempts == 2


def test_connection_refused_is_unavailable() -> None:
    config = AIConfig(base_url="http://127.0.0.1:9/v1", model="m", max_retries=1, api_key=API_KEY)
    with ChatClient(config, sleep=Sleeps()) as c, pytest.raises(AIUnavailable) as info:
        c.complete(plan_messages(PROMPT_SECRET))
    assert info.value.attempts == 2
    assert_no_secrets(info.value)


def test_outbound_redaction_on(fake: FakeHandle) -> None:
    messages = [
        {"role": "system", "content": "TASK: research\nResearch one sub-question."},
        {"role": "user", "content": f"Write to {EMAIL} about Lisbon food"},
    ]
    original = json.dumps(messages)
    with client(fake, redactor=lambda s: s.replace(EMAIL, "[EMAIL]")) as c:
        c.complete(messages)
    assert json.dumps(messages) == original  # the caller's messages are not mutated
    (request,) = fake.requests()
    assert EMAIL not in json.dumps(request)
    assert request["body"]["messages"][1]["content"] == "Write to [EMAIL] about Lisbon food"


def test_outbound_redaction_off(fake: FakeHandle) -> None:
    messages = [{"role": "user", "content": f"Write to {EMAIL}"}]
    redactor = lambda s: s.replace(EMAIL, "[EMAIL]")  # noqa: E731
    with client(fake, redactor=redactor, redact_outbound=False) as c:
        c.complete(messages)
    (request,) = fake.requests()
    assert request["body"]["messages"][0]["content"] == f"Write to {EMAIL}"


def test_api_key_only_in_authorization_header(fake: FakeHandle) -> None:
    fake.script([{"status": 502, "error_message": API_KEY, "repeat": 2}])
    with client(fake, max_retries=1) as c, pytest.raises(AIUnavailable) as info:
        c.complete(plan_messages(PROMPT_SECRET))
    assert_no_secrets(info.value)
    assert info.value.status == 502 and info.value.attempts == 2
    for request in fake.requests():
        assert request["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in repr(c.config)
    restored = pickle.loads(pickle.dumps(info.value))  # noqa: S301 - our own object
    assert isinstance(restored, AIUnavailable) and restored.status == 502


def test_match_step_applies_only_to_matching_requests(fake: FakeHandle) -> None:
    fake.script([{"match": "TASK: synthesize", "status": 500}])
    synth = [
        {"role": "system", "content": "TASK: synthesize\nMerge the research."},
        {"role": "user", "content": "Lisbon"},
    ]
    with client(fake) as c:
        assert c.complete(plan_messages()).attempts == 1
        assert c.complete(synth).attempts == 2
    assert fake.stats() == {"calls": 3, "by_task": {"plan": 1, "research": 0, "synthesize": 2}}


def test_fake_rejects_unknown_step_keys(fake: FakeHandle) -> None:
    with pytest.raises(ValueError, match="unknown step key"):
        fake.script([{"stauts": 500}])


def test_offline_provider_answers_the_three_tasks() -> None:
    provider = OfflineProvider()
    assert isinstance(provider, ChatProvider)
    plan = provider.complete(plan_messages(), response_format_json=True)
    questions = json.loads(plan.text)["sub_questions"]
    assert 2 <= len(questions) <= 4 and all("Lisbon" in q for q in questions)
    assert OFFLINE_MARKER in plan.text

    research = provider.complete(
        [
            {"role": "system", "content": "TASK: research\nAnswer as JSON."},
            {"role": "user", "content": questions[0]},
        ]
    )
    notes = json.loads(research.text)
    assert notes["notes"].startswith(OFFLINE_MARKER)
    assert notes["places"] and {"name", "why", "tips"} <= set(notes["places"][0])

    synth = provider.complete(
        [
            {"role": "system", "content": "task: synthesize\nMerge into a guide."},
            {"role": "user", "content": f"Query: Lisbon\nResearch:\n{research.text}"},
        ]
    )
    guide = json.loads(synth.text)
    assert guide["summary"].startswith(OFFLINE_MARKER)
    assert [p["name"] for p in guide["places"]] == [p["name"] for p in notes["places"]]
    assert all(isinstance(p["tips"], list) for p in guide["places"])

    again = provider.complete(plan_messages(), response_format_json=True)
    assert again.text == plan.text  # deterministic
    assert plan.completion_tokens == len(plan.text) // 4
    assert plan.provider == "offline" and plan.model == "offline"


def test_offline_provider_plain_prompt_says_it_is_not_a_model() -> None:
    result = OfflineProvider().complete([{"role": "user", "content": "Hi there"}])
    assert result.text.startswith(OFFLINE_MARKER)


def test_fake_default_answers_tasks_with_json(fake: FakeHandle) -> None:
    with client(fake) as c:
        text = c.complete(
            [
                {"role": "system", "content": "TASK: synthesize\nMerge."},
                {"role": "user", "content": "Porto wine cellars"},
            ]
        ).text
    guide = json.loads(text)
    assert guide["summary"] and guide["places"]


def test_config_from_env_and_factory() -> None:
    offline = AIConfig.from_env({})
    assert offline.offline and offline.timeout_s == 60 and offline.max_retries == 3
    assert offline.redact_outbound is True
    assert isinstance(make_provider(offline), OfflineProvider)

    env = {
        "AI_BASE_URL": "http://localhost:11434/v1/",
        "AI_MODEL": "llama3.1",
        "AI_API_KEY": API_KEY,
        "AI_TIMEOUT_S": "12.5",
        "AI_MAX_RETRIES": "0",
        "AI_REDACT_OUTBOUND": "false",
    }
    config = AIConfig.from_env(env)
    assert config.base_url == "http://localhost:11434/v1"
    assert (config.timeout_s, config.max_retries, config.redact_outbound) == (12.5, 0, False)
    assert config.provider_name == "localhost:11434"
    assert API_KEY not in repr(config)
    provider = make_provider(config, redactor=str.upper)
    assert isinstance(provider, ChatClient)
    provider.close()

    with pytest.raises(AIConfigError):
        AIConfig.from_env({"AI_BASE_URL": "http://localhost:11434/v1"})  # no model
    with pytest.raises(AIConfigError):
        AIConfig.from_env({"AI_REDACT_OUTBOUND": "maybe"})
    with pytest.raises(AIConfigError):
        AIConfig.from_env({"AI_BASE_URL": "ftp://x", "AI_MODEL": "m"})
