"""GoTrue's error answers, in the two shapes that auth-js and supabase_auth parse.

A client that sends `X-Supabase-Api-Version: 2024-01-01` (both current clients do) gets
`{"code": "<error_code>", "message": "..."}`; an older one gets
`{"code": <status>, "error_code": "...", "msg": "..."}`. Weak passwords add
`"weak_password": {"reasons": [...]}` in both. Every answer carries the response header
`X-Supabase-Api-Version: 2024-01-01`, which tells the clients to read `code` as the error code.
"""

from __future__ import annotations

import re
from typing import Any

API_VERSION_HEADER = "X-Supabase-Api-Version"
API_VERSION_2024_01_01 = "2024-01-01"
_DATE = re.compile(r"^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


class AuthError(Exception):
    """An answer GoTrue would give: HTTP status, error code, message."""

    def __init__(self, status: int, error_code: str, message: str,
                 *, reasons: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.reasons = reasons


def body_for(error: AuthError, requested_version: str | None) -> dict[str, Any]:
    if requested_version and _DATE.match(requested_version) \
            and requested_version >= API_VERSION_2024_01_01:
        body: dict[str, Any] = {"code": error.error_code, "message": error.message}
    else:
        body = {"code": error.status, "error_code": error.error_code, "msg": error.message}
    if error.reasons is not None:
        body["weak_password"] = {"reasons": error.reasons}
    return body


# The errors the stand-in answers, with GoTrue's statuses, codes and messages.
def invalid_credentials() -> AuthError:
    return AuthError(400, "invalid_credentials", "Invalid login credentials")


def email_not_confirmed() -> AuthError:
    return AuthError(400, "email_not_confirmed", "Email not confirmed")


def user_already_exists() -> AuthError:
    return AuthError(422, "user_already_exists", "User already registered")


def email_exists() -> AuthError:
    return AuthError(422, "email_exists",
                     "A user with this email address has already been registered")


def weak_password(minimum: int) -> AuthError:
    return AuthError(422, "weak_password", f"Password should be at least {minimum} characters.",
                     reasons=["length"])


def validation_failed(message: str, status: int = 400) -> AuthError:
    return AuthError(status, "validation_failed", message)


def refresh_token_not_found() -> AuthError:
    return AuthError(400, "refresh_token_not_found",
                     "Invalid Refresh Token: Refresh Token Not Found")


def refresh_token_already_used() -> AuthError:
    return AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")


def no_authorization() -> AuthError:
    return AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token")


def bad_jwt(reason: str) -> AuthError:
    return AuthError(403, "bad_jwt", f"invalid JWT: unable to parse or verify signature, {reason}")


def not_admin() -> AuthError:
    return AuthError(403, "not_admin", "User not allowed")


def user_not_found_from_jwt() -> AuthError:
    return AuthError(403, "user_not_found", "User from sub claim in JWT does not exist")


def session_not_found() -> AuthError:
    return AuthError(403, "session_not_found",
                     "Session from session_id claim in JWT does not exist")


def user_not_found() -> AuthError:
    return AuthError(404, "user_not_found", "User not found")


def bad_json(reason: str) -> AuthError:
    return AuthError(400, "bad_json", f"Could not parse request body as JSON: {reason}")
