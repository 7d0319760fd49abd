"""Configuration that behaves (issue 13): the real environment wins over .env, DATABASE_URL
follows WAYFARE_PG_PORT, and the stack refuses to migrate or reset a database that is not the
project's own local cluster (a second throwaway cluster, a non-Postgres listener) unless told."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster_helpers import Cluster, Listener, free_port, need_cluster_tools, postgres_home
from wayfare.config import ConfigError, Settings

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

ROOT = Path(__file__).resolve().parents[1]
STACK = str(ROOT / "scripts" / "stack.sh")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "WAYFARE_PG_PORT", "WAYFARE_PG_HOME", "PORT",
                        "WAYFARE_ALLOW_FOREIGN_DB", "MAKEFLAGS", "MAKELEVEL")}
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


# ------------------------------------------------------------------ .env and the environment
def test_envfile_fills_in_only_what_the_environment_lacks(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=9999\nSUPABASE_URL=http://from-dotenv\n"
                        'SMTP_FROM="Wayfare <bookings@example.com>"\nEMPTY_IN_ENV=x\n')
    env = clean_env(PORT="8123", EMPTY_IN_ENV="")
    script = (f'eval "$({ROOT}/.venv/bin/python {ROOT}/scripts/envfile.py {env_file})"; '
              'printf "%s|%s|%s|%s" "$PORT" "$SUPABASE_URL" "$SMTP_FROM" "$EMPTY_IN_ENV"')
    out = run(["bash", "-c", script], env)
    assert out.returncode == 0, out.stderr
    # the environment wins (even an empty value, as python-dotenv's override=False does)
    assert out.stdout == "8123|http://from-dotenv|Wayfare <bookings@example.com>|"


def test_run_sh_lets_the_environment_win_over_dotenv(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=postgresql://postgres:pw@127.0.0.1:1111/from_dotenv\n"
                        "PORT=9999\nWAYFARE_API_PORT=40001\n")
    env = clean_env(WAYFARE_ENV_FILE=str(env_file), PORT="8123")
    out = run([str(ROOT / "scripts" / "run.sh"), "config"], env)
    assert out.returncode == 0, out.stderr
    config = dict(line.split("=", 1) for line in out.stdout.splitlines())
    assert config["PORT"] == "8123"                        # the real environment
    assert config["WAYFARE_API_PORT"] == "40001"           # .env fills the gap
    assert config["SUPABASE_URL"] == "http://127.0.0.1:40001"
    assert config["DATABASE_URL"] == "postgresql://postgres:***@127.0.0.1:1111/from_dotenv"


# ------------------------------------------------------------------ DATABASE_URL follows the port
def test_database_url_follows_wayfare_pg_port() -> None:
    want = "postgresql://postgres:postgres@127.0.0.1:55999/postgres"
    env = clean_env(WAYFARE_PG_PORT="55999")
    assert run([STACK, "url"], env).stdout.strip() == want
    make = run(["make", "-s", "--eval", "print-url: ; @echo $$DATABASE_URL", "print-url"], env)
    assert make.stdout.strip() == want, make.stderr
    config = run([str(ROOT / "scripts" / "run.sh"), "config"],
                 clean_env(WAYFARE_PG_PORT="55999", WAYFARE_ENV_FILE="/nonexistent"))
    assert f"DATABASE_URL={want.replace(':postgres@', ':***@')}" in config.stdout.splitlines()
    assert Settings.from_env({"WAYFARE_PG_PORT": "55999"}).database_url == want
    # an explicit DATABASE_URL still wins everywhere
    explicit = "postgresql://postgres@127.0.0.1:1/x"
    assert run([STACK, "url"], clean_env(WAYFARE_PG_PORT="55999",
                                         DATABASE_URL=explicit)).stdout.strip() == explicit
    assert Settings.from_env({"WAYFARE_PG_PORT": "55999",
                              "DATABASE_URL": explicit}).database_url == explicit
    with pytest.raises(ConfigError, match="WAYFARE_PG_PORT"):
        Settings.from_env({"WAYFARE_PG_PORT": "5432x"})


# ------------------------------------------------------------------ foreign servers
@pytest.fixture
def foreign_cluster() -> Iterator[Cluster]:
    """A second cluster that is not the project's: it holds a table a reset would drop."""
    need_cluster_tools()
    home = postgres_home("wayfare-foreign-")
    cluster = Cluster(home).start()
    try:
        cluster.execute("create table precious (id int); insert into precious values (1)")
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def own_home() -> Iterator[Path]:
    need_cluster_tools()
    home = postgres_home("wayfare-own-")
    yield home
    subprocess.run(["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl",
                    "-D", str(home / "data"), "-m", "immediate", "stop"], capture_output=True,
                   timeout=60)
    shutil.rmtree(home, ignore_errors=True)


def untouched(cluster: Cluster) -> bool:
    schemas = {r[0] for r in cluster.execute("select nspname from pg_namespace")}
    return (cluster.execute("select count(*) from precious") == [(1,)]
            and "private" not in schemas and "supabase_migrations" not in schemas)


