#!/usr/bin/env bash
# `make run`: the database is up and migrated (make db ran first). Start Wayfare's processes
# (worker, web service) and, unless real ones are configured, local doubles of Stripe; run a
# demo and show a live view. Ctrl-C stops the processes (the database keeps running).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f .env ] && set -a && . ./.env && set +a
: "${DATABASE_URL:=postgresql://postgres:postgres@127.0.0.1:54322/postgres}"
: "${PORT:=8000}"
: "${STRIPE_DOUBLE_PORT:=12111}"
export DATABASE_URL PORT
PY=.venv/bin/python
LOGS=.local/logs
mkdir -p "$LOGS"
pids=()

stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo; echo "Wayfare stopped (the database is still up: make db-stop)."
}
trap stop_all INT TERM EXIT

start() {  # start NAME COMMAND...: a background process logging to .local/logs/NAME.log
  local name="$1"; shift
  "$@" >"$LOGS/$name.log" 2>&1 &
  pids+=($!)
}

wait_http() {  # wait_http URL: up to 20 s
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "run: $1 did not answer; see $LOGS/" >&2; return 1
}

if [ -z "${STRIPE_API_KEY:-}" ] || [ "${STRIPE_API_KEY}" = "sk_test_replace_me" ]; then
  export STRIPE_API_KEY=sk_test_local_double
  export STRIPE_WEBHOOK_SECRET=whsec_local_double_secret
  export STRIPE_API_BASE="http://127.0.0.1:$STRIPE_DOUBLE_PORT"
  start stripe-double "$PY" -m devstack.stripe_double --port "$STRIPE_DOUBLE_PORT" \
    --webhook-url "http://127.0.0.1:$PORT/webhooks/stripe" \
    --webhook-secret "$STRIPE_WEBHOOK_SECRET"
  wait_http "$STRIPE_API_BASE/_double/health"
fi

start web "$PY" -m webhook
wait_http "http://127.0.0.1:$PORT/healthz"
start worker "$PY" -m worker

stripe_where="${STRIPE_API_BASE:-the Stripe API}"
ai_where="${AI_BASE_URL:-the offline provider, not a model: set AI_BASE_URL for a real one}"
cat <<MSG

Wayfare is up.
  database       $DATABASE_URL   (psql "$DATABASE_URL")
  web service    http://127.0.0.1:$PORT   /healthz /readyz /metrics /ops
  Stripe         $stripe_where
  AI provider    $ai_where
  logs           $LOGS/{web,worker,stripe-double}.log (JSON lines)

Running the demo, then a live view. Ctrl-C stops everything but the database.
MSG
sleep 1
"$PY" -m devstack.demo --stripe-url "${STRIPE_API_BASE:-http://127.0.0.1:$STRIPE_DOUBLE_PORT}" \
  || echo "run: the demo failed; see above" >&2
sleep 2
"$PY" -m devstack.watch
