"""A local double of the Stripe API for tests and demos.

Run it as a process::

    python -m devstack.stripe_double --port 12111 \\
        [--webhook-url URL --webhook-secret whsec_...] [--state-file PATH]

and point the official library at it (``base_addresses={"api": "http://127.0.0.1:12111"}``
or ``stripe.api_base``). From tests, use :func:`run_stripe_double`. See
``docs/stripe-double.md`` for the endpoint list and the ``/_double`` control API.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devstack.stripe_double.forms import ApiError, as_str_list, check_params, parse_form
from devstack.stripe_double.harness import StripeDoubleHandle, run_stripe_double
from devstack.stripe_double.lists import expand, list_objects
from devstack.stripe_double.state import Obj, Origin, StripeState, new_id, snapshot
from devstack.stripe_double.webhooks import WebhookDispatcher, WebhookSettings

__all__ = ["StripeDouble", "StripeDoubleHandle", "main", "make_server", "run_stripe_double"]

DEFAULT_API_VERSION = "2026-10-28.endive"  # what the pinned stripe library sends
LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "created", "expand"})
RETRIEVE_PARAMS = frozenset({"expand", "client_secret"})
MAX_RECORDED_REQUESTS = 10_000
Handler = Callable[[Obj, str, Origin], Obj]


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    store: bool = True  # may be saved for an idempotency key


@dataclass
class FailRule:
    """One injected failure for the next request matching ``method``/``path_prefix``.

    ``mode``: ``status`` (answer ``status`` with a Stripe error body), ``drop`` (close the
    connection without a response) or ``delay`` (sleep ``seconds``, then answer normally).
    ``when``: ``before`` the operation (nothing happens) or ``after`` it (the operation
    took effect and its result was saved for the idempotency key, but the client never
    sees it).
    """

    path_prefix: str = "/v1/"
    method: str | None = None
    status: int = 500
    mode: str = "status"
    when: str = "before"
    times: int = 1
    seconds: float = 0.0
    should_retry: bool | None = None
    error: dict[str, Any] | None = None

    def matches(self, request: Request) -> bool:
        return request.path.startswith(self.path_prefix) and (
            self.method is None or self.method.upper() == request.method
        )

    @classmethod
    def parse(cls, raw: Any) -> FailRule:
        if not isinstance(raw, dict):
            raise ApiError(400, "fail_next entries must be objects")
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ApiError(400, f"unknown fail_next keys: {sorted(unknown)}")
        rule = cls(**raw)
        if rule.mode not in ("status", "drop", "delay") or rule.when not in ("before", "after"):
            raise ApiError(400, "mode must be status|drop|delay and when before|after")
        return rule


def _error_reply(error: ApiError) -> Reply:
    return Reply(error.status, error.body(), store=error.store)


def _injected_body(rule: FailRule) -> Obj:
    if rule.error is not None:
        return {"error": rule.error}
    if rule.status == 429:
        return {
            "error": {
                "type": "invalid_request_error",
                "code": "rate_limit",
                "message": "Request rate limit exceeded. Learn more about rate limits here "
                "https://stripe.com/docs/rate-limits. (injected by the Stripe double)",
            }
        }
    if rule.status == 402:
        return {
            "error": {
                "type": "card_error",
                "code": "card_declined",
                "message": "Your card was declined.",
            }
        }
    kind = "api_error" if rule.status >= 500 or rule.status == 409 else "invalid_request_error"
    return {"error": {"type": kind, "message": "Injected failure (Stripe double)."}}


def _mask(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key


def _api_key(headers: Mapping[str, str]) -> str:
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            credential = base64.b64decode(credential).decode("utf-8").split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            credential = ""
    elif scheme.lower() != "bearer":
        credential = ""
    credential = credential.strip()
    if not credential:
        raise ApiError(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details.",
            store=False,
        )
    if not credential.startswith(("sk_", "rk_")):
        raise ApiError(401, f"Invalid API Key provided: {_mask(credential)}", store=False)
    return credential


class StripeDouble:
    """The application: routes ``/v1`` (Stripe API) and ``/_double`` (control) requests."""

    def __init__(
        self,
        *,
        state_file: str | None = None,
        webhook: WebhookSettings | None = None,
        api_version: str = DEFAULT_API_VERSION,
    ) -> None:
        self.state = StripeState(state_file, api_version)
        self.webhook = webhook or WebhookSettings()
        self.fail_rules: list[FailRule] = []
        self._config_lock = threading.Lock()
        self.dispatcher = WebhookDispatcher(self.state, lambda: self.webhook)
        self.state.sink = self.dispatcher
        self._api_routes = self._build_api_routes()
        self._control_routes = self._build_control_routes()

    # ------------------------------------------------------------------- entry point
    def handle(self, request: Request) -> Reply:
        try:
            if request.path.startswith("/_double/"):
                return self._control(request)
            return self._api(request)
        except ApiError as error:
            return _error_reply(error)
        except Exception as exc:
            traceback.print_exc()
            return Reply(500, {"error": {"type": "api_error", "message": f"double bug: {exc}"}})

    # --------------------------------------------------------------------- /v1 API
    def _build_api_routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        s = self.state
        pi = r"/v1/payment_intents/(?P<id>[^/]+)"
        table: list[tuple[str, str, Handler]] = [
            ("POST", r"/v1/payment_intents", lambda p, _i, o: s.create_payment_intent(p, o)),
            ("GET", r"/v1/payment_intents", self._lister("payment_intents", {"customer"})),
            ("GET", pi, self._retriever("payment_intents", "intent")),
            ("POST", pi, lambda p, i, _o: s.update_payment_intent(i, p)),
            ("POST", pi + "/confirm", lambda p, i, o: s.confirm_payment_intent(i, p, o)),
            ("POST", pi + "/cancel", lambda p, i, o: s.cancel_payment_intent(i, p, o)),
            ("POST", pi + "/capture", lambda p, i, o: s.capture_payment_intent(i, p, o)),
            ("POST", r"/v1/refunds", lambda p, _i, o: s.create_refund(p, o)),
            ("GET", r"/v1/refunds", self._lister("refunds", {"charge", "payment_intent"})),
            ("GET", r"/v1/refunds/(?P<id>[^/]+)", self._retriever("refunds", "refund")),
            ("GET", r"/v1/charges", self._lister("charges", {"customer", "payment_intent"})),
            ("GET", r"/v1/charges/(?P<id>[^/]+)", self._retriever("charges", "charge")),
            ("GET", r"/v1/events", self._list_events),
            ("GET", r"/v1/events/(?P<id>[^/]+)", self._retriever("events", "id")),
        ]
        return [(method, re.compile(pattern + "/?"), fn) for method, pattern, fn in table]

    def _retriever(self, collection: str, param: str) -> Handler:
        def retrieve(params: Obj, obj_id: str, _origin: Origin) -> Obj:
            check_params(params, RETRIEVE_PARAMS)
            return self.state.get(collection, obj_id, param)

        return retrieve

    def _lister(self, collection: str, filters: set[str]) -> Handler:
        def list_(params: Obj, _obj_id: str, _origin: Origin) -> Obj:
            check_params(params, LIST_PARAMS | filters)
            wanted = {k: params[k] for k in filters if params.get(k)}
            objects = list(self.state.collection(collection).values())
            return list_objects(
                objects,
                params,
                f"/v1/{collection}",
                lambda obj: all(obj.get(k) == v for k, v in wanted.items()),
            )

        return list_

    def _list_events(self, params: Obj, _obj_id: str, _origin: Origin) -> Obj:
        check_params(params, LIST_PARAMS | {"type", "types", "delivery_success"})
        patterns = as_str_list(params["types"], "types") if params.get("types") else []
        if params.get("type"):
            patterns.append(str(params["type"]))
        return list_objects(
            list(self.state.events.values()),
            params,
            "/v1/events",
            lambda e: not patterns or any(fnmatchcase(e["type"], p) for p in patterns),
        )

    def _api(self, request: Request) -> Reply:
        is_post = request.method == "POST"
        raw = request.body.decode("utf-8", "replace") if is_post else request.query
        params = parse_form(raw)
        key = request.headers.get("idempotency-key") if is_post else None
        record = self._record(request, params, key)
        rule = self._take_rule(request)
        reply = self._inject(rule, "before") if rule else None
        if reply is None:
            reply = self._execute(request, params, key, record["id"])
            if rule:
                reply = self._inject(rule, "after") or reply
        with self.state.lock:  # records are read concurrently by /_double/requests
            record.update(
                status=reply.status,
                dropped=reply.drop,
                replayed=reply.headers.get("Idempotent-Replayed") == "true",
                injected=asdict(rule) if rule else None,
                object_id=reply.body.get("id") if isinstance(reply.body, dict) else None,
            )
        reply.headers.setdefault("Request-Id", record["id"])
        reply.headers["Stripe-Version"] = (
            request.headers.get("stripe-version") or self.state.api_version
        )
        if key:
            reply.headers["Idempotency-Key"] = key
        return reply

    def _record(self, request: Request, params: Obj, key: str | None) -> Obj:
        record: Obj = {
            "id": new_id("req", 14),
            "at": time.time(),
            "method": request.method,
            "path": request.path,
            "params": params,
            "idempotency_key": key,
            "stripe_version": request.headers.get("stripe-version"),
            "status": None,
        }
        with self.state.lock:
            self.state.requests.append(record)
            del self.state.requests[:-MAX_RECORDED_REQUESTS]
        return record

    def _take_rule(self, request: Request) -> FailRule | None:
        with self._config_lock:
            for rule in self.fail_rules:
                if rule.matches(request):
                    rule.times -= 1
                    if rule.times <= 0:
                        self.fail_rules.remove(rule)
                    return rule
        return None

    @staticmethod
    def _inject(rule: FailRule, moment: str) -> Reply | None:
        if rule.when != moment:
            return None
        if rule.mode == "delay":
            time.sleep(rule.seconds)
            return None
        if rule.mode == "drop":
            return Reply(0, None, drop=True)
        headers = {}
        if rule.should_retry is not None:
            headers["Stripe-Should-Retry"] = str(rule.should_retry).lower()
        return Reply(rule.status, _injected_body(rule), headers)

    def _route(self, request: Request) -> tuple[Handler, str]:
        for method, pattern, handler in self._api_routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return handler, match.groupdict().get("id") or ""
        raise ApiError(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            store=False,
        )

    def _execute(self, request: Request, params: Obj, key: str | None, request_id: str) -> Reply:
        try:
            api_key = _api_key(request.headers)
            handler, obj_id = self._route(request)
        except ApiError as error:
            return _error_reply(error)
        origin = Origin(request_id, key)
        with self.state.lock:
            scope = f"{api_key}:{key}"
            if key:
                try:
                    entry = self.state.idempotent_replay(
                        scope, request.method, request.path, params
                    )
                except ApiError as error:
                    return _error_reply(error)
                if entry is not None:
                    return self._replay(entry)
            reply = self._run(handler, params, obj_id, origin)
            if key and reply.store:
                self.state.idempotent_save(
                    scope,
                    {
                        "method": request.method,
                        "path": request.path,
                        "params": params,
                        "status": reply.status,
                        "body": reply.body,
                        "request_id": request_id,
                    },
                )
            if request.method == "POST":
                self.state.save()
        return reply

    def _run(self, handler: Handler, params: Obj, obj_id: str, origin: Origin) -> Reply:
        try:
            result = handler(params, obj_id, origin)
        except ApiError as error:
            return _error_reply(error)
        paths = as_str_list(params["expand"], "expand") if params.get("expand") else []
        return Reply(200, expand(result, paths, self.state.find_by_id))

    @staticmethod
    def _replay(entry: Obj) -> Reply:
        headers = {
            "Idempotent-Replayed": "true",
            "Original-Request": entry["request_id"],
            "Request-Id": entry["request_id"],
        }
        return Reply(entry["status"], entry["body"], headers)

    # -------------------------------------------------------------- /_double control
    def _build_control_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Any]]]:
        """Control endpoints; POSTs run under the state lock except webhook deliveries,
        which must not hold it while a receiver may call back into the double."""
        pi = r"/_double/payment_intents/(?P<id>[^/]+)"
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/_double/health", lambda _b, _q: {"ok": True}),
            ("GET", r"/_double/requests", self._requests),
            ("GET", r"/_double/(?P<collection>payment_intents|charges|refunds|events)", self._all),
            ("GET", r"/_double/deliveries", lambda _b, _q: self.dispatcher.snapshot()),
            ("GET", r"/_double/config", lambda _b, _q: self.config()),
            ("POST", r"/_double/config", lambda b, _q: self.configure(b)),
            ("POST", r"/_double/reset", lambda _b, _q: self.reset()),
            ("POST", pi + "/succeed", lambda _b, _q, id: self.state.succeed(id)),
            ("POST", pi + "/fail", self._fail),
            ("POST", pi + "/process", lambda _b, _q, id: self.state.process(id)),
            (
                "POST",
                r"/_double/events/deliver_held",
                lambda _b, _q: self.dispatcher.deliver_held(),
            ),
            (
                "POST",
                r"/_double/events/(?P<id>[^/]+)/deliver",
                lambda _b, _q, id: self.dispatcher.deliver_now(id),
            ),
        ]
        return [(method, re.compile(pattern + "/?"), fn) for method, pattern, fn in table]

    def _control(self, request: Request) -> Reply:
        try:
            body = json.loads(request.body or b"{}") if request.method == "POST" else {}
        except ValueError as exc:
            raise ApiError(400, f"control bodies are JSON objects: {exc}") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "control bodies are JSON objects")
        query = dict(parse_qsl(request.query))
        for method, pattern, handler in self._control_routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                if method == "GET" or "/deliver" in request.path:
                    return Reply(200, handler(body, query, **match.groupdict()))
                with self.state.lock:
                    result = snapshot(handler(body, query, **match.groupdict()))
                    self.state.save()
                return Reply(200, result)
        raise ApiError(404, f"Unknown control endpoint {request.method} {request.path}")

    def _requests(self, _body: Obj, query: dict[str, str]) -> list[Obj]:
        with self.state.lock:
            records = [dict(record) for record in self.state.requests]
        if "method" in query:
            records = [r for r in records if r["method"] == query["method"].upper()]
        if "path_prefix" in query:
            records = [r for r in records if r["path"].startswith(query["path_prefix"])]
        return records

    def _all(self, _body: Obj, _query: dict[str, str], collection: str) -> list[Obj]:
        with self.state.lock:
            return [snapshot(obj) for obj in self.state.collection(collection).values()]

    def _fail(self, body: Obj, _query: dict[str, str], id: str) -> Obj:
        return self.state.fail(
            id,
            code=body.get("code") or "card_declined",
            message=body.get("message"),
            decline_code=body.get("decline_code"),
        )

    def config(self) -> Obj:
        webhook = self.webhook
        return {
            "webhook_url": webhook.url,
            "webhook_secret": webhook.secret,
            "deliver": webhook.deliver,
            "webhook_retries": webhook.retries,
            "webhook_retry_delay": webhook.retry_delay,
            "webhook_timeout": webhook.timeout,
            "enabled_events": list(webhook.enabled_events),
            "api_version": self.state.api_version,
            "fail_next": [asdict(rule) for rule in self.fail_rules],
        }

    def configure(self, changes: Obj) -> Obj:
        """Apply a partial config; ``fail_next`` replaces the queue of injected failures."""
        names = {
            "webhook_url": "url",
            "webhook_secret": "secret",
            "deliver": "deliver",
            "webhook_retries": "retries",
            "webhook_retry_delay": "retry_delay",
            "webhook_timeout": "timeout",
            "enabled_events": "enabled_events",
        }
        unknown = set(changes) - {*names, "fail_next", "api_version"}
        if unknown:
            raise ApiError(400, f"unknown config keys: {sorted(unknown)}")
        rules = [FailRule.parse(raw) for raw in changes.get("fail_next", [])]
        with self._config_lock:
            updated = asdict(self.webhook)
            updated.update({names[k]: v for k, v in changes.items() if k in names})
            self.webhook = WebhookSettings(**updated)
            if "fail_next" in changes:
                self.fail_rules = rules
            if "api_version" in changes:
                self.state.api_version = str(changes["api_version"])
        return self.config()

    def reset(self) -> Obj:
        self.state.reset()
        self.dispatcher.reset()
        with self._config_lock:
            self.fail_rules = []
        return {"ok": True}


# ------------------------------------------------------------------------ HTTP server
class _HttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stripe-double/1"
    server: _DoubleServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, split.path, split.query, headers, body)
        reply = self.server.double.handle(request)
        if reply.drop:
            self.close_connection = True
            return
        data = (json.dumps(reply.body, indent=2) + "\n").encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _DoubleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], double: StripeDouble, verbose: bool) -> None:
        self.double = double
        self.verbose = verbose
        super().__init__(address, _HttpHandler)


def make_server(
    double: StripeDouble, host: str = "127.0.0.1", port: int = 0, verbose: bool = False
) -> ThreadingHTTPServer:
    """An HTTP server for ``double`` (port 0: any free port); call ``serve_forever``."""
    return _DoubleServer((host, port), double, verbose)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack.stripe_double", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret")
    parser.add_argument("--state-file", help="JSON file that keeps objects across restarts")
    parser.add_argument("--api-version", default=DEFAULT_API_VERSION)
    parser.add_argument("--hold-webhooks", action="store_true", help="start with deliver=false")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    webhook = WebhookSettings(
        url=args.webhook_url, secret=args.webhook_secret, deliver=not args.hold_webhooks
    )
    double = StripeDouble(state_file=args.state_file, webhook=webhook, api_version=args.api_version)
    server = make_server(double, args.host, args.port, args.verbose)
    host, port = server.server_address[:2]
    print(f"stripe-double listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        double.dispatcher.stop()
        server.server_close()
        sys.stdout.flush()
