"""Start the Stripe double as a real subprocess from tests and drive it over HTTP.

Example::

with run_stripe_double(webhook_url=..., webhook_secret="whsec_test") as double:
    client = double.stripe_client()
    pi = client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    double.succeed(pi.id)
    assert [r["path"] for r in double.requests(method="POST")] == ["/v1/payment_intents"]
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from devstack.processes import REPO_ROOT, module_env, stop_process, wait_until

_CLI_FLAGS = {"webhook_url": "--webhook-url", "webhook_secret": "--webhook-secret"}


class StripeDoubleError(RuntimeError):
    """The double did not start, or a control call failed."""


class StripeDoubleHandle:
    """A running double: its ``url`` plus wrappers of the ``/_double`` control API."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        url: str,
        log_path: str,
        stdout_pump: threading.Thread | None = None,
    ) -> None:
        self.popen = process
        self._stdout_pump = stdout_pump
        self.url = url
        self.log_path = log_path
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80

    # plumbing --------------------------------------------------------------------
    @property
    def api_base(self) -> str:
        return self.url

    @property
    def port(self) -> int:
        return self._port

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A control-API call; returns the decoded JSON body or raises StripeDoubleError."""
        connection = http.client.HTTPConnection(self._host, self._port, timeout=15)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if payload else {}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = json.loads(response.read() or b"null")
        finally:
            connection.close()
        if response.status >= 400:
            raise StripeDoubleError(f"{method} {path} -> {response.status}: {data}")
        return data

    def logs(self) -> str:
        return Path(self.log_path).read_text(encoding="utf-8", errors="replace")

    # inspection ------------------------------------------------------------------
    def requests(self, method: str | None = None, path_prefix: str | None = None) -> list[Any]:
        query = {k: v for k, v in (("method", method), ("path_prefix", path_prefix)) if v}
        return self.call("GET", "/_double/requests" + (f"?{urlencode(query)}" if query else ""))

    def payment_intents(self) -> list[Any]:
        return self.call("GET", "/_double/payment_intents")

    def charges(self) -> list[Any]:
        return self.call("GET", "/_double/charges")

    def refunds(self) -> list[Any]:
        return self.call("GET", "/_double/refunds")

    def events(self, type: str | None = None) -> list[Any]:
        """Events oldest first, optionally only those of one ``type``."""
        events = self.call("GET", "/_double/events")
        return [e for e in events if type is None or e["type"] == type]

    def deliveries(self) -> list[Any]:
        """Every webhook delivery attempt (event_id, attempt, status, ok, error, ...)."""
        return self.call("GET", "/_double/deliveries")["attempts"]

    def delivery_status(self) -> dict[str, str]:
        return self.call("GET", "/_double/deliveries")["status"]

    def config(self) -> dict[str, Any]:
        return self.call("GET", "/_double/config")

    # driving -----------------------------------------------------------------------
    def succeed(self, pi_id: str) -> dict[str, Any]:
        return self.call("POST", f"/_double/payment_intents/{pi_id}/succeed", {})

    def fail(
        self,
        pi_id: str,
        code: str = "card_declined",
        message: str | None = None,
        decline_code: str | None = None,
    ) -> dict[str, Any]:
        body = {"code": code, "message": message, "decline_code": decline_code}
        return self.call("POST", f"/_double/payment_intents/{pi_id}/fail", body)

    def process(self, pi_id: str) -> dict[str, Any]:
        return self.call("POST", f"/_double/payment_intents/{pi_id}/process", {})

    def configure(self, **changes: Any) -> dict[str, Any]:
        return self.call("POST", "/_double/config", changes)

    def fail_next(self, *rules: dict[str, Any]) -> dict[str, Any]:
        """Queue injected failures, e.g. ``{"path_prefix": "/v1/payment_intents",
        "status": 500}`` or ``{"mode": "drop", "when": "after"}``."""
        return self.configure(fail_next=list(rules))

    def deliver(self, event_id: str) -> dict[str, Any]:
        return self.call("POST", f"/_double/events/{event_id}/deliver", {})

    def deliver_held(self) -> list[Any]:
        return self.call("POST", "/_double/events/deliver_held", {})

    def reset(self) -> None:
        self.call("POST", "/_double/reset", {})

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02
    ) -> Any:
        """Poll ``predicate`` until it returns something truthy; returns that value."""
        return wait_until(predicate, timeout, "condition", interval)

    def stripe_client(self, api_key: str = "sk_test_double", **options: Any) -> Any:
        """A ``stripe.StripeClient`` pointed at the double, without network retries."""
        import stripe  # optional: the double itself does not need the library

        options.setdefault("max_network_retries", 0)
        return stripe.StripeClient(api_key, base_addresses={"api": self.url}, **options)

    # lifecycle ---------------------------------------------------------------------
    def stop(self) -> None:
        stop_process(self.popen)
        if self._stdout_pump is not None:
            self._stdout_pump.join(timeout=2)  # reaches EOF once the process is gone
        if self.popen.stdout:
            self.popen.stdout.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)

    def __enter__(self) -> StripeDoubleHandle:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _command(port: int, state_file: str | None, config: dict[str, Any]) -> list[str]:
    command = [sys.executable, "-m", "devstack.stripe_double", "--port", str(port)]
    for key, flag in _CLI_FLAGS.items():
        if config.get(key):
            command += [flag, str(config.pop(key))]
    if config.get("deliver") is False:
        config.pop("deliver")
        command.append("--hold-webhooks")
    if state_file:
        command += ["--state-file", str(state_file)]
    return command


def _read_banner(process: subprocess.Popen[bytes], timeout: float) -> tuple[str, threading.Thread]:
    """The URL from the ``listening on URL`` line the double prints once its socket is
    bound (``""`` if none came), and the thread that keeps draining its stdout."""
    lines: queue.Queue[bytes] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:  # keep draining so the pipe never fills
            lines.put(line)
        lines.put(b"")

    pump_thread = threading.Thread(target=pump, name="stripe-double-stdout", daemon=True)
    pump_thread.start()
    try:
        line = lines.get(timeout=timeout).decode().strip()
    except queue.Empty:
        line = ""
    url = line.rsplit("listening on ", 1)[1] if "listening on " in line else ""
    return url, pump_thread


def start_stripe_double(
    port: int = 0,
    *,
    state_file: str | os.PathLike[str] | None = None,
    startup_timeout: float = 10.0,
    verbose: bool = False,
    **config: Any,
) -> StripeDoubleHandle:
    """Start the double as a subprocess and wait until it answers. Call ``stop()`` after.

    ``config`` takes the keys of ``POST /_double/config`` (webhook_url, webhook_secret,
    deliver, webhook_retries, webhook_retry_delay, enabled_events, fail_next, ...).
    """
    command = _command(port, str(state_file) if state_file else None, config)
    if verbose:
        command.append("--verbose")
    env = module_env(PYTHONUNBUFFERED="1")
    log_fd, log_path = tempfile.mkstemp(prefix="stripe-double-", suffix=".log")
    with os.fdopen(log_fd, "wb") as log:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, cwd=REPO_ROOT, env=env
        )
    url, pump = _read_banner(process, startup_timeout)
    handle = StripeDoubleHandle(process, url or "http://127.0.0.1:0", log_path, pump)
    if not url:
        logs = handle.logs()
        handle.stop()
        raise StripeDoubleError(f"stripe double did not start:\n{logs}")
    try:
        handle.wait_for(lambda: _healthy(handle), timeout=startup_timeout)
        if config:
            handle.configure(**config)
    except Exception:
        handle.stop()
        raise
    return handle


def _healthy(handle: StripeDoubleHandle) -> bool:
    try:
        return bool(handle.call("GET", "/_double/health").get("ok"))
    except (OSError, StripeDoubleError):
        return False


@contextlib.contextmanager
def run_stripe_double(
    port: int = 0,
    *,
    state_file: str | os.PathLike[str] | None = None,
    startup_timeout: float = 10.0,
    verbose: bool = False,
    **config: Any,
) -> Iterator[StripeDoubleHandle]:
    """Context manager around :func:`start_stripe_double`; port 0 picks a free port."""
    handle = start_stripe_double(
        port,
        state_file=state_file,
        startup_timeout=startup_timeout,
        verbose=verbose,
        **config,
    )
    try:
        yield handle
    finally:
        handle.stop()
