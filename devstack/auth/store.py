"""Every statement the Auth stand-in runs, on GoTrue's tables in the `auth` schema.

Each function takes a connection inside the caller's transaction (rows as dicts)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Row = dict[str, Any]

USER_COLUMNS = """id, aud, role, email, phone, encrypted_password, email_confirmed_at,
    phone_confirmed_at, confirmed_at, confirmation_sent_at, invited_at, last_sign_in_at,
    raw_app_meta_data, raw_user_meta_data, is_anonymous, is_sso_user, banned_until, deleted_at,
    created_at, updated_at"""


def new_refresh_token() -> str:
    return secrets.token_urlsafe(16)


def user_by_id(conn: psycopg.Connection[Row], user_id: str, *, lock: bool = False) -> Row | None:
    lock_clause = " for update" if lock else ""
    return conn.execute(
        f"select {USER_COLUMNS} from auth.users where id = %s and deleted_at is null{lock_clause}",
        (user_id,),
    ).fetchone()


def user_by_email(conn: psycopg.Connection[Row], email: str) -> Row | None:
    return conn.execute(
        f"select {USER_COLUMNS} from auth.users where lower(email) = lower(%s)"
        " and deleted_at is null",
        (email,),
    ).fetchone()


def list_users(conn: psycopg.Connection[Row], limit: int, offset: int) -> tuple[list[Row], int]:
    rows = conn.execute(
        f"select {USER_COLUMNS} from auth.users where deleted_at is null"
        " order by created_at, id limit %s offset %s",
        (limit, offset),
    ).fetchall()
    total = conn.execute(
        "select count(*) as n from auth.users where deleted_at is null"
    ).fetchone()
    return rows, int(total["n"]) if total else 0


def insert_user(conn: psycopg.Connection[Row], *, email: str | None, phone: str | None,
                encrypted_password: str | None, confirmed: bool, app_metadata: dict[str, Any],
                user_metadata: dict[str, Any], role: str = "authenticated") -> Row:
    """Raises psycopg.errors.UniqueViolation when the email or phone is taken."""
    row = conn.execute(
        f"""insert into auth.users (instance_id, id, aud, role, email, phone, encrypted_password,
                email_confirmed_at, raw_app_meta_data, raw_user_meta_data, is_super_admin)
            values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', %s, %s, %s,
                %s, case when %s then now() end, %s, %s, false)
            returning {USER_COLUMNS}""",
        (str(uuid.uuid4()), role, email, phone, encrypted_password, confirmed,
         Jsonb(app_metadata), Jsonb(user_metadata)),
    ).fetchone()
    assert row is not None
    return row


def update_user(conn: psycopg.Connection[Row], user_id: str, **changes: Any) -> Row | None:
    """Set the given columns (names from USER_COLUMNS; jsonb values as dicts) and updated_at."""
    allowed = {"email", "phone", "encrypted_password", "raw_app_meta_data",
               "raw_user_meta_data", "role", "email_confirmed_at", "last_sign_in_at"}
    assert set(changes) <= allowed, set(changes) - allowed
    assignments = ", ".join(f"{name} = %s" for name in changes)
    values = [Jsonb(v) if isinstance(v, dict) else v for v in changes.values()]
    return conn.execute(
        f"update auth.users set {assignments}, updated_at = now() where id = %s"
        f" and deleted_at is null returning {USER_COLUMNS}",
        (*values, user_id),
    ).fetchone()


def touch_sign_in(conn: psycopg.Connection[Row], user_id: str) -> None:
    conn.execute(
        "update auth.users set last_sign_in_at = now(), updated_at = now() where id = %s",
        (user_id,),
    )


def confirm_email(conn: psycopg.Connection[Row], user_id: str) -> None:
    conn.execute(
        "update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()),"
        " updated_at = now() where id = %s",
        (user_id,),
    )


def delete_user(conn: psycopg.Connection[Row], user_id: str) -> bool:
    """Sessions go with it (and with them the refresh tokens), like every row that
    references auth.users on delete cascade."""
    return conn.execute("delete from auth.users where id = %s", (user_id,)).rowcount > 0


def soft_delete_user(conn: psycopg.Connection[Row], user_id: str) -> bool:
    """GoTrue's soft delete: the row stays, marked deleted, without email, phone or password."""
    done = conn.execute(
        """update auth.users set deleted_at = now(), email = null, phone = null,
               encrypted_password = null, updated_at = now()
           where id = %s and deleted_at is null""",
        (user_id,),
    ).rowcount > 0
    conn.execute("delete from auth.sessions where user_id = %s", (user_id,))
    return done


