"""The real PostgREST behind the gateway: tokens are verified, errors map as documented."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.harness import databases, tokens
from tests.harness.postgrest import PostgREST
from tests.harness.users import User


def test_expired_token_is_401_without_touching_the_database(api: PostgREST,
                                                           alice: User) -> None:
    # PostgREST 12 allows 30 s of clock skew on exp
    response = api.select("trips", token=alice.token_with(expires_in=-45))
    assert response.status == 401 and response.code == "PGRST301"
    assert response.header("X-Request-ID")  # the gateway's, since PostgREST answered alone


def test_token_signed_with_another_secret_is_401(api: PostgREST, alice: User) -> None:
    token = tokens.mint(alice.id, secret="x" * 40)
    assert api.select("trips", token=token).status == 401


def test_audience_is_not_checked_by_postgrest(api: PostgREST, alice: User) -> None:
    """As on Supabase (no `jwt-aud` in its PostgREST config): only the signature and exp
    count; the web service, which verifies tokens itself, checks `aud` (docs/api.md)."""
    token = tokens.mint(alice.id, audience="somebody-else")
    assert api.select("trips", token=token).status == 200


def test_minted_tokens_have_supabase_claims(alice: User) -> None:
    claims = tokens.verify(alice.token)
    for claim in ("iss", "sub", "aud", "exp", "iat", "role", "email", "session_id", "aal"):
        assert claim in claims
    assert claims["aud"] == "authenticated" and claims["role"] == "authenticated"


def test_unknown_rpc_is_404(api: PostgREST, alice: User) -> None:
    response = api.rpc("no_such_function", {"x": 1}, token=alice.token)
    assert response.status == 404 and response.code == "PGRST202"


@pytest.fixture(scope="module")
def raising_api(clones: databases.Clones) -> Iterator[PostgREST]:
    """A database of its own with a test-only function that raises any SQLSTATE."""
    url = clones.make()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("""
            create function public.raise_state(state text) returns void
            language plpgsql as $$ begin
                raise exception using errcode = state, message = 'raised ' || state;
            end $$;
            grant execute on function public.raise_state(text) to anon, authenticated;
        """)
    client = PostgREST(databases.url_for(url.rsplit("/", 1)[-1], user="authenticator"))
    yield client
    client.close()


# PostgREST 12's own SQLSTATE -> HTTP table, as the real server answers (docs/errors.md).
@pytest.mark.parametrize(("sqlstate", "as_anon", "status"), [
    ("23505", False, 409), ("23503", False, 409), ("42501", True, 401),
    ("42501", False, 403), ("P0001", False, 400), ("PT402", False, 402),
    ("22008", True, 400), ("57014", True, 500), ("53300", True, 503), ("08006", True, 503),
])
def test_status_mapping_of_the_real_postgrest(raising_api: PostgREST, alice: User,
                                              sqlstate: str, as_anon: bool,
                                              status: int) -> None:
    token = None if as_anon else tokens.mint(alice.id, email=alice.email)
    response = raising_api.rpc("raise_state", {"state": sqlstate}, token=token)
    assert response.status == status, response.body
    assert response.code == sqlstate