def test_a_foreign_cluster_on_the_port_is_reported_not_migrated(foreign_cluster: Cluster,
                                                                own_home: Path) -> None:
    env = clean_env(WAYFARE_PG_PORT=str(foreign_cluster.port), WAYFARE_PG_HOME=str(own_home))
    out = run([STACK, "db"], env)
    assert out.returncode == 77, out.stderr
    assert f"something else already listens on 127.0.0.1:{foreign_cluster.port}" in out.stderr
    assert str(foreign_cluster.data) in out.stderr  # says whose it is
    assert untouched(foreign_cluster)
    assert not (own_home / "data").exists()  # and made no cluster of ours either


def test_a_non_postgres_listener_on_the_port_is_reported(own_home: Path) -> None:
    listener = Listener()
    try:
        env = clean_env(WAYFARE_PG_PORT=str(listener.port), WAYFARE_PG_HOME=str(own_home))
        out = run([STACK, "db-start"], env)
    finally:
        listener.close()
    assert out.returncode == 77, out.stderr
    assert f"something else already listens on 127.0.0.1:{listener.port}" in out.stderr


def test_db_reset_and_db_refuse_a_foreign_database_url(foreign_cluster: Cluster,
                                                       own_home: Path) -> None:
    env = clean_env(DATABASE_URL=foreign_cluster.url(), WAYFARE_PG_HOME=str(own_home),
                    WAYFARE_PG_PORT=str(free_port()))
    for command in (["db-reset"], ["db"], ["migrate"]):
        out = run([STACK, *command], env)
        assert out.returncode == 77, (command, out.stderr)
        assert "refusing to" in out.stderr and "not this project's local cluster" in out.stderr
        assert "WAYFARE_ALLOW_FOREIGN_DB=1" in out.stderr
    assert untouched(foreign_cluster)


def test_the_own_cluster_is_created_migrated_and_reset_and_force_is_explicit(
        foreign_cluster: Cluster, own_home: Path) -> None:
    port = free_port()
    env = clean_env(WAYFARE_PG_PORT=str(port), WAYFARE_PG_HOME=str(own_home),
                    WAYFARE_FAST_DB="1")
    out = run([STACK, "db"], env)
    assert out.returncode == 0, out.stderr
    own = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    check = ["psql", own, "-AtqX", "-c"]
    subprocess.run([*check, "create table private.sentinel ()"], check=True)
    out = run([STACK, "db-reset"], env)
    assert out.returncode == 0, out.stderr
    left = subprocess.run([*check, "select to_regclass('private.sentinel') is null, "
                           "(select count(*) from supabase_migrations.schema_migrations) > 0"],
                          capture_output=True, text=True, check=True)
    assert left.stdout.strip() == "t|t"  # emptied, then migrated again
    # the foreign one only with --force (told explicitly); a database pg_cron does not serve
    foreign_cluster.execute("create database wayfare")
    foreign_env = {**env, "DATABASE_URL": foreign_cluster.url("wayfare")}
    assert run([STACK, "db-reset"], foreign_env).returncode == 77
    assert untouched(foreign_cluster)
    forced = run([STACK, "db-reset", "--force"], foreign_env)
    assert forced.returncode == 0, forced.stderr
    assert "supabase_migrations" in {r[0] for r in foreign_cluster.execute(
        "select nspname from pg_namespace", "wayfare")}


def test_the_cluster_preloads_pg_stat_statements_and_an_old_one_gets_it_once(
        own_home: Path) -> None:
    port = free_port()
    env = clean_env(WAYFARE_PG_PORT=str(port), WAYFARE_PG_HOME=str(own_home))
    assert run([STACK, "db-start"], env).returncode == 0
    show = ["psql", f"postgresql://postgres@127.0.0.1:{port}/postgres", "-AtqX", "-c",
            "show shared_preload_libraries"]
    assert subprocess.run(show, capture_output=True, text=True).stdout.strip() \
        == "pg_cron,pg_stat_statements"
    # a cluster made before: only pg_cron, running
    conf = own_home / "data" / "postgresql.conf"
    conf.write_text(conf.read_text().replace("'pg_cron,pg_stat_statements'", "'pg_cron'"))
    pg_ctl = ["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D",
              str(own_home / "data"), "-l", str(own_home / "postgres.log"), "-w"]
    subprocess.run([*pg_ctl, "restart"], check=True, capture_output=True, timeout=60)
    assert subprocess.run(show, capture_output=True, text=True).stdout.strip() == "pg_cron"
    first = run([STACK, "db-start"], env)
    assert first.returncode == 0 and "loads at the next restart" in first.stderr
    second = run([STACK, "db-start"], env)  # idempotent: nothing added, nothing said
    assert second.returncode == 0 and "loads at the next restart" not in second.stderr
    assert conf.read_text().count("pg_cron,pg_stat_statements") == 1
    # never restarted by the stack: still the old setting until the owner restarts it
    assert subprocess.run(show, capture_output=True, text=True).stdout.strip() == "pg_cron"
    subprocess.run([*pg_ctl, "restart"], check=True, capture_output=True, timeout=60)
    assert subprocess.run(show, capture_output=True, text=True).stdout.strip() \
        == "pg_cron,pg_stat_statements"
