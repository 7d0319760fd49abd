"""Supabase users for tests: a row in auth.users (as GoTrue would write it) and a token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from tests.harness import tokens


@dataclass(frozen=True)
class User:
    id: str
    email: str
    token: str

    def token_with(self, **kwargs: Any) -> str:
        return tokens.mint(self.id, email=self.email, **kwargs)


def create_user(db_url: str, *, email: str | None = None, admin: bool = False) -> User:
    user_id = str(uuid.uuid4())
    email = email or f"user-{user_id[:8]}@example.test"
    app_metadata = {"provider": "email", "providers": ["email"]}
    if admin:
        app_metadata["role"] = "admin"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "insert into auth.users (id, email, raw_app_meta_data) values (%s, %s, %s)",
            (user_id, email, psycopg.types.json.Jsonb(app_metadata)),
        )
    return User(user_id, email, tokens.mint(user_id, email=email, app_metadata=app_metadata))
