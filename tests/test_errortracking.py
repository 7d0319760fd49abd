"""Error tracking (issue 13): with SENTRY_DSN set, an unexpected error in the web service reaches
a Sentry endpoint (here a local one that receives the envelope over HTTP, as sentry.io would)
with personal data and secrets scrubbed; without SENTRY_DSN nothing is sent."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.http import QuietHandler, Served
from wayfare.errortracking import scrub

ROOT = Path(__file__).resolve().parents[1]
SECRETS = ("maria@example.com", "C03005988", "sekrit-token", "cookie-sekrit", "v1=sig-sekrit",
           "x@y.z", "Maria Gonzalez")

APP = """
import sentry_sdk
from flask import Flask
from wayfare import errortracking
from webhook import errors

started = errortracking.init("web")
app = Flask("t")
errors.init_app(app)

@app.get("/boom")
def boom():
    guest = "maria@example.com"  # a frame local: never sent
    raise RuntimeError("refund for maria@example.com failed (passport number C03005988; "
                       "my name is Maria Gonzalez)")

reply = app.test_client().get("/boom?email=x@y.z", headers={
    "Authorization": "Bearer sekrit-token", "Cookie": "wayfare_ops_token=cookie-sekrit",
    "Stripe-Signature": "t=1,v1=sig-sekrit"})
assert reply.status_code == 500, reply.status_code
sentry_sdk.flush(10)
print("started" if started else "off")
"""


class SentryEndpoint:
    """Receives envelopes at /api/<project>/envelope/ (gzip or plain)."""

    def __init__(self) -> None:
        self.envelopes: list[str] = []
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.read_body()
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path.endswith("/envelope/"):
                    outer.envelopes.append(body.decode("utf-8", "replace"))
                self.send_json({})

        self.served = Served(Handler)
        self.port = self.served.port


@pytest.fixture
def sentry() -> Iterator[SentryEndpoint]:
    endpoint = SentryEndpoint()
    yield endpoint
    endpoint.served.close()


def run_app(dsn: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    if dsn:
        env["SENTRY_DSN"] = dsn
    out = subprocess.run([sys.executable, "-c", APP], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.slow  # runs the app in a subprocess
def test_an_unexpected_error_reaches_sentry_scrubbed(sentry: SentryEndpoint) -> None:
    assert run_app(f"http://publickey@127.0.0.1:{sentry.port}/42") == "started"
    events = [e for e in sentry.envelopes if '"type":"event"' in e.replace(" ", "")]
    assert events, sentry.envelopes
    sent = "\n".join(sentry.envelopes)
    assert "RuntimeError" in sent and "http.unexpected_error" in sent
    assert "[EMAIL]" in sent and "[PASSPORT]" in sent
    for secret in SECRETS:
        assert secret not in sent, secret
    assert '"environment":"development"' in sent.replace(" ", "")


@pytest.mark.slow  # runs the app in a subprocess
def test_without_a_dsn_nothing_is_sent(sentry: SentryEndpoint) -> None:
    assert run_app(None) == "off"
    assert sentry.envelopes == []


def test_scrub_drops_request_secrets_and_redacts_text() -> None:
    event = {"request": {"url": "https://w.example/ops?token=abc", "query_string": "token=abc",
                         "data": {"card": "4242"}, "cookies": {"a": "b"},
                         "headers": {"Authorization": "Bearer x", "User-Agent": "curl"}},
             "user": {"email": "maria@example.com"},
             "exception": {"values": [{"value": "call +351 912 345 678",
                                       "stacktrace": {"frames": [{"vars": {"a": "b"}}]}}]}}
    out = scrub(event)
    assert out["request"] == {"url": "https://w.example/ops",
                              "headers": {"Authorization": "[Filtered]", "User-Agent": "curl"}}
    assert "user" not in out
    value = out["exception"]["values"][0]
    assert value["value"] == "call [PHONE]" and "vars" not in value["stacktrace"]["frames"][0]
