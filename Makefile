# Wayfare. `make run` sets up everything and runs it; `make test` sets up and runs every test.
# Every target installs what it is missing and is safe to repeat. DATABASE_URL is honoured.
SHELL := /bin/bash
# DATABASE_URL follows WAYFARE_PG_PORT (the local cluster's port) unless it is exported
export DATABASE_URL ?= postgresql://postgres:postgres@127.0.0.1:$(or $(WAYFARE_PG_PORT),54322)/postgres
VENV := .venv
PY := $(VENV)/bin/python
STACK := scripts/stack.sh

.PHONY: run test test-fast deps db db-stop db-reset api api-stop types lint pgtap pytest worker web bench chaos policies help deploy image schema

help:
	@echo "make run      set up and run Wayfare (database, worker, web service, local doubles)"
	@echo "make test     set up and run every test (lint, pgTAP, pytest, frontend)"
	@echo "make test-fast  the fast subset: pytest -m 'not slow' (no workers, web service, Stripe double, browser)"
	@echo "make db       start or create the local cluster and migrate it (idempotent)"
	@echo "make db-stop  stop the local cluster"
	@echo "make db-reset drop Wayfare's schemas and migrate again"
	@echo "make lint     ruff, sqlfluff, policy drift, supabase db lint"
	@echo "make worker   run the job worker in the foreground"
	@echo "make web      run the web service (webhooks, health, metrics, ops) in the foreground"
	@echo "make bench    run the benchmarks and print their ratios"
	@echo "make chaos    5,000 jobs, killed workers, a Postgres restart, replayed webhooks"
	@echo "make api      start the local Supabase API on :54321 in the background (api-stop stops it)"
	@echo "make types    regenerate supabase/types/database.types.ts from the migrations"
	@echo "make schema   regenerate supabase/schema.sql (the current schema) from the migrations"
	@echo "make image    build the process image (Docker), or lint Dockerfile, units and Procfile without it"
	@echo "make deploy   check, push and verify a hosted Supabase project (SUPABASE_DB_URL=... [DRY_RUN=1]; docs/deploy.md)"

deps:
	@$(STACK) deps

db:
	@$(STACK) db

db-stop:
	@$(STACK) db-stop

db-reset:
	@$(STACK) db-reset $(if $(FORCE),--force)

api: deps db
	@$(STACK) api

api-stop:
	@$(STACK) api-stop

types: deps db
	@scripts/types.sh write

schema: deps db
	@scripts/schema.sh write

policies:
	@$(PY) scripts/policies.py sync

lint: deps db
	@scripts/lint.sh

pgtap: deps db
	@scripts/pgtap.sh

pytest: deps db
	@scripts/pytest.sh

test: deps db
	@scripts/lint.sh
	@scripts/pgtap.sh
	@scripts/pytest.sh
	@scripts/frontend.sh test

# The fast subset (tests/README.md): no worker, web service, Stripe double or browser processes;
# two pytest processes, each module kept whole in one (its own template, database and PostgREST).
test-fast: deps db
	@scripts/pytest.sh -m "not slow" -q -n 2 --dist loadfile

run: deps db
	@scripts/run.sh

# a hosted Supabase project: SUPABASE_DB_URL (or ARGS="--db-url ..."), DRY_RUN=1 changes nothing
deploy: deps
	@$(PY) scripts/deploy.py $(if $(DRY_RUN),--dry-run) $(ARGS)

# the worker + web service image where Docker runs; elsewhere hadolint, systemd-analyze, Procfile
image: deps
	@scripts/image.sh

worker: deps db
	@$(PY) -m worker

web: deps db
	@$(PY) -m webhook

bench: deps db
	@scripts/bench.sh

# on a throwaway cluster of its own (never the shared one): see bench/chaos.py
chaos: deps
	@$(PY) -m bench.chaos
