"""Through the real PostgREST over HTTP (the local gateway, as supabase-js calls it), with wrk:
8 concurrent connections, 30 s per case, 50 users in turn (rate limits raised so that nothing
is refused, but every write is still counted by the pre-request function).

- `create_trip` with a fresh Idempotency-Key per call, against a plain `POST /trips` of the
  same row on the same server (target: ratio >= 0.7);
The cases take turns in 3 rounds (p50: the median round; p99: the worst round).

- the pre-request function's cost: the same `create_trip` through a second PostgREST on the
  same database that does not read in-database configuration, so it runs no pre-request
  (target: <= 10 % fewer requests/s).

    python -m bench.http_bench [--seconds 30] [--connections 8]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from bench.common import scratch_database
from devstack.localapi import LocalAPI
from tests.harness.users import create_user

USERS = 50
ROUNDS = 3

WRK_SCRIPT = """
local tokens = {%(tokens)s}
local anon = "%(anon)s"
local path = "%(path)s"
local idempotent = %(idempotent)s
local counter = 0
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local token = tokens[(counter %% #tokens) + 1]
  local headers = {}
  headers["apikey"] = anon
  headers["Authorization"] = "Bearer " .. token
  headers["Content-Type"] = "application/json"
  headers["Prefer"] = "return=representation"
  if idempotent then
    headers["Idempotency-Key"] = "bench-" .. tid .. "-" .. counter .. "-" .. math.random(1e9)
  end
  return wrk.format("POST", path, headers, '{"title":"Bench trip ' .. counter .. '"}')
end
done = function(summary, latency, requests)
  io.write(string.format('WAYFARE {"requests":%%d,"seconds":%%f,"errors":%%d,' ..
    '"non2xx":%%d,"p50_ms":%%f,"p99_ms":%%f}\\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def wrk(url: str, path: str, tokens: list[str], anon: str, *, idempotent: bool,
        seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {
            "tokens": ", ".join(json.dumps(t) for t in tokens), "anon": anon, "path": path,
            "idempotent": "true" if idempotent else "false",
        })
    try:
        out = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "-s", script.name,
             url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    finally:
        Path(script.name).unlink()
    found = re.search(r"^WAYFARE (\{.*\})$", out, re.M)
    if not found:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    result = json.loads(found.group(1))
    if result["non2xx"] or result["errors"]:
        raise RuntimeError(f"{path}: {result['non2xx']} non-2xx, {result['errors']} errors")
    result["rps"] = result["requests"] / result["seconds"]
    return result


def run(seconds: int, connections: int) -> dict[str, dict[str, float]]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: apt-get install wrk (scripts/bench.sh does)")
    with scratch_database("http") as url:
        tokens = [create_user(url).token for _ in range(USERS)]
        with psycopg.connect(url, autocommit=True) as conn:
            # bench only: a pre-request function that only keeps the request id, to tell
            # PostgREST's extra statement apart from the rate limiter's work
            conn.execute("""
                create function private.bench_request_id_only() returns void
                language sql security definer set search_path = '' as $$
                    select pg_catalog.set_config('wayfare.request_id',
                        pg_catalog.gen_random_uuid()::text, true)
                $$;
                grant execute on function private.bench_request_id_only() to authenticated;
            """)
        with LocalAPI(url, with_auth=False) as api, \
                LocalAPI(url, with_auth=False, db_config=False) as bare, \
                LocalAPI(url, with_auth=False, db_config=False,
                         pre_request="private.bench_request_id_only") as thin:
            cases = {
                "plain POST /trips": (api.url, "/rest/v1/trips", False),
                "create_trip + key": (api.url, "/rest/v1/rpc/create_trip", True),
                "create_trip + key, no pre-request": (bare.url, "/rest/v1/rpc/create_trip",
                                                      True),
                "create_trip + key, id-only pre-request": (thin.url,
                                                           "/rest/v1/rpc/create_trip", True),
            }
            for base, path, idempotent in cases.values():  # warm up every server
                wrk(base, path, tokens, api.anon_key, idempotent=idempotent, seconds=2,
                    connections=connections)
            # the cases take turns, ROUNDS times, so that drift in the machine's load
            # (a shared 2-core box) spreads over all of them
            totals: dict[str, dict[str, float]] = {}
            for _ in range(ROUNDS):
                for name, (base, path, idempotent) in cases.items():
                    got = wrk(base, path, tokens, api.anon_key, idempotent=idempotent,
                              seconds=max(1, seconds // ROUNDS), connections=connections)
                    total = totals.setdefault(name, {"requests": 0, "seconds": 0.0,
                                                     "p50_ms": [], "p99_ms": []})
                    total["requests"] += got["requests"]
                    total["seconds"] += got["seconds"]
                    total["p50_ms"].append(got["p50_ms"])
                    total["p99_ms"].append(got["p99_ms"])
            for total in totals.values():
                total["rps"] = total["requests"] / total["seconds"]
                total["p50_ms"] = sorted(total["p50_ms"])[len(total["p50_ms"]) // 2]
                total["p99_ms"] = max(total["p99_ms"])
            return totals


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    results = run(args.seconds, args.connections)
    print(f"== HTTP through the real PostgREST (wrk, {args.connections} connections, "
          f"{args.seconds} s each)")
    for name, r in results.items():
        print(f"  {name:36s} {r['rps']:8.1f} req/s   p50 {r['p50_ms']:6.2f} ms   "
              f"p99 {r['p99_ms']:6.2f} ms   ({r['requests']} requests)")
    rpc = results["create_trip + key"]["rps"]
    ratio = rpc / results["plain POST /trips"]["rps"]
    cost = 1 - rpc / results["create_trip + key, no pre-request"]["rps"]
    print(f"  idempotent create_trip / plain POST /trips: {ratio:.2f} "
          f"(target >= 0.70: {'meets' if ratio >= 0.7 else 'MISSES'})")
    thin = 1 - results["create_trip + key, id-only pre-request"]["rps"] / \
        results["create_trip + key, no pre-request"]["rps"]
    print(f"  pre-request function's cost: {cost * 100:.1f} % fewer requests/s "
          f"(target <= 10 %: {'meets' if cost <= 0.10 else 'MISSES'}); of which any "
          f"pre-request statement at all: {thin * 100:.1f} %")
    return results


if __name__ == "__main__":
    main()
