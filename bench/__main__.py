"""`make bench`: every benchmark in one run, each printing its ratios to a baseline measured
in the same process. Pass names to run some: `python -m bench core redact`."""

from __future__ import annotations

import importlib
import sys
import time

BENCHES = {
    "core": ("bench.core_bench", []),
    "http": ("bench.http_bench", []),
    "redact": ("bench.redact_bench", []),
    "public_redact": ("bench.public_redact_bench", []),
    "jobs": ("bench.jobs_bench", []),
    "webhook": ("bench.webhook_bench", []),
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHES)
    failed = []
    for name in chosen:
        module_name, args = BENCHES[name]
        print(f"\n######## {name} ({module_name})", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(module_name)
            module.main(args)
        except Exception as exc:  # report and go on with the next benchmark
            print(f"bench {name} failed: {type(exc).__name__}: {exc}", flush=True)
            failed.append(name)
        print(f"######## {name} took {time.monotonic() - started:.0f} s", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
