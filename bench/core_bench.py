"""create_trip with an Idempotency-Key through the PostgREST-faithful path, against a plain
`insert into public.trips` on the same server, in the same run.

    python -m bench.core_bench [--calls 2000]
"""

from __future__ import annotations

import argparse
import uuid

import psycopg

from bench.common import best_of, rate, scratch_database
from tests.harness import databases
from tests.harness.postgrest import PostgREST
from tests.harness.users import create_user

USERS = 50


def run(calls: int) -> dict[str, float]:
    with scratch_database("core") as url:
        # many users, as real traffic: one user cannot make more than 100 writes a minute
        users = [create_user(url) for _ in range(USERS)]
        name = url.rsplit("/", 1)[-1]
        api = PostgREST(databases.url_for(name, user="authenticator"))
        plain = psycopg.connect(url, autocommit=True)
        # the ceiling of any RPC through PostgREST: a function that does nothing (bench only)
        plain.execute("create function public.bench_noop() returns jsonb language sql "
                      "as $$ select '{}'::jsonb $$")
        plain.execute("grant execute on function public.bench_noop() to authenticated")
        try:
            def rpc_call(i: int) -> None:
                response = api.rpc("create_trip", {"title": f"Trip {i}"},
                                   token=users[i % USERS].token,
                                   headers={"Idempotency-Key": str(uuid.uuid4())})
                assert response.status == 201, response.body

            def plain_insert(i: int) -> None:
                plain.execute("insert into public.trips (user_id, title) values (%s, %s)",
                              (users[i % USERS].id, f"Trip {i}"))

            def noop_rpc(i: int) -> None:
                assert api.rpc("bench_noop", token=users[i % USERS].token).status == 200

            def rest_insert(i: int) -> None:
                assert api.insert("trips", {"title": f"Trip {i}"},
                                  token=users[i % USERS].token).status == 201

            rate(rpc_call, 200)  # warm up
            rate(plain_insert, 200)
            results = {
                "plain_insert_per_s": best_of(3, lambda: rate(plain_insert, calls)),
                "postgrest_insert_per_s": best_of(3, lambda: rate(rest_insert, calls)),
                "postgrest_noop_rpc_per_s": best_of(3, lambda: rate(noop_rpc, calls)),
                "idempotent_rpc_per_s": best_of(3, lambda: rate(rpc_call, calls)),
            }
        finally:
            api.close()
            plain.close()
    results["ratio_rpc_vs_plain_insert"] = (
        results["idempotent_rpc_per_s"] / results["plain_insert_per_s"])
    results["ratio_noop_rpc_vs_plain_insert"] = (
        results["postgrest_noop_rpc_per_s"] / results["plain_insert_per_s"])
    results["ratio_rpc_vs_postgrest_insert"] = (
        results["idempotent_rpc_per_s"] / results["postgrest_insert_per_s"])
    return results


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    results = run(args.calls)
    print("== core API: create_trip with Idempotency-Key vs plain insert")
    for key, value in results.items():
        print(f"  {key:32s} {value:10.2f}")
    verdict = "meets" if results["ratio_rpc_vs_plain_insert"] >= 0.5 else "MISSES"
    print(f"  target: ratio >= 0.50 -> {verdict}")
    return results


if __name__ == "__main__":
    main()
