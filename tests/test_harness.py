"""The harness itself: tokens are verified as PostgREST verifies them, errors map as it maps."""

from __future__ import annotations

import pytest

from tests.harness import tokens
from tests.harness.postgrest import PostgREST, status_for
from tests.harness.users import User


def test_expired_token_is_401_without_touching_the_database(api: PostgREST,
                                                           alice: User) -> None:
    response = api.select("trips", token=alice.token_with(expires_in=-5))
    assert response.status == 401 and response.code == "PGRST303"


def test_token_signed_with_another_secret_is_401(api: PostgREST, alice: User) -> None:
    token = tokens.mint(alice.id, secret="x" * 40)
    assert api.select("trips", token=token).status == 401


def test_wrong_audience_is_401(api: PostgREST, alice: User) -> None:
    token = tokens.mint(alice.id, audience="somebody-else")
    assert api.select("trips", token=token).status == 401


def test_minted_tokens_have_supabase_claims(alice: User) -> None:
    claims = tokens.verify(alice.token)
    for claim in ("iss", "sub", "aud", "exp", "iat", "role", "email", "session_id", "aal"):
        assert claim in claims
    assert claims["aud"] == "authenticated" and claims["role"] == "authenticated"


def test_unknown_rpc_is_404(api: PostgREST, alice: User) -> None:
    response = api.rpc("no_such_function", {"x": 1}, token=alice.token)
    assert response.status == 404 and response.code == "PGRST202"


@pytest.mark.parametrize(("sqlstate", "role", "status"), [
    ("23505", "authenticated", 409), ("23503", "authenticated", 409),
    ("42501", "anon", 401), ("42501", "authenticated", 403), ("P0001", "authenticated", 400),
    ("PT402", "authenticated", 402), ("42883", "anon", 404), ("22008", "anon", 400),
    ("57014", "anon", 500), ("53300", "anon", 503), ("08006", "anon", 503),
])
def test_status_mapping(sqlstate: str, role: str, status: int) -> None:
    assert status_for(sqlstate, role) == status
