"""The HTTP face of the Auth stand-in: GoTrue's routes on Flask, one transaction a request."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from flask import Flask, Response, g, jsonify, request
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import HTTPException

from devstack.auth import errors, passwords, service, store
from devstack.auth.config import Settings
from devstack.auth.errors import AuthError
from wayfare.logs import get_logger

log = get_logger("devstack.auth")
PREFIX = "/auth/v1"
VERSION = "devstack-auth-standin"


class StripPrefix:
    """Serve `/auth/v1/x` as `/x`, so the service works behind the gateway and directly."""

    def __init__(self, app: Callable[..., Iterable[bytes]], prefix: str = PREFIX) -> None:
        self.app = app
        self.prefix = prefix

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == self.prefix or path.startswith(self.prefix + "/"):
            environ["PATH_INFO"] = path[len(self.prefix):] or "/"
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
        return self.app(environ, start_response)


def create_app(settings: Settings, pool: ConnectionPool | None = None) -> Flask:
    app = Flask("devstack.auth")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    pool = pool or ConnectionPool(
        settings.database_url, min_size=1, max_size=8, open=True,
        kwargs={"row_factory": dict_row},
    )
    app.extensions["auth_pool"] = pool

    def db() -> Any:
        return pool.connection()

    def body() -> dict[str, Any]:
        raw = request.get_data(cache=True)
        if not raw.strip():
            return {}
        parsed = request.get_json(silent=True, force=True)
        if not isinstance(parsed, dict):
            raise errors.bad_json("expected a JSON object")
        return parsed

    def bearer() -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return (value.strip() or None) if scheme.lower() == "bearer" else None

    @app.before_request
    def started() -> None:
        g.started = time.monotonic()

    @app.after_request
    def finished(response: Response) -> Response:
        response.headers[errors.API_VERSION_HEADER] = errors.API_VERSION_2024_01_01
        elapsed = (time.monotonic() - g.get("started", time.monotonic())) * 1000
        log.info("auth.request", method=request.method, route=str(request.url_rule or "-"),
                 status=response.status_code, ms=round(elapsed, 1))
        return response

    @app.errorhandler(AuthError)
    def auth_error(error: AuthError) -> tuple[Response, int]:
        version = request.headers.get(errors.API_VERSION_HEADER)
        return jsonify(errors.body_for(error, version)), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "unknown")
        return auth_error(AuthError(status, code, error.description or error.name))[0], status

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("auth.unexpected", error_type=type(error).__name__)
        return auth_error(AuthError(500, "unexpected_failure", "Unexpected failure"))[0], 500

    # --- public ---------------------------------------------------------------------------

    @app.get("/health")
    def health() -> Response:
        return jsonify(version=VERSION, name="GoTrue",
                       description="Local Supabase Auth stand-in (development only)")

    @app.get("/settings")
    def settings_view() -> Response:
        return jsonify(
            external={"anonymous_users": False, "email": True, "phone": False},
            disable_signup=False, mailer_autoconfirm=True, phone_autoconfirm=False,
            sms_provider="", saml_enabled=False,
        )

    @app.get("/.well-known/jwks.json")
    def jwks() -> Response:
        return jsonify(keys=[])

    @app.post("/signup")
    def signup() -> Response:
        data = body()
        email, password = data.get("email"), data.get("password")
        if not email and not data.get("phone"):
            raise AuthError(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled")
        if not email:
            raise AuthError(400, "phone_provider_disabled", "Phone signups are disabled")
        if not password:
            raise errors.validation_failed("Signup requires a valid password", 422)
        address = service.normal_email(email)
        service.check_new_password(settings, password)
        user_metadata = service.metadata(data.get("data"), "data")
        with db() as conn:
            if store.user_by_email(conn, address) is not None:
                raise errors.user_already_exists()
            user = service.create_user(
                conn, settings, email=address, password=password, confirmed=True,
                user_metadata=user_metadata, duplicate=errors.user_already_exists(),
            )
            answer = service.sign_in(conn, settings, user)
        log.info("auth.signup", user_id=answer["user"]["id"])
        return jsonify(answer)

    @app.post("/token")
    def token() -> Response:
        grant = request.args.get("grant_type", "")
        data = body()
        if grant == "password":
            with db() as conn:
                answer = service.password_grant(conn, settings, data)
            log.info("auth.sign_in", user_id=answer["user"]["id"])
            return jsonify(answer)
        if grant == "refresh_token":
            with db() as conn:
                outcome = service.refresh_grant(conn, settings, data)
            if isinstance(outcome, AuthError):  # committed: the session's tokens are revoked
                log.warning("auth.refresh_token_reused")
                raise outcome
            return jsonify(outcome)
        raise errors.validation_failed("unsupported_grant_type")

    @app.get("/user")
    def get_user() -> Response:
        with db() as conn:
            user, _ = service.authenticated(conn, settings, bearer())
        return jsonify(service.user_json(user))

    @app.put("/user")
    def put_user() -> Response:
        data = body()
        with db() as conn:
            user, _ = service.authenticated(conn, settings, bearer())
            changes: dict[str, Any] = {}
            if data.get("data") is not None:
                changes["raw_user_meta_data"] = service.merged(
                    user["raw_user_meta_data"], service.metadata(data["data"], "data"))
            if data.get("password"):
                password = service.check_new_password(settings, data["password"])
                if passwords.check_password(password, user["encrypted_password"]):
                    raise AuthError(422, "same_password",
                                    "New password should be different from the old password.")
                changes["encrypted_password"] = passwords.hash_password(password)
            if data.get("email"):
                address = service.normal_email(data["email"])
                if address != user["email"]:
                    other = store.user_by_email(conn, address)
                    if other is not None:
                        raise errors.email_exists()
                    changes["email"] = address
            if data.get("phone"):
                raise AuthError(422, "phone_provider_disabled", "Phone logins are disabled")
            if changes:
                changed = store.update_user(conn, str(user["id"]), **changes)
                user = changed or user
        return jsonify(service.user_json(user))

    @app.post("/logout")
    def logout() -> Response:
        scope = request.args.get("scope", "global")
        if scope not in ("global", "local", "others"):
            raise errors.validation_failed(f"Unsupported logout scope {scope!r}")
        with db() as conn:
            user, claims = service.authenticated(conn, settings, bearer())
            session_id = claims.get("session_id")
            if scope == "local" and session_id:
                store.delete_sessions(conn, str(user["id"]), only=str(session_id))
            elif scope == "others" and session_id:
                store.delete_sessions(conn, str(user["id"]), keep=str(session_id))
            elif scope != "others":
                store.delete_sessions(conn, str(user["id"]))
        return Response(status=204)

    # --- admin (service_role key) ---------------------------------------------------------

    @app.get("/admin/users")
    def admin_list() -> Response:
        service.require_admin(settings, bearer())
        page = max(1, request.args.get("page", 1, type=int) or 1)
        per_page = min(1000, max(1, request.args.get("per_page", 50, type=int) or 50))
        with db() as conn:
            rows, total = store.list_users(conn, per_page, (page - 1) * per_page)
        response = jsonify(users=[service.user_json(r) for r in rows], aud="authenticated")
        response.headers["X-Total-Count"] = str(total)
        return response

    @app.post("/admin/users")
    def admin_create() -> Response:
        service.require_admin(settings, bearer())
        data = body()
        if data.get("phone") and not data.get("email"):
            raise AuthError(400, "phone_provider_disabled", "Phone signups are disabled")
        address = service.normal_email(data.get("email"))
        password = data.get("password")
        if password is not None:
            service.check_new_password(settings, password)
        with db() as conn:
            if store.user_by_email(conn, address) is not None:
                raise errors.email_exists()
            user = service.create_user(
                conn, settings, email=address, password=password,
                confirmed=bool(data.get("email_confirm")),
                app_metadata=service.metadata(data.get("app_metadata"), "app_metadata"),
                user_metadata=service.metadata(data.get("user_metadata"), "user_metadata"),
            )
        log.info("auth.admin_create", user_id=str(user["id"]))
        return jsonify(service.user_json(user))

    def user_id_arg(user_id: str) -> str:
        try:
            return str(uuid.UUID(user_id))
        except ValueError as exc:
            raise errors.user_not_found() from exc

    @app.get("/admin/users/<user_id>")
    def admin_get(user_id: str) -> Response:
        service.require_admin(settings, bearer())
        with db() as conn:
            user = store.user_by_id(conn, user_id_arg(user_id))
        if user is None:
            raise errors.user_not_found()
        return jsonify(service.user_json(user))

    @app.put("/admin/users/<user_id>")
    def admin_update(user_id: str) -> Response:
        service.require_admin(settings, bearer())
        data = body()
        with db() as conn:
            user = store.user_by_id(conn, user_id_arg(user_id), lock=True)
            if user is None:
                raise errors.user_not_found()
            changes: dict[str, Any] = {}
            if data.get("app_metadata") is not None:
                changes["raw_app_meta_data"] = service.merged(
                    user["raw_app_meta_data"],
                    service.metadata(data["app_metadata"], "app_metadata"))
            if data.get("user_metadata") is not None:
                changes["raw_user_meta_data"] = service.merged(
                    user["raw_user_meta_data"],
                    service.metadata(data["user_metadata"], "user_metadata"))
            if data.get("password") is not None:
                changes["encrypted_password"] = passwords.hash_password(
                    service.check_new_password(settings, data["password"]))
            if data.get("email"):
                address = service.normal_email(data["email"])
                other = store.user_by_email(conn, address)
                if other is not None and other["id"] != user["id"]:
                    raise errors.email_exists()
                changes["email"] = address
            if isinstance(data.get("role"), str) and data["role"]:
                changes["role"] = data["role"]
            if changes:
                store.update_user(conn, str(user["id"]), **changes)
            if data.get("email_confirm"):
                store.confirm_email(conn, str(user["id"]))
            fresh = store.user_by_id(conn, str(user["id"]))
        assert fresh is not None
        log.info("auth.admin_update", user_id=str(user["id"]), fields=sorted(changes))
        return jsonify(service.user_json(fresh))

    @app.delete("/admin/users/<user_id>")
    def admin_delete(user_id: str) -> Response:
        service.require_admin(settings, bearer())
        data = body()
        with db() as conn:
            target = user_id_arg(user_id)
            if data.get("should_soft_delete"):
                done = store.soft_delete_user(conn, target)
            else:
                done = store.delete_user(conn, target)
        if not done:
            raise errors.user_not_found()
        log.info("auth.admin_delete", user_id=target, soft=bool(data.get("should_soft_delete")))
        return jsonify({})

    app.wsgi_app = StripPrefix(app.wsgi_app)  # type: ignore[method-assign]
    return app


def check_database(settings: Settings) -> None:
    """Fail at start, with a clear message, on a real Supabase database (its own Auth owns
    the auth schema there) or when the compat layer's auth tables are missing."""
    with psycopg.connect(settings.database_url) as conn:
        if conn.execute("select 1 from pg_roles where rolname = 'supabase_auth_admin'").fetchone():
            raise SystemExit(
                "devstack.auth: this is a real Supabase database (role supabase_auth_admin "
                "exists), whose own Auth owns the auth schema; the stand-in is for plain "
                "local Postgres only"
            )
        missing = [
            name for name in ("auth.users", "auth.sessions", "auth.refresh_tokens")
            if conn.execute("select to_regclass(%s)", (name,)).fetchone() == (None,)
        ]
    if missing:
        raise SystemExit(
            f"devstack.auth: {', '.join(missing)} missing in the database; apply "
            "scripts/supabase_compat.sql (scripts/stack.sh migrate does)"
        )
