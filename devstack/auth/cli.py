"""Command line of the Auth stand-in: serve it, create a user, make a user an operator.

    python -m devstack.auth [serve] --host 127.0.0.1 --port 9999
    python -m devstack.auth create-user EMAIL [--password P] [--admin] [--exists-ok]
    python -m devstack.auth make-operator EMAIL

create-user and make-operator write the database directly (no server needed) and print a
fresh access token on stdout (the only stdout line, so `TOKEN=$(...)` works); what they did
goes to stderr. Every command takes --database-url, --jwt-secret and --site-url, which default
to DATABASE_URL, SUPABASE_JWT_SECRET (else the local test secret) and SUPABASE_URL.
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from werkzeug.serving import make_server

from devstack.auth import app as auth_app
from devstack.auth import errors, service, store
from devstack.auth.config import Settings
from wayfare.logs import configure_logging

COMMANDS = ("serve", "create-user", "make-operator")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="Postgres URL (env DATABASE_URL)")
    parser.add_argument("--jwt-secret", help="HS256 secret (env SUPABASE_JWT_SECRET)")
    parser.add_argument("--site-url", help="public API URL; iss is <it>/auth/v1 (env SUPABASE_URL)")
    parser.add_argument("--jwt-exp", type=int, help="access token lifetime, s (env AUTH_JWT_EXP)")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        database_url=args.database_url, jwt_secret=args.jwt_secret, site_url=args.site_url,
        jwt_exp=args.jwt_exp,
        refresh_token_reuse_interval=getattr(args, "refresh_token_reuse_interval", None),
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "serve"
    if command == "serve":
        return serve(argv)
    if command == "create-user":
        return create_user(argv)
    return make_operator(argv)


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.auth",
                                     description="Local Supabase Auth stand-in (development only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999, help="0 picks a free port")
    parser.add_argument("--refresh-token-reuse-interval", type=int,
                        help="seconds a rotated refresh token still answers (default 10)")
    _common(parser)
    args = parser.parse_args(argv)
    settings = _settings(args)
    configure_logging("devstack.auth")
    auth_app.check_database(settings)
    app = auth_app.create_app(settings)
    server = make_server(args.host, args.port, app, threaded=True)

    def stop(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"devstack.auth listening on http://{args.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        app.extensions["auth_pool"].close()
    return 0


def create_user(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.auth create-user",
                                     description="Create a confirmed user; print a token")
    parser.add_argument("email")
    parser.add_argument("--password", help="default: a random one, printed on stderr")
    parser.add_argument("--admin", action="store_true", help="app_metadata.role = 'admin'")
    parser.add_argument("--exists-ok", action="store_true",
                        help="if the user exists, sign it in (and apply --admin) instead")
    _common(parser)
    args = parser.parse_args(argv)
    settings = _settings(args)
    auth_app.check_database(settings)
    password = args.password or secrets.token_urlsafe(12)
    try:
        address = service.normal_email(args.email)
        service.check_new_password(settings, password)
        with psycopg.connect(settings.database_url, row_factory=dict_row) as conn:
            user = store.user_by_email(conn, address)
            if user is not None and not args.exists_ok:
                raise errors.email_exists()
            if user is None:
                user = service.create_user(
                    conn, settings, email=address, password=password, confirmed=True,
                    app_metadata={"role": "admin"} if args.admin else None,
                )
                print(f"created user {user['id']} <{address}>"
                      + ("" if args.password else f" with password {password}"), file=sys.stderr)
            else:
                print(f"user {user['id']} <{address}> exists: signing it in", file=sys.stderr)
                if args.admin:
                    user = service.make_operator(conn, user)
            answer = service.sign_in(conn, settings, user)
    except errors.AuthError as exc:
        print(f"create-user: {exc.message}", file=sys.stderr)
        return 1
    print(answer["access_token"])
    return 0


def make_operator(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.auth make-operator",
                                     description="Set app_metadata.role = 'admin'; print a token")
    parser.add_argument("email")
    _common(parser)
    args = parser.parse_args(argv)
    settings = _settings(args)
    auth_app.check_database(settings)
    with psycopg.connect(settings.database_url, row_factory=dict_row) as conn:
        user = store.user_by_email(conn, args.email)
        if user is None:
            print(f"make-operator: no user with that email: {args.email}", file=sys.stderr)
            return 1
        user = service.make_operator(conn, user)
        answer = service.sign_in(conn, settings, user)
    print(f"user {user['id']} is now an operator (app_metadata.role = 'admin'); tokens issued"
          " before keep their old claims", file=sys.stderr)
    print(answer["access_token"])
    return 0
