#!/usr/bin/env bash
# `make run`: the database is up and migrated (make db ran first). Start the local Supabase
# API (real PostgREST + Auth stand-in behind the gateway on :54321), Wayfare's processes
# (worker, web service) and, unless real ones are configured, local doubles of Stripe; run a
# demo over HTTP and show a live view. Ctrl-C stops the processes (the database keeps running).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
# .env fills in only what the real environment lacks (the rule of the Python processes)
ENV_FILE="${WAYFARE_ENV_FILE:-.env}"
if [ -f "$ENV_FILE" ]; then eval "$("$PY" scripts/envfile.py "$ENV_FILE")"; fi
: "${DATABASE_URL:=postgresql://postgres:postgres@127.0.0.1:${WAYFARE_PG_PORT:-54322}/postgres}"
: "${PORT:=8000}"
: "${STRIPE_DOUBLE_PORT:=12111}"
: "${WAYFARE_API_PORT:=54321}"
: "${SUPABASE_URL:=http://127.0.0.1:$WAYFARE_API_PORT}"
# The local stack's JWT secret (Supabase's well-known local one): never in production.
: "${SUPABASE_JWT_SECRET:=super-secret-jwt-token-with-at-least-32-characters-long}"
export DATABASE_URL PORT SUPABASE_URL SUPABASE_JWT_SECRET
if [ "${1:-}" = config ]; then  # `scripts/run.sh config`: the settings it would run with
  for v in DATABASE_URL PORT SUPABASE_URL WAYFARE_API_PORT STRIPE_DOUBLE_PORT; do
    printf '%s=%s\n' "$v" "$(printf '%s' "${!v}" | sed -E 's#(//[^:/@]*):[^@/]*@#\1:***@#')"
  done
  exit 0
fi
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

wait_http() {  # wait_http URL [SECONDS]: up to 20 s by default
  for _ in $(seq 1 $(( ${2:-20} * 5 ))); do
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

# Booking emails: without SMTP settings, a local sink keeps them (.local/mail/, an HTTP listing)
: "${SMTP_SINK_PORT:=1025}"
: "${SMTP_SINK_HTTP_PORT:=8025}"
if [ -z "${SMTP_URL:-}" ] && [ -z "${SMTP_HOST:-}" ]; then
  export SMTP_URL="smtp://127.0.0.1:$SMTP_SINK_PORT"
  start smtp-sink "$PY" -m devstack.smtp_sink --port "$SMTP_SINK_PORT" \
    --http-port "$SMTP_SINK_HTTP_PORT" --dir .local/mail
  wait_http "http://127.0.0.1:$SMTP_SINK_HTTP_PORT/"
  mail_where="local sink: read mails at http://127.0.0.1:$SMTP_SINK_HTTP_PORT/ (files: .local/mail/)"
else
  mail_where="SMTP $(printf '%s' "${SMTP_URL:-smtp://$SMTP_HOST}" | sed -E 's#//[^@/]*@#//#')"
fi

scripts/stack.sh api-stop >/dev/null 2>&1 || true  # a background one from `make api`
start api "$PY" -m devstack.localapi serve --database-url "$DATABASE_URL" \
  --port "$WAYFARE_API_PORT" --home .local/api
wait_http "$SUPABASE_URL/"
eval "$("$PY" -m devstack.localapi keys)"
export SUPABASE_ANON_KEY SUPABASE_SERVICE_ROLE_KEY
DEMO_EMAIL=demo@wayfare.test
DEMO_PASSWORD=wayfare-demo-password
DEMO_TOKEN="$("$PY" -m devstack.auth create-user "$DEMO_EMAIL" --password "$DEMO_PASSWORD" \
  --exists-ok --site-url "$SUPABASE_URL" 2>/dev/null || true)"

# /ops and /metrics read API latency by endpoint from the gateway's access log
export WAYFARE_API_ACCESS_LOG="${WAYFARE_API_ACCESS_LOG:-$PWD/.local/api/access.log}"
start web "$PY" -m webhook
wait_http "http://127.0.0.1:$PORT/healthz"
start worker "$PY" -m worker
: "${FRONTEND_PORT:=5173}"
start frontend scripts/frontend.sh serve  # the travel app (frontend/app), built when needed
wait_http "http://127.0.0.1:$FRONTEND_PORT/config.json" 180

stripe_where="${STRIPE_API_BASE:-the Stripe API}"
ai_where="${AI_BASE_URL:-the offline provider, not a model: set AI_BASE_URL for a real one}"
cat <<MSG

Wayfare is up.
  travel app     http://127.0.0.1:$FRONTEND_PORT   (frontend/app: sign up, plan, research, book)
  Supabase API   $SUPABASE_URL   (/rest/v1 real PostgREST 12.0.2, /auth/v1 local Auth stand-in)
  anon key       SUPABASE_ANON_KEY=$SUPABASE_ANON_KEY
  service key    SUPABASE_SERVICE_ROLE_KEY=$SUPABASE_SERVICE_ROLE_KEY  (server side only)
  demo user      $DEMO_EMAIL / $DEMO_PASSWORD
  access token   ${DEMO_TOKEN:0:40}...   (python -m devstack.auth create-user EMAIL prints one)
  operator       python -m devstack.auth make-operator $DEMO_EMAIL   (then /ops accepts its token)
  database       $DATABASE_URL   (psql "$DATABASE_URL")
  web service    http://127.0.0.1:$PORT   /healthz /readyz /metrics /ops
  Stripe         $stripe_where
  AI provider    $ai_where
  mail           $mail_where
  logs           $LOGS/{api,web,worker,stripe-double,frontend}.log (JSON lines), .local/api/ (gateway, PostgREST)

supabase-js, as printed (npm i @supabase/supabase-js; on Node 20 also npm i ws and set globalThis.WebSocket):
  import { createClient } from '@supabase/supabase-js'
  const supabase = createClient('$SUPABASE_URL', '$SUPABASE_ANON_KEY')
  await supabase.auth.signInWithPassword({ email: '$DEMO_EMAIL', password: '$DEMO_PASSWORD' })
  const { data, error } = await supabase.rpc('create_trip', { title: 'Porto' })

Running the demo (over HTTP with supabase-py), then a live view. Ctrl-C stops all but the database.
MSG
sleep 1
"$PY" -m devstack.demo --url "$SUPABASE_URL" --email "$DEMO_EMAIL" --password "$DEMO_PASSWORD" \
  --stripe-url "${STRIPE_API_BASE:-http://127.0.0.1:$STRIPE_DOUBLE_PORT}" \
  || echo "run: the demo failed; see above" >&2
sleep 2
"$PY" -m devstack.watch
