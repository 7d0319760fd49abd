"""A fake OpenAI-compatible chat-completions server for local runs and tests.

Run: ``python -m devstack.openai_fake --port 8089`` then ``AI_BASE_URL=http://127.0.0.1:8089/v1``.

Endpoints:
    POST /v1/chat/completions   answers like the offline provider (JSON for TASK markers)
    GET  /v1/models             lists the one fake model
    GET  /_fake/requests        every chat request seen: method, path, headers (lower-cased), body
    GET  /_fake/stats           {"calls": N, "by_task": {"plan": n, "research": n, "synthesize": n}}
    POST /_fake/script          queue steps (a JSON list, or {"steps": [...]})
    POST /_fake/reset           clear requests, stats and the script

Script steps are consumed in order; each request takes the first queued step whose optional
``match`` substring occurs in its messages. Keys of a step (combine as needed):
    delay_ms: int          sleep before answering (a slow answer)
    drop: true             close the connection without a response
    status: int            answer with this HTTP status and an OpenAI-style error body
    retry_after: number    Retry-After header (seconds) with ``status``
    error_message: str     the error body's message (default: generic)
    content: str           the assistant message content (literal text, e.g. not JSON)
    body: str              the raw HTTP response body (e.g. garbage, or JSON without usage)
    finish_reason: str     finish_reason of a ``content`` answer (default "stop")
    match: str             only requests whose message texts contain this substring
    repeat: int            queue this step N times
When the script is exhausted it answers by default again.

In tests use ``run_openai_fake()``, which starts this module as a real subprocess.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from devstack.processes import REPO_ROOT, module_env, read_banner, stop_process
from wayfare.ai.offline import KNOWN_TASKS, build_answer, detect_task, estimate_tokens, message_text

FAKE_MARKER = "[openai_fake: not a model]"
MAX_RECORDED = 2000
_STEP_KEYS = {
    "delay_ms": (int, float),
    "drop": (bool,),
    "status": (int,),
    "retry_after": (int, float, str),
    "error_message": (str,),
    "content": (str,),
    "body": (str,),
    "finish_reason": (str,),
    "match": (str,),
    "repeat": (int,),
}


class FakeState:
    """Requests seen, the script queue and counters; shared by handler threads."""

    def __init__(self, model: str, api_key: str | None) -> None:
        self.model = model
        self.api_key = api_key
        self._lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._script: list[dict[str, Any]] = []
        self._calls = 0
        self._by_task: dict[str, int] = {}
        self._ids = 0
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._script.clear()
            self._calls = 0
            self._by_task = dict.fromkeys(KNOWN_TASKS, 0)

    def record(self, entry: dict[str, Any], task: str | None) -> int:
        with self._lock:
            self._calls += 1
            self._ids += 1
            if task is not None:
                self._by_task[task] = self._by_task.get(task, 0) + 1
            if len(self._requests) < MAX_RECORDED:
                self._requests.append(entry)
            return self._ids

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"calls": self._calls, "by_task": dict(self._by_task)}

    def add_steps(self, steps: list[dict[str, Any]]) -> int:
        expanded: list[dict[str, Any]] = []
        for step in steps:
            repeat = int(step.get("repeat", 1))
            expanded.extend({k: v for k, v in step.items() if k != "repeat"} for _ in range(repeat))
        with self._lock:
            self._script.extend(expanded)
            return len(self._script)

    def take_step(self, haystack: str) -> dict[str, Any] | None:
        with self._lock:
            for index, step in enumerate(self._script):
                if "match" not in step or step["match"] in haystack:
                    return self._script.pop(index)
        return None


def validate_steps(payload: Any) -> list[dict[str, Any]]:
    """The steps of a /_fake/script body; raises ValueError on anything unknown."""
    steps = payload.get("steps") if isinstance(payload, dict) else payload
    if not isinstance(steps, list):
        raise ValueError("expected a JSON list of steps or {'steps': [...]}")
    for step in steps:
        if not isinstance(step, dict):
            raise ValueError("each step must be an object")
        for key, value in step.items():
            allowed = _STEP_KEYS.get(key)
            if allowed is None:
                raise ValueError(f"unknown step key: {key}")
            if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
                raise ValueError(f"bad value for step key: {key}")
        if int(step.get("repeat", 1)) < 1:
            raise ValueError("repeat must be >= 1")
    return steps


class _Handler(BaseHTTPRequestHandler):
    server: _FakeServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server_version = "openai-fake/0.1"

    # -- routing ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        state = self.server.state
        if path in ("/v1/models", "/models"):
            if self._authorised():
                model = {"id": state.model, "object": "model", "created": 0, "owned_by": "fake"}
                self._send_json(200, {"object": "list", "data": [model]})
        elif path == "/_fake/requests":
            self._send_json(200, state.requests())
        elif path == "/_fake/stats":
            self._send_json(200, state.stats())
        elif path in ("", "/_fake/health"):
            self._send_json(200, {"ok": True})
        else:
            self._send_error(404, "not found", "invalid_request_error")

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        raw = self._read_body()
        state = self.server.state
        if path in ("/v1/chat/completions", "/chat/completions"):
            self._chat(raw)
        elif path == "/_fake/reset":
            state.reset()
            self._send_json(200, {"ok": True})
        elif path == "/_fake/script":
            try:
                steps = validate_steps(json.loads(raw or b"null"))
            except ValueError as exc:
                self._send_json(400, {"error": str(exc)})
                return
            self._send_json(200, {"queued": state.add_steps(steps)})
        else:
            self._send_error(404, "not found", "invalid_request_error")

    # -- chat completions ----------------------------------------------------------------------

    def _chat(self, raw: bytes) -> None:
        state = self.server.state
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        messages = body.get("messages") if isinstance(body, dict) else None
        messages = messages if isinstance(messages, list) else []
        messages = [m for m in messages if isinstance(m, dict)]
        task = detect_task(messages)
        number = state.record(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body if body is not None else raw.decode("utf-8", "replace"),
                "task": task,
                "received_at": time.time(),
            },
            task,
        )
        step = state.take_step("\n".join(message_text(m) for m in messages))
        if step is not None:
            self._scripted(step, body, messages, number)
        elif self._authorised():
            if not isinstance(body, dict) or not body.get("model") or not messages:
                self._send_error(400, "model and messages are required", "invalid_request_error")
                return
            fmt = body.get("response_format")
            json_mode = isinstance(fmt, dict) and fmt.get("type") == "json_object"
            text = build_answer(messages, json_mode=json_mode, marker=FAKE_MARKER)
            self._send_completion(body, messages, text, "stop", number)

    def _scripted(
        self, step: dict[str, Any], body: Any, messages: list[dict[str, Any]], number: int
    ) -> None:
        if "delay_ms" in step:
            time.sleep(float(step["delay_ms"]) / 1000)
        if step.get("drop"):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return
        status = int(step.get("status", 200))
        if status >= 300:
            headers = {}
            if "retry_after" in step:
                headers["Retry-After"] = str(step["retry_after"])
            error_type = {429: "rate_limit_exceeded"}.get(
                status, "server_error" if status >= 500 else "invalid_request_error"
            )
            message = step.get("error_message") or HTTPStatus(status).phrase
            self._send_error(status, message, error_type, headers)
        elif "body" in step:
            self._send_raw(status, step["body"].encode(), "application/json")
        elif "content" in step:
            request = body if isinstance(body, dict) else {}
            finish = step.get("finish_reason", "stop")
            self._send_completion(request, messages, step["content"], finish, number)
        else:
            request = body if isinstance(body, dict) else {}
            text = build_answer(messages, marker=FAKE_MARKER)
            self._send_completion(request, messages, text, "stop", number)

    def _send_completion(
        self,
        request: dict[str, Any],
        messages: Sequence[Mapping[str, Any]],
        text: str,
        finish_reason: str,
        number: int,
    ) -> None:
        prompt_tokens = estimate_tokens("".join(message_text(m) for m in messages))
        completion_tokens = estimate_tokens(text)
        self._send_json(
            200,
            {
                "id": f"chatcmpl-fake-{number}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model") or self.server.state.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )

    # -- helpers -------------------------------------------------------------------------------

    def _authorised(self) -> bool:
        expected = self.server.state.api_key
        if expected is None or self.headers.get("Authorization") == f"Bearer {expected}":
            return True
        self._send_error(401, "Incorrect API key provided.", "invalid_request_error")
        return False

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_error(
        self, status: int, message: str, error_type: str, headers: dict[str, str] | None = None
    ) -> None:
        code = error_type if status == 429 else None
        payload = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
        self._send_json(status, payload, headers)

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:  # request lines only; bodies are never logged
            sys.stderr.write(f"openai_fake: {format % args}\n")


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: FakeState, verbose: bool) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.verbose = verbose

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client hung up mid-answer; expected with timeouts and drops
        super().handle_error(request, client_address)


def serve(host: str, port: int, *, model: str, api_key: str | None, verbose: bool) -> None:
    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    server = _FakeServer((host, port), FakeState(model, api_key), verbose)
    bound_port = server.server_address[1]
    print(f"openai_fake listening on http://{host}:{bound_port}/v1", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible chat server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    parser.add_argument("--model", default="fake-model")
    parser.add_argument("--api-key", default=None, help="require this Bearer key")
    parser.add_argument("--verbose", action="store_true", help="log request lines to stderr")
    args = parser.parse_args(argv)
    serve(args.host, args.port, model=args.model, api_key=args.api_key, verbose=args.verbose)


# -- test helper: the fake as a real subprocess --------------------------------------------------


class FakeHandle:
    """Controls a running fake (see ``run_openai_fake``)."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self._http = httpx.Client(base_url=url, timeout=10, trust_env=False)

    @property
    def base_url(self) -> str:
        """What to put in AI_BASE_URL (ends in /v1)."""
        return f"{self.url}/v1"

    def requests(self) -> list[dict[str, Any]]:
        return self._get("/_fake/requests")

    def stats(self) -> dict[str, Any]:
        return self._get("/_fake/stats")

    def script(self, steps: list[dict[str, Any]]) -> None:
        response = self._http.post("/_fake/script", json=steps)
        if response.status_code != 200:
            raise ValueError(f"fake rejected the script: {response.text}")

    def reset(self) -> None:
        self._http.post("/_fake/reset").raise_for_status()

    def stop(self) -> None:
        self._http.close()
        stop_process(self.process)

    def _get(self, path: str) -> Any:
        response = self._http.get(path)
        response.raise_for_status()
        return response.json()


@contextlib.contextmanager
def run_openai_fake(
    port: int = 0,
    *,
    api_key: str | None = None,
    model: str = "fake-model",
    startup_timeout_s: float = 15.0,
) -> Iterator[FakeHandle]:
    """Start ``python -m devstack.openai_fake`` as a subprocess; port 0 picks a free port."""
    command = [sys.executable, "-m", "devstack.openai_fake", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--model", model]
    if api_key:
        command += ["--api-key", api_key]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=module_env(),
                               cwd=REPO_ROOT)
    handle: FakeHandle | None = None
    try:
        url = read_banner(process, _banner_url, startup_timeout_s, "openai_fake")
        handle = FakeHandle(process, url)
        _wait_until_ready(handle, startup_timeout_s)
        yield handle
    finally:
        if handle is not None:
            handle.stop()
        elif process.poll() is None:
            process.kill()
            process.wait(timeout=5)


def _banner_url(line: str) -> str | None:
    match = re.search(r"(http://[^\s/]+:\d+)/v1", line)
    return match.group(1) if match else None


def _wait_until_ready(handle: FakeHandle, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if handle._http.get("/_fake/health").status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError("openai_fake did not answer in time")


if __name__ == "__main__":
    main()
