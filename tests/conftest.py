"""Fixtures: a migrated template database per run, clones of it, users, and the real
PostgREST behind the local gateway."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import psycopg
import pytest

from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.users import User, create_user

RUN = f"{os.getpid()}"


@pytest.fixture(scope="session")
def template_db() -> Iterator[str]:
    """A database brought to the latest schema by `supabase db push`, once per run."""
    name = f"wayfare_tmpl_{RUN}"
    url = databases.create_migrated(name)
    with databases.admin() as conn:
        conn.execute(f'alter database "{name}" is_template true')
    yield url
    with databases.admin() as conn:
        conn.execute(f'alter database "{name}" is_template false')
    databases.drop(name)


@pytest.fixture(scope="session")
def clones(template_db: str) -> Iterator[databases.Clones]:
    made = databases.Clones(template_db.rsplit("/", 1)[-1].split("?")[0], f"wayfare_t{RUN}")
    yield made
    made.drop_all()


@pytest.fixture(scope="session")
def db_url(clones: databases.Clones) -> str:
    """The run's shared database: tests isolate themselves by using their own users. Its
    rate limits are raised so that only tests about them (on fresh databases) meet them."""
    url = clones.make()
    databases.relax_rate_limits(url)
    return url


@pytest.fixture
def fresh_db_url(clones: databases.Clones) -> Iterator[str]:
    """A database of its own for a test that needs global state (queues, counts, processes)."""
    url = clones.make()
    yield url
    name = url.rsplit("/", 1)[-1]
    databases.drop(name)
    clones.made.remove(name)


@pytest.fixture
def db(db_url: str) -> Iterator[psycopg.Connection]:
    """A superuser connection to the shared database (autocommit), for setup and assertions."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def make_user(db_url: str) -> Callable[..., User]:
    return lambda **kw: create_user(db_url, **kw)


@pytest.fixture
def alice(make_user: Callable[..., User]) -> User:
    return make_user()


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user()


@pytest.fixture(scope="session")
def shared_api(db_url: str) -> Iterator[PostgREST]:
    """The real PostgREST (and gateway) for the shared database, started once per run."""
    client = PostgREST(databases.url_for(db_url.rsplit("/", 1)[-1], user="authenticator"))
    yield client
    client.close()


@pytest.fixture
def api(shared_api: PostgREST, db_url: str) -> Iterator[PostgREST]:
    client = PostgREST(databases.url_for(db_url.rsplit("/", 1)[-1], user="authenticator"))
    yield client
    client.close()


@pytest.fixture
def api_factory(shared_api: PostgREST, db_url: str) -> Iterator[Callable[[], PostgREST]]:
    """Separate HTTP clients of the shared PostgREST, for concurrency tests."""
    made: list[PostgREST] = []

    def factory() -> PostgREST:
        client = PostgREST(databases.url_for(db_url.rsplit("/", 1)[-1], user="authenticator"))
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()
