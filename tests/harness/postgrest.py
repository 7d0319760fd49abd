"""The real PostgREST 12 for tests, behind the local gateway, over HTTP.

`PostgREST(url_for(db, user="authenticator"))` starts (or shares) a real PostgREST and the
nginx gateway for that database (devstack/localapi.py) and sends every request as
supabase-js would: `/rest/v1/...` with the local anon key in `apikey` and the user's token
(if any) in `Authorization`. One server set per database, shared by every client of it and
stopped when the last client closes (or the database is dropped).

    response = api.rpc("create_trip", {"title": "Lisbon"}, token=alice.token,
                       headers={"Idempotency-Key": "k1"})
    response.status, response.body, response.header("X-Request-ID"), response.details
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from devstack.localapi import LocalAPI, as_role

# Building a TLS context reads the whole CA bundle (~50 ms here); every client of a run shares
# one instead of building its own (the gateway speaks plain HTTP, so it is never used).
_TLS = ssl.create_default_context()


@dataclass
class Response:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def details(self) -> dict[str, Any]:
        """The `details` of docs/errors.md: a JSON object encoded as a string."""
        return json.loads(self.body["details"])

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class _Servers:
    """One LocalAPI per database, reference-counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, tuple[LocalAPI, int]] = {}

    def acquire(self, database_url: str) -> LocalAPI:
        name = _database(database_url)
        with self._lock:
            api, count = self._running.get(name, (None, 0))
            if api is None:
                api = LocalAPI(as_role(database_url, "postgres"), with_auth=False).start()
            self._running[name] = (api, count + 1)
            return api

    def release(self, database_url: str) -> None:
        name = _database(database_url)
        with self._lock:
            api, count = self._running.get(name, (None, 0))
            if api is None:
                return
            if count <= 1:
                del self._running[name]
                api.stop()
            else:
                self._running[name] = (api, count - 1)

    def forget(self, name: str) -> None:
        """The database is about to be dropped: stop its servers whoever holds them."""
        with self._lock:
            api, _ = self._running.pop(name, (None, 0))
        if api is not None:
            api.stop()


SERVERS = _Servers()


def _database(url: str) -> str:
    return urlsplit(url).path.lstrip("/").split("?")[0]


class PostgREST:
    """A client of the real PostgREST for one database (the argument names the database;
    its user part is ignored: PostgREST always connects as `authenticator`)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self.server = SERVERS.acquire(dsn)
        self.anon_key = self.server.anon_key
        self.service_role_key = self.server.service_role_key
        self.base_url = f"{self.server.url}/rest/v1"
        self.http = httpx.Client(timeout=60.0, verify=_TLS)
        self._closed = False

    def reload_schema(self, expect_rpc: str | None = None, timeout: float = 10.0) -> None:
        """After DDL in a test: PostgREST re-reads its schema cache; with expect_rpc, wait
        until that function is served."""
        self.server.reload_schema()
        if expect_rpc is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.rpc(expect_rpc, {}).code != "PGRST202":
                return
            time.sleep(0.1)
        raise TimeoutError(f"PostgREST does not serve {expect_rpc} after a reload")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.http.close()
            SERVERS.release(self._dsn)

    # ------------------------------------------------------------------ requests
    def request(self, method: str, path: str, *, token: str | None = None,
                headers: dict[str, str] | None = None, json_body: Any = None,
                content: bytes | None = None, params: Any = None) -> Response:
        sent = {"apikey": self.anon_key}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        kwargs: dict[str, Any] = {"headers": sent, "params": params}
        if content is None and json_body is not None:
            # as json.dumps writes it: NaN/Infinity stay in (not JSON: PostgREST says so)
            content = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        if content is not None:
            kwargs["content"] = content
        reply = self.http.request(method, f"{self.base_url}{path}", **kwargs)
        return _response(reply)

    def rpc(self, name: str, args: dict[str, Any] | None = None, *, token: str | None = None,
            headers: dict[str, str] | None = None) -> Response:
        return self.request("POST", f"/rpc/{quote(name)}", token=token, headers=headers,
                            json_body=args or {})

    def select(self, table: str, *, filters: dict[str, Any] | None = None,
               token: str | None = None, headers: dict[str, str] | None = None) -> Response:
        return self.request("GET", f"/{table}", token=token, headers=headers,
                            params=_filters(filters))

    def insert(self, table: str, row: dict[str, Any] | list[dict[str, Any]], *,
               token: str | None = None, headers: dict[str, str] | None = None) -> Response:
        return self.request("POST", f"/{table}", token=token,
                            headers={"Prefer": "return=representation", **(headers or {})},
                            json_body=row)

    def update(self, table: str, values: dict[str, Any], *, filters: dict[str, Any],
               token: str | None = None, headers: dict[str, str] | None = None) -> Response:
        return self.request("PATCH", f"/{table}", token=token,
                            headers={"Prefer": "return=representation", **(headers or {})},
                            json_body=values, params=_filters(filters))

    def delete(self, table: str, *, filters: dict[str, Any], token: str | None = None,
               headers: dict[str, str] | None = None) -> Response:
        return self.request("DELETE", f"/{table}", token=token,
                            headers={"Prefer": "return=representation", **(headers or {})},
                            params=_filters(filters))


def _filters(filters: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [(column, f"eq.{value}") for column, value in (filters or {}).items()]


def _response(reply: httpx.Response) -> Response:
    body: Any = None
    if reply.content:
        try:
            body = reply.json()
        except ValueError:
            body = reply.text
    return Response(reply.status_code, body, reply.headers)
