#!/usr/bin/env bash
# Run pytest; "no tests collected" (exit 5) is a failure too, so CI never passes on nothing.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# pytest keeps its rewritten test modules in __pycache__ (git-ignored) only when bytecode may be
# written; without it every run compiles and rewrites them again (9 s of 2 cores' time here).
unset PYTHONDONTWRITEBYTECODE
.venv/bin/pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
exit "$rc"
