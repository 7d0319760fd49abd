"""One error contract: Python's catalogue equals private.error_codes, and docs list every code."""

from __future__ import annotations

from pathlib import Path

import psycopg

from wayfare.errors import CATALOGUE, ApiError, envelope

DOCS = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def test_python_and_sql_catalogues_agree(db: psycopg.Connection) -> None:
    rows = db.execute("select code, http_status, error_type, retryable, default_message, "
                      "default_hint from private.error_codes order by code").fetchall()
    python = sorted((e.code, e.http_status, e.error_type, e.retryable, e.default_message,
                     e.default_hint) for e in CATALOGUE.values())
    assert rows == python


def test_every_code_is_documented_with_status_and_example() -> None:
    text = DOCS.read_text()
    for spec in CATALOGUE.values():
        assert f"### {spec.code}" in text, spec.code
        section = text.split(f"### {spec.code}", 1)[1].split("\n### ", 1)[0]
        assert f"HTTP {spec.http_status}" in section, spec.code
        assert f'"code": "{spec.code}"' in section, spec.code


def test_envelope_shape() -> None:
    body = envelope(ApiError("RATE_LIMITED", field=None), request_id="req-12345678")
    assert body["error"] == {"type": "rate_limit", "code": "RATE_LIMITED",
                             "message": "Too many requests.", "field": None, "retryable": True}
    assert body["metadata"]["requestId"] == body["metadata"]["traceId"] == "req-12345678"
    assert body["metadata"]["timestamp"].endswith("Z")


def test_unknown_code_becomes_internal() -> None:
    assert ApiError("NO_SUCH_CODE").spec.code == "INTERNAL"