def create_session(conn: psycopg.Connection[Row], user_id: str) -> Row:
    row = conn.execute(
        """insert into auth.sessions (id, user_id, aal, created_at, updated_at)
           values (%s, %s, 'aal1', now(), now()) returning id, user_id, created_at""",
        (str(uuid.uuid4()), user_id),
    ).fetchone()
    assert row is not None
    return row


def session_by_id(conn: psycopg.Connection[Row], session_id: str) -> Row | None:
    return conn.execute(
        "select id, user_id, created_at from auth.sessions where id = %s", (session_id,)
    ).fetchone()


def insert_refresh_token(conn: psycopg.Connection[Row], *, user_id: str, session_id: str,
                         parent: str | None) -> str:
    token = new_refresh_token()
    conn.execute(
        """insert into auth.refresh_tokens (instance_id, token, user_id, revoked, parent,
               session_id, created_at, updated_at)
           values ('00000000-0000-0000-0000-000000000000', %s, %s, false, %s, %s, now(), now())""",
        (token, user_id, parent, session_id),
    )
    return token


def lock_refresh_token(conn: psycopg.Connection[Row], token: str) -> Row | None:
    """The token's row, locked until the transaction ends (parallel refreshes queue here)."""
    return conn.execute(
        """select id, token, user_id, revoked, parent, session_id, updated_at
           from auth.refresh_tokens where token = %s for update""",
        (token,),
    ).fetchone()


def revoked_within(conn: psycopg.Connection[Row], token_id: int, seconds: int) -> bool:
    row = conn.execute(
        "select updated_at + make_interval(secs => %s) > now() as recent"
        " from auth.refresh_tokens where id = %s",
        (seconds, token_id),
    ).fetchone()
    return bool(row and row["recent"])


def active_child(conn: psycopg.Connection[Row], parent: str, session_id: str) -> Row | None:
    return conn.execute(
        """select token from auth.refresh_tokens
           where parent = %s and session_id = %s and not revoked
           order by id desc limit 1""",
        (parent, session_id),
    ).fetchone()


def revoke(conn: psycopg.Connection[Row], token_id: int) -> None:
    conn.execute(
        "update auth.refresh_tokens set revoked = true, updated_at = now() where id = %s",
        (token_id,),
    )


def revoke_session_tokens(conn: psycopg.Connection[Row], session_id: str) -> None:
    conn.execute(
        "update auth.refresh_tokens set revoked = true, updated_at = now()"
        " where session_id = %s and not revoked",
        (session_id,),
    )


def mark_refreshed(conn: psycopg.Connection[Row], session_id: str) -> None:
    conn.execute(
        "update auth.sessions set refreshed_at = now() at time zone 'utc', updated_at = now()"
        " where id = %s",
        (session_id,),
    )


def delete_sessions(conn: psycopg.Connection[Row], user_id: str, *, only: str | None = None,
                    keep: str | None = None) -> int:
    """Sign-out: delete one session (`only`), all but one (`keep`) or all of a user's."""
    if only is not None:
        return conn.execute(
            "delete from auth.sessions where user_id = %s and id = %s", (user_id, only)
        ).rowcount
    if keep is not None:
        return conn.execute(
            "delete from auth.sessions where user_id = %s and id <> %s", (user_id, keep)
        ).rowcount
    return conn.execute("delete from auth.sessions where user_id = %s", (user_id,)).rowcount
