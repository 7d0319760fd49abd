-- Async jobs (contract §8): the queue, the registry of job types and their input validators,
-- the users' RPCs (start_job, start_research, cancel_job), the worker's functions (claim,
-- heartbeat, complete, fail, cancel, release), lease recovery, expiry and retention by pg_cron.
-- See docs/jobs.md.
--
-- public.jobs holds only what its owner may read (PostgREST's `select *`, which the pollUrl
-- and supabase-js send, fails on a table with column-level grants, so no internal column lives
-- there). A claimed job's lease lives in private.job_leases (one row per processing job: a job
-- is processing exactly while it has one), internal error text in private.job_errors.

-- ============================================================================
-- The worker's role: executes the worker functions below and nothing else. `python -m worker`
-- connects as postgres (or any member) and runs `set role wayfare_worker`.
-- ============================================================================
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'wayfare_worker') then
        create role wayfare_worker nologin;
    end if;
end
$$;
grant wayfare_worker to postgres;
grant wayfare_worker to service_role;
grant usage on schema private to wayfare_worker;

-- ============================================================================
-- Job types: one row per type; tuning lives here, so operators change it without a deploy.
-- ============================================================================
create table if not exists private.job_types (
    type text primary key
    constraint job_types_type_format check (type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
    description text not null,
    -- private.<fn>(input jsonb) returns jsonb: the normalised input, or raises
    -- VALIDATION_FAILED naming input.<key>
    validator regprocedure not null,
    -- false for types only the backend enqueues (private.enqueue_job), e.g. payments
    user_startable boolean not null default true,
    max_attempts int not null default 3
    constraint job_types_max_attempts_range check (max_attempts between 1 and 100),
    lease_seconds int not null default 30
    constraint job_types_lease_seconds_range check (lease_seconds between 1 and 3600),
    -- lower runs first
    priority int not null default 100
    constraint job_types_priority_range check (priority between 0 and 1000),
    -- retry n waits least(retry_base * 2^(n-1), retry_cap) * (0.5 + random()/2)
    retry_base interval not null default interval '5 seconds',
    retry_cap interval not null default interval '10 minutes',
    -- queued jobs older than this are cancelled (error 'expired')
    expires_after interval not null default interval '24 hours',
    -- finished jobs are deleted this long after they finished
    retention interval not null default interval '7 days',
    max_input_bytes int not null default 65536
    constraint job_types_max_input_bytes_range check (max_input_bytes between 2 and 1048576)
);
comment on table private.job_types is
'Registry of job types: validation, attempts, lease, priority, retry backoff, expiry, retention.';

-- ============================================================================
-- Jobs
-- ============================================================================
create table if not exists public.jobs (
    id uuid primary key default gen_random_uuid(),
    -- null for system jobs nobody owns (no user sees them)
    user_id uuid references auth.users (id) on delete cascade,
    -- one of private.job_types, checked by enqueue_job (the only writer). No foreign key: every
    -- status change of a job writes a new entry into each of the table's full indexes, and
    -- the index a foreign key needs cost about 14% of claim/complete throughput (measured);
    -- retire a type with user_startable = false rather than deleting it.
    type text not null,
    status text not null default 'queued'
    constraint jobs_status_check
    check (status in ('queued', 'processing', 'completed', 'failed', 'cancelled')),
    progress int not null default 0 constraint jobs_progress_range check (progress between 0 and 100),
    input jsonb not null default '{}'::jsonb,
    result jsonb,
    -- user-safe; internal error text is in private.job_errors
    error text,
    checkpoints jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    -- when the job finished: completed, failed or cancelled
    completed_at timestamptz,
    expires_at timestamptz not null default (now() + interval '24 hours'),
    attempts int not null default 0 constraint jobs_attempts_range check (attempts >= 0),
    max_attempts int not null default 3
    constraint jobs_max_attempts_range check (max_attempts between 1 and 100),
    run_at timestamptz not null default now(),
    cancel_requested_at timestamptz,
    request_id text,
    priority int not null default 100,
    constraint jobs_finished_iff_completed_at check (
        (status in ('completed', 'failed', 'cancelled')) = (completed_at is not null)
    )
)
-- room on each page for HOT updates (progress, checkpoints); vacuum a queue table early
with (
    fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_insert_scale_factor = 0.05,
    autovacuum_analyze_scale_factor = 0.02
);
comment on table public.jobs is
'Async jobs (docs/jobs.md). Owners select their own; started by start_job/start_research, '
'cancelled by cancel_job, run by the worker. Nobody writes through the API.';

-- Claiming: the queued jobs in the order workers take them.
create index if not exists jobs_claim_idx on public.jobs (priority, run_at) where status = 'queued';
-- RLS (user_id) and the owner's listing, newest first.
create index if not exists jobs_user_id_created_at_idx on public.jobs (user_id, created_at desc);
-- Expiry of queued jobs.
create index if not exists jobs_expires_at_idx on public.jobs (expires_at) where status = 'queued';
-- Retention of finished jobs.
create index if not exists jobs_completed_at_idx on public.jobs (completed_at)
where status in ('completed', 'failed', 'cancelled');

-- ============================================================================
-- Leases: one row per processing job, written in the same statements that move the job in
-- and out of 'processing'. Heartbeats touch only this small table.
-- ============================================================================
create table if not exists private.job_leases (
    job_id uuid primary key references public.jobs (id) on delete cascade,
    worker_id text not null,
    -- the job's attempts when claimed: a claim's token, so a stale holder can never act
    attempt int not null,
    lease_seconds int not null,
    locked_until timestamptz not null,
    claimed_at timestamptz not null default now(),
    heartbeat_at timestamptz not null default now()
) with (fillfactor = 50);
comment on table private.job_leases is
'The lease of each processing job: who holds it, until when (heartbeats extend it).';

-- Lease recovery.
create index if not exists job_leases_locked_until_idx on private.job_leases (locked_until);

-- Internal error text of failed attempts (never shown to users; jobs.error is the safe one).
create table if not exists private.job_errors (
    id bigint generated always as identity primary key,
    job_id uuid not null references public.jobs (id) on delete cascade,
    attempt int not null,
    worker_id text,
    error text not null,
    retryable boolean not null,
    created_at timestamptz not null default now()
);
comment on table private.job_errors is 'One row per failed or abandoned attempt, for operators.';

create index if not exists job_errors_job_id_idx on private.job_errors (job_id);

-- ============================================================================
-- Wake idle workers: one NOTIFY per job type per inserting statement (payload: the type).
-- ============================================================================
create or replace function private.notify_jobs_queued()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform pg_catalog.pg_notify('wayfare_jobs', q.type)
    from (select distinct n.type from new_jobs as n where n.status = 'queued') as q;
    return null;
end;
$$;

create or replace trigger jobs_notify_queued
after insert on public.jobs
referencing new table as new_jobs
for each statement execute function private.notify_jobs_queued();

-- ============================================================================
-- Input validation helpers (field names are input.<key>).
-- ============================================================================

-- Raise VALIDATION_FAILED for the first key of input that is not allowed.
create or replace function private.job_input_keys(input jsonb, allowed text[])
returns void
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_key text;
begin
    select k.key into v_key
    from pg_catalog.jsonb_object_keys(input) as k (key)
    where k.key <> all(allowed)
    order by k.key
    limit 1;
    if v_key is not null then
        perform private.raise_error(
            'VALIDATION_FAILED', pg_catalog.format('input.%s is not an input of this job type.', v_key),
            'input.' || v_key
        );
    end if;
end;
$$;

-- A whole number from input within min_value..max_value; default_value when absent (or an
-- error when default_value is null).
create or replace function private.job_input_int(
    input jsonb, key text, min_value int, max_value int, default_value int default null
)
returns int
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_value jsonb := input -> key;
    v_number numeric;
begin
    if v_value is null or pg_catalog.jsonb_typeof(v_value) = 'null' then
        if default_value is null then
            perform private.raise_error(
                'VALIDATION_FAILED', pg_catalog.format('input.%s is required.', key), 'input.' || key
            );
        end if;
        return default_value;
    end if;
    if pg_catalog.jsonb_typeof(v_value) = 'number' then
        v_number := (v_value #>> '{}')::numeric;
    end if;
    if v_number is null or v_number <> pg_catalog.trunc(v_number)
        or v_number < min_value or v_number > max_value then
        perform private.raise_error(
            'VALIDATION_FAILED',
            pg_catalog.format('input.%s must be a whole number from %s to %s.', key, min_value, max_value),
            'input.' || key
        );
    end if;
    return v_number::int;
end;
$$;

create or replace function private.job_input_bool(input jsonb, key text, default_value boolean)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_value jsonb := input -> key;
begin
    if v_value is null or pg_catalog.jsonb_typeof(v_value) = 'null' then
        return default_value;
    end if;
    if pg_catalog.jsonb_typeof(v_value) <> 'boolean' then
        perform private.raise_error(
            'VALIDATION_FAILED', pg_catalog.format('input.%s must be true or false.', key),
            'input.' || key
        );
    end if;
    return (v_value #>> '{}')::boolean;
end;
$$;

-- Trimmed text of min_length..max_length characters from input (required).
create or replace function private.job_input_text(
    input jsonb, key text, min_length int, max_length int
)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_value jsonb := input -> key;
begin
    if v_value is not null and pg_catalog.jsonb_typeof(v_value) not in ('string', 'null') then
        perform private.raise_error(
            'VALIDATION_FAILED', pg_catalog.format('input.%s must be a string.', key), 'input.' || key
        );
    end if;
    return private.valid_text('input.' || key, v_value #>> '{}', min_length, max_length, true);
end;
$$;

-- ============================================================================
-- Validators of the built-in types: (input jsonb) -> the normalised input.
-- ============================================================================
create or replace function private.validate_demo_noop(input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform private.job_input_keys(input, '{}'::text[]);
    return '{}'::jsonb;
end;
$$;

create or replace function private.validate_demo_steps(input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform private.job_input_keys(input, array['steps', 'step_ms']);
    return pg_catalog.jsonb_build_object(
        'steps', private.job_input_int(input, 'steps', 1, 1000),
        'step_ms', private.job_input_int(input, 'step_ms', 0, 60000, 0)
    );
end;
$$;

-- demo.fail: fails its first fail_times attempts (retryable), or every attempt permanently.
create or replace function private.validate_demo_fail(input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform private.job_input_keys(input, array['fail_times', 'permanent']);
    return pg_catalog.jsonb_build_object(
        'fail_times', private.job_input_int(input, 'fail_times', 0, 100, 100),
        'permanent', private.job_input_bool(input, 'permanent', false)
    );
end;
$$;

create or replace function private.validate_ai_research(input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform private.job_input_keys(input, array['query']);
    return pg_catalog.jsonb_build_object('query', private.job_input_text(input, 'query', 1, 500));
end;
$$;

-- noqa: disable=LT02
insert into private.job_types as t (
    type, description, validator, user_startable, max_attempts, lease_seconds, priority,
    retry_base, retry_cap, retention
)
values
('demo.noop', 'Does nothing (benchmarks). Input {}.',
    'private.validate_demo_noop(jsonb)'::regprocedure, true, 3, 30, 100,
    interval '5 seconds', interval '10 minutes', interval '1 day'),
('demo.steps', 'Runs `steps` steps of `step_ms` ms, checkpointing after each.',
    'private.validate_demo_steps(jsonb)'::regprocedure, true, 3, 30, 100,
    interval '5 seconds', interval '10 minutes', interval '1 day'),
('demo.fail', 'Fails its first `fail_times` attempts, or permanently (tests and demos).',
    'private.validate_demo_fail(jsonb)'::regprocedure, true, 3, 30, 100,
    interval '5 seconds', interval '10 minutes', interval '1 day'),
('ai.research', 'AI travel research: plan, one step per sub-question, synthesis.',
    'private.validate_ai_research(jsonb)'::regprocedure, true, 3, 60, 50,
    interval '10 seconds', interval '10 minutes', interval '30 days')
on conflict (type) do update set
    description = excluded.description,
    validator = excluded.validator,
    user_startable = excluded.user_startable;
-- noqa: enable=LT02

-- ============================================================================
-- Enqueueing
-- ============================================================================

-- The type's row, or 400 naming job_type.
create or replace function private.job_type(job_type text)
returns private.job_types
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_type private.job_types;
begin
    if job_type is null or pg_catalog.btrim(job_type) = '' then
        perform private.raise_error('VALIDATION_FAILED', 'job_type is required.', 'job_type');
    end if;
    select t.* into v_type from private.job_types as t where t.type = job_type;
    if not found then
        perform private.raise_error(
            'VALIDATION_FAILED', 'job_type is not a known job type.', 'job_type'
        );
    end if;
    return v_type;
end;
$$;

-- The normalised input of a job of this type, or 400 naming input or input.<key>.
create or replace function private.job_input(job_type private.job_types, input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_input jsonb := coalesce(input, '{}'::jsonb);
    v_result jsonb;
begin
    if pg_catalog.octet_length(v_input::text) > job_type.max_input_bytes then
        perform private.raise_error(
            'VALIDATION_FAILED',
            pg_catalog.format('input must be at most %s bytes of JSON.', job_type.max_input_bytes),
            'input'
        );
    end if;
    if pg_catalog.jsonb_typeof(v_input) <> 'object' then
        perform private.raise_error('VALIDATION_FAILED', 'input must be a JSON object.', 'input');
    end if;
    execute pg_catalog.format('select %s($1)', job_type.validator::oid::regproc)
    into v_result using v_input;
    return v_result;
end;
$$;

-- Enqueue one job for a user (backend use: other definer functions, the worker's handlers).
-- Validates like start_job; trusts user_id, so it is granted to no API role.
create or replace function private.enqueue_job(
    job_type text,
    input jsonb,
    user_id uuid,
    request_id text default null,
    run_at timestamptz default null
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_type private.job_types := private.job_type(job_type);
    v_input jsonb := private.job_input(v_type, input);
    v_id uuid;
begin
    insert into public.jobs as j (
        user_id, type, input, max_attempts, priority, expires_at, run_at, request_id
    )
    values (
        enqueue_job.user_id, v_type.type, v_input, v_type.max_attempts, v_type.priority,
        pg_catalog.now() + v_type.expires_after,
        coalesce(enqueue_job.run_at, pg_catalog.now()),
        coalesce(enqueue_job.request_id, private.request_id())
    )
    returning j.id into v_id;
    return v_id;
end;
$$;

-- Enqueue many jobs of one type in one statement (backend use, benchmarks).
create or replace function private.enqueue_jobs(
    job_type text, inputs jsonb[], user_id uuid, request_id text default null
)
returns setof uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_type private.job_types := private.job_type(job_type);
    v_inputs jsonb[];
begin
    select coalesce(pg_catalog.array_agg(private.job_input(v_type, u.input) order by u.ord), '{}')
    into v_inputs
    from pg_catalog.unnest(inputs) with ordinality as u (input, ord);
    return query
    insert into public.jobs as j (
        user_id, type, input, max_attempts, priority, expires_at, request_id
    )
    select
        enqueue_jobs.user_id, v_type.type, u.input, v_type.max_attempts, v_type.priority,
        pg_catalog.now() + v_type.expires_after,
        coalesce(enqueue_jobs.request_id, private.request_id())
    from pg_catalog.unnest(v_inputs) as u (input)
    returning j.id;
end;
$$;

-- start_job's part that needs the definer: the caller's own job of a user-startable type.
create or replace function private.start_user_job(job_type text, input jsonb)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_type private.job_types := private.job_type(job_type);
begin
    if not v_type.user_startable then
        perform private.raise_error(
            'VALIDATION_FAILED', 'job_type is not a known job type.', 'job_type'
        );
    end if;
    return private.enqueue_job(v_type.type, input, v_user);
end;
$$;

-- The 202 body of start_job and start_research.
create or replace function private.job_accepted(job_id uuid)
returns jsonb
language sql
immutable
security invoker
set search_path = ''
as $$
    select pg_catalog.jsonb_build_object(
        'jobId', job_id, 'status', 'queued', 'pollUrl', '/rest/v1/jobs?id=eq.' || job_id::text
    )
$$;

-- cancel_job's part that needs the definer. Queued: cancelled now. Processing: asked to stop
-- (the worker sees it at once through NOTIFY wayfare_job_cancel, at the latest at its next
-- heartbeat). Finished: 409. Someone else's or missing: 404.
create or replace function private.cancel_user_job(job_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_job public.jobs;
begin
    select j.* into v_job from public.jobs as j
    where j.id = cancel_user_job.job_id and j.user_id = v_user
    for update;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Job not found.', 'job_id');
    end if;
    -- jobs the system started for a user (payments, confirmations) are stopped through
    -- their own RPC (cancel_booking), never directly: that would strand a booking
    if not exists (
        select 1 from private.job_types as t where t.type = v_job.type and t.user_startable
    ) then
        perform private.raise_error(
            'INVALID_STATE', 'This job belongs to a booking: cancel the booking instead.',
            'job_id'
        );
    end if;
    if v_job.status = 'queued' then
        update public.jobs as j
        set status = 'cancelled', completed_at = pg_catalog.now()
        where j.id = v_job.id
        returning j.* into v_job;
    elsif v_job.status = 'processing' then
        update public.jobs as j
        set cancel_requested_at = coalesce(j.cancel_requested_at, pg_catalog.now())
        where j.id = v_job.id
        returning j.* into v_job;
        perform pg_catalog.pg_notify('wayfare_job_cancel', v_job.id::text);
    else
        perform private.raise_error(
            'INVALID_STATE', pg_catalog.format('The job is already %s.', v_job.status), 'job_id'
        );
    end if;
    return pg_catalog.jsonb_build_object(
        'jobId', v_job.id,
        'status', v_job.status,
        'cancelRequestedAt', v_job.cancel_requested_at,
        'pollUrl', '/rest/v1/jobs?id=eq.' || v_job.id::text
    );
end;
$$;

-- ============================================================================
-- RPCs
-- ============================================================================
create or replace function public.start_job(
    job_type text,
    input jsonb,
    idempotency_key text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_replay jsonb;
    v_job_id uuid;
    v_state text;
    v_message text;
    v_detail text;
begin
    perform private.require_user();
    v_replay := private.idempotency_begin('start_job', idempotency_key, pg_catalog.jsonb_build_object(
        'job_type', job_type, 'input', input
    ));
    if v_replay is not null then
        return v_replay;
    end if;
    v_job_id := private.start_user_job(job_type, input);
    return private.idempotency_finish(202, private.job_accepted(v_job_id));
exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
    v_detail = pg_exception_detail;
    perform private.reraise(v_state, v_message, v_detail);
    return null;
end;
$$;

create or replace function public.start_research(
    query text,
    idempotency_key text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_replay jsonb;
    v_query text;
    v_job_id uuid;
    v_state text;
    v_message text;
    v_detail text;
begin
    perform private.require_user();
    v_replay := private.idempotency_begin('start_research', idempotency_key, pg_catalog.jsonb_build_object(
        'query', query
    ));
    if v_replay is not null then
        return v_replay;
    end if;
    v_query := private.valid_text('query', query, 1, 500, true);
    v_job_id := private.start_user_job('ai.research', pg_catalog.jsonb_build_object('query', v_query));
    return private.idempotency_finish(202, private.job_accepted(v_job_id));
exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
    v_detail = pg_exception_detail;
    perform private.reraise(v_state, v_message, v_detail);
    return null;
end;
$$;

create or replace function public.cancel_job(job_id uuid)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_body jsonb;
    v_state text;
    v_message text;
    v_detail text;
begin
    perform private.require_user();
    if job_id is null then
        perform private.raise_error('VALIDATION_FAILED', 'job_id is required.', 'job_id');
    end if;
    v_body := private.cancel_user_job(job_id);
    perform pg_catalog.set_config(
        'response.status', case when v_body ->> 'status' = 'cancelled' then '200' else '202' end, true
    );
    return v_body;
exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
    v_detail = pg_exception_detail;
    perform private.reraise(v_state, v_message, v_detail);
    return null;
end;
$$;

-- ============================================================================
-- The worker's functions. Every one that acts on a claimed job takes the worker id and the
-- attempt the claim returned, and acts only while that lease is still the job's: a job whose
-- lease expired and was claimed again can never be completed (or failed) by its old holder.
-- ============================================================================
create type private.claimed_job as (
    id uuid,
    type text,
    input jsonb,
    checkpoints jsonb,
    attempt int,
    max_attempts int,
    lease_seconds int,
    request_id text,
    user_id uuid,
    created_at timestamptz
);

-- Claim up to batch_size due jobs of the given types (FOR UPDATE SKIP LOCKED, by priority then
-- run_at): status processing, attempts + 1, started_at the first time, a lease of the type's
-- lease_seconds. Returns them in that order.
-- A claim alone commits without waiting for its WAL flush (synchronous_commit off, for this
-- transaction only): a claim lost in a crash is a job queued again, as when a worker dies, and
-- the next durable commit flushes it anyway. It saves an fsync between a job's arrival and its
-- start. A transaction that also completes jobs (complete_jobs in the same transaction, as the
-- worker sends them) stays durable: complete_jobs marks it so.
create or replace function private.claim_jobs(
    worker_id text, job_types text[], batch_size int default 1
)
returns setof private.claimed_job
language plpgsql
security definer
set search_path = ''
as $$
begin
    if worker_id is null or worker_id = '' then
        perform private.raise_error('VALIDATION_FAILED', 'worker_id is required.', 'worker_id');
    end if;
    if coalesce(pg_catalog.current_setting('wayfare.durable_commit', true), '') <> 'on'
        and coalesce(pg_catalog.current_setting('wayfare.claim_commit', true), '') = '' then
        perform pg_catalog.set_config(
            'wayfare.claim_commit', pg_catalog.current_setting('synchronous_commit'), true
        );
        perform pg_catalog.set_config('synchronous_commit', 'off', true);
    end if;
    return query
    with picked as (
        select j.id, j.type
        from public.jobs as j
        where
            j.status = 'queued'
            and j.run_at <= pg_catalog.now()
            -- a filter, not an index condition: the scan must walk jobs_claim_idx in order
            -- (with expires_at in an index condition the planner reads every queued job)
            and j.expires_at + interval '0 seconds' > pg_catalog.now()
            and j.type = any(claim_jobs.job_types)
        order by j.priority, j.run_at
        limit least(greatest(coalesce(batch_size, 1), 1), 1000)
        for update of j skip locked
    ),

    claimed as (
        update public.jobs as j
        set
            status = 'processing',
            attempts = j.attempts + 1,
            started_at = coalesce(j.started_at, pg_catalog.now())
        from picked
        left join private.job_types as t on t.type = picked.type
        where j.id = picked.id
        returning
            j.id, j.type, j.input, j.checkpoints, j.attempts, j.max_attempts,
            coalesce(t.lease_seconds, 30) as lease_seconds,
            j.request_id, j.user_id, j.created_at, j.priority, j.run_at
    ),

    leased as (
        insert into private.job_leases as l (
            job_id, worker_id, attempt, lease_seconds, locked_until, claimed_at, heartbeat_at
        )
        select
            c.id, claim_jobs.worker_id, c.attempts, c.lease_seconds,
            pg_catalog.now() + pg_catalog.make_interval(secs => c.lease_seconds),
            pg_catalog.now(), pg_catalog.now()
        from claimed as c
        on conflict (job_id) do update set
            worker_id = excluded.worker_id,
            attempt = excluded.attempt,
            lease_seconds = excluded.lease_seconds,
            locked_until = excluded.locked_until,
            claimed_at = excluded.claimed_at,
            heartbeat_at = excluded.heartbeat_at
    )

    -- (leased runs whether or not it is read: every data-modifying CTE does)
    select
        c.id, c.type, c.input, c.checkpoints, c.attempts, c.max_attempts, c.lease_seconds,
        c.request_id, c.user_id, c.created_at
    from claimed as c
    order by c.priority, c.run_at;
end;
$$;

-- Extend the leases of the jobs a worker holds, in one round trip. Per job: 'continue',
-- 'cancel' (its owner asked to stop it) or 'lost' (the lease is no longer this worker's).
create or replace function private.heartbeat_jobs(
    worker_id text, job_ids uuid[], attempts int[] default null
)
returns table (job_id uuid, state text)
language sql
security definer
set search_path = ''
as $$
    with held as (
        select u.job_id, u.attempt
        from rows from (
            pg_catalog.unnest(heartbeat_jobs.job_ids), pg_catalog.unnest(heartbeat_jobs.attempts)
        ) as u (job_id, attempt)
        where u.job_id is not null
    ),

    extended as (
        update private.job_leases as l
        set
            locked_until = pg_catalog.now() + pg_catalog.make_interval(secs => l.lease_seconds),
            heartbeat_at = pg_catalog.now()
        from held as h
        where
            l.job_id = h.job_id
            and l.worker_id = heartbeat_jobs.worker_id
            and (h.attempt is null or l.attempt = h.attempt)
        returning l.job_id
    )

    select
        h.job_id,
        case
            when e.job_id is null then 'lost'
            when j.cancel_requested_at is not null then 'cancel'
            else 'continue'
        end
    from held as h
    left join extended as e on e.job_id = h.job_id
    left join public.jobs as j on j.id = h.job_id
$$;

-- One job's heartbeat from inside its handler: extends the lease, and stores progress
-- (clamped to 0..100) and a checkpoint (merged into checkpoints) when given.
-- Returns 'continue', 'cancel' or 'lost' (nothing is stored when lost).
create or replace function private.heartbeat_job(
    job_id uuid,
    worker_id text,
    progress int default null,
    checkpoint jsonb default null,
    attempt int default null
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_cancel timestamptz;
begin
    update private.job_leases as l
    set
        locked_until = pg_catalog.now() + pg_catalog.make_interval(secs => l.lease_seconds),
        heartbeat_at = pg_catalog.now()
    where
        l.job_id = heartbeat_job.job_id
        and l.worker_id = heartbeat_job.worker_id
        and (heartbeat_job.attempt is null or l.attempt = heartbeat_job.attempt);
    if not found then
        return 'lost';
    end if;
    if progress is null and checkpoint is null then
        select j.cancel_requested_at into v_cancel from public.jobs as j
        where j.id = heartbeat_job.job_id;
    else
        update public.jobs as j
        set
            -- (greatest() skips nulls: no progress given must keep the stored one)
            progress = case
                when heartbeat_job.progress is null then j.progress
                else least(greatest(heartbeat_job.progress, 0), 100)
            end,
            checkpoints = case
                when pg_catalog.jsonb_typeof(heartbeat_job.checkpoint) = 'object'
                    then j.checkpoints || heartbeat_job.checkpoint
                else j.checkpoints
            end
        where j.id = heartbeat_job.job_id
        returning j.cancel_requested_at into v_cancel;
    end if;
    return case when v_cancel is not null then 'cancel' else 'continue' end;
end;
$$;

-- Complete many jobs in one round trip; returns the ids completed (a job whose lease is no
-- longer this worker's attempt is left alone and not returned).
create or replace function private.complete_jobs(
    worker_id text, job_ids uuid[], results jsonb[], attempts int[] default null
)
returns setof uuid
language plpgsql
security definer
set search_path = ''
as $$
begin
    -- results are durable when the worker hears of the commit, claims in the same transaction
    -- or not (see claim_jobs)
    perform pg_catalog.set_config('wayfare.durable_commit', 'on', true);
    if coalesce(pg_catalog.current_setting('wayfare.claim_commit', true), '') <> '' then
        -- a claim earlier in this transaction turned it off: back to what it was
        perform pg_catalog.set_config(
            'synchronous_commit', pg_catalog.current_setting('wayfare.claim_commit'), true
        );
    end if;
    return query
    with done as (
        select u.job_id, u.result, u.attempt
        from rows from (
            pg_catalog.unnest(complete_jobs.job_ids), pg_catalog.unnest(complete_jobs.results),
            pg_catalog.unnest(complete_jobs.attempts)
        ) as u (job_id, result, attempt)
        where u.job_id is not null
    ),

    released as (
        delete from private.job_leases as l
        using done as d
        where
            l.job_id = d.job_id
            and l.worker_id = complete_jobs.worker_id
            and (d.attempt is null or l.attempt = d.attempt)
        returning l.job_id
    )

    update public.jobs as j
    set
        status = 'completed',
        progress = 100,
        result = d.result,
        error = null,
        completed_at = pg_catalog.now()
    from released as r
    inner join done as d on d.job_id = r.job_id
    where j.id = r.job_id and j.status = 'processing'
    returning j.id;
end;
$$;

create or replace function private.complete_job(
    job_id uuid, worker_id text, result jsonb default null, attempt int default null
)
returns boolean
language sql
security definer
set search_path = ''
as $$
    select exists (
        select 1 from private.complete_jobs(
            complete_job.worker_id, array[complete_job.job_id], array[complete_job.result],
            array[complete_job.attempt]
        )
    )
$$;

-- A failed attempt. Retryable and attempts left: queued again after an exponential backoff
-- with jitter, keeping checkpoints. Otherwise failed with a user-safe error: user_message, or
-- a generic one (error, the internal text, goes to private.job_errors only).
-- Returns 'queued', 'failed', 'cancelled' (its owner had asked to stop it) or 'lost'.
create or replace function private.fail_job(
    job_id uuid,
    worker_id text,
    error text,
    retryable boolean default true,
    user_message text default null,
    attempt int default null
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_job public.jobs;
    v_type private.job_types;
    v_delay interval;
begin
    delete from private.job_leases as l
    where
        l.job_id = fail_job.job_id
        and l.worker_id = fail_job.worker_id
        and (fail_job.attempt is null or l.attempt = fail_job.attempt);
    if not found then
        return 'lost';
    end if;
    select j.* into v_job from public.jobs as j
    where j.id = fail_job.job_id and j.status = 'processing'
    for update;
    if not found then
        return 'lost';
    end if;
    insert into private.job_errors (job_id, attempt, worker_id, error, retryable)
    values (
        v_job.id, v_job.attempts, fail_job.worker_id,
        pg_catalog.left(coalesce(fail_job.error, 'unknown error'), 4000),
        coalesce(fail_job.retryable, false)
    );
    if v_job.cancel_requested_at is not null then
        update public.jobs as j set status = 'cancelled', completed_at = pg_catalog.now()
        where j.id = v_job.id;
        return 'cancelled';
    end if;
    if coalesce(fail_job.retryable, false) and v_job.attempts < v_job.max_attempts then
        select t.* into v_type from private.job_types as t where t.type = v_job.type;
        v_delay := least(
            coalesce(v_type.retry_base, interval '5 seconds') * pg_catalog.power(2, v_job.attempts - 1),
            coalesce(v_type.retry_cap, interval '10 minutes')
        ) * (0.5 + pg_catalog.random() / 2);
        update public.jobs as j
        set status = 'queued', run_at = pg_catalog.now() + v_delay
        where j.id = v_job.id;
        return 'queued';
    end if;
    update public.jobs as j
    set
        status = 'failed',
        completed_at = pg_catalog.now(),
        error = coalesce(
            pg_catalog.left(nullif(pg_catalog.btrim(fail_job.user_message), ''), 500),
            case
                when coalesce(fail_job.retryable, false)
                    then pg_catalog.format('The job failed after %s attempts.', v_job.attempts)
                else 'The job failed.'
            end
        )
    where j.id = v_job.id;
    return 'failed';
end;
$$;

-- The handler stopped because its owner asked: the job is cancelled.
create or replace function private.cancel_confirmed(
    job_id uuid, worker_id text, attempt int default null
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
    delete from private.job_leases as l
    where
        l.job_id = cancel_confirmed.job_id
        and l.worker_id = cancel_confirmed.worker_id
        and (cancel_confirmed.attempt is null or l.attempt = cancel_confirmed.attempt);
    if not found then
        return false;
    end if;
    update public.jobs as j
    set status = 'cancelled', completed_at = pg_catalog.now()
    where j.id = cancel_confirmed.job_id and j.status = 'processing';
    return found;
end;
$$;

-- Graceful shutdown: give jobs back without counting the claim as an attempt (attempts - 1),
-- keeping checkpoints; a job whose owner asked to stop it is cancelled instead.
-- Returns how many were given back.
create or replace function private.release_jobs(
    worker_id text, job_ids uuid[], attempts int[] default null
)
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count int;
    v_types text[];
begin
    with held as (
        select u.job_id, u.attempt
        from rows from (
            pg_catalog.unnest(release_jobs.job_ids), pg_catalog.unnest(release_jobs.attempts)
        ) as u (job_id, attempt)
        where u.job_id is not null
    ),

    released as (
        delete from private.job_leases as l
        using held as h
        where
            l.job_id = h.job_id
            and l.worker_id = release_jobs.worker_id
            and (h.attempt is null or l.attempt = h.attempt)
        returning l.job_id
    ),

    requeued as (
        update public.jobs as j
        set
            status = case when j.cancel_requested_at is null then 'queued' else 'cancelled' end,
            attempts = case
                when j.cancel_requested_at is null then greatest(j.attempts - 1, 0) else j.attempts
            end,
            completed_at = case when j.cancel_requested_at is null then null else pg_catalog.now() end,
            run_at = pg_catalog.now()
        from released as r
        where j.id = r.job_id and j.status = 'processing'
        returning j.type, j.status
    )

    select pg_catalog.count(*)::int, pg_catalog.array_agg(distinct q.type) filter (where q.status = 'queued')
    into v_count, v_types
    from requeued as q;
    perform pg_catalog.pg_notify('wayfare_jobs', t.type)
    from pg_catalog.unnest(v_types) as t (type);
    return v_count;
end;
$$;

create or replace function private.release_job(
    job_id uuid, worker_id text, attempt int default null
)
returns boolean
language sql
security definer
set search_path = ''
as $$
    select private.release_jobs(
        release_job.worker_id, array[release_job.job_id], array[release_job.attempt]
    ) = 1
$$;

-- Jobs whose lease ended (their worker died or hung): back to queued keeping checkpoints, or
-- failed when no attempt is left, or cancelled when their owner had asked. pg_cron runs it
-- every minute; workers run it every few seconds too. Returns how many it recovered.
create or replace function private.recover_expired_leases()
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count int;
    v_types text[];
begin
    with expired as (
        delete from private.job_leases as l
        where l.locked_until < pg_catalog.now()
        returning l.job_id, l.worker_id, l.attempt
    ),

    logged as (
        insert into private.job_errors (job_id, attempt, worker_id, error, retryable)
        select e.job_id, e.attempt, e.worker_id, 'lease expired: the worker stopped heartbeating', true
        from expired as e
        inner join public.jobs as j on j.id = e.job_id
    ),

    recovered as (
        update public.jobs as j
        set
            status = case
                when j.cancel_requested_at is not null then 'cancelled'
                when j.attempts >= j.max_attempts then 'failed'
                else 'queued'
            end,
            completed_at = case
                when j.cancel_requested_at is not null or j.attempts >= j.max_attempts
                    then pg_catalog.now()
            end,
            error = case
                when j.cancel_requested_at is null and j.attempts >= j.max_attempts
                    then pg_catalog.format('The job failed after %s attempts.', j.attempts)
            end,
            run_at = pg_catalog.now()
        from expired as e
        where j.id = e.job_id and j.status = 'processing'
        returning j.type, j.status
    )

    select pg_catalog.count(*)::int, pg_catalog.array_agg(distinct r.type) filter (where r.status = 'queued')
    into v_count, v_types
    from recovered as r;
    perform pg_catalog.pg_notify('wayfare_jobs', t.type)
    from pg_catalog.unnest(v_types) as t (type);
    return v_count;
end;
$$;

-- Queued jobs past expires_at: cancelled with error 'expired'. Returns how many.
create or replace function private.expire_queued_jobs()
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count int;
begin
    update public.jobs as j
    set status = 'cancelled', error = 'expired', completed_at = pg_catalog.now()
    where j.status = 'queued' and j.expires_at <= pg_catalog.now();
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;

-- Finished jobs older than their type's retention are deleted (at most 50,000 a run).
create or replace function private.purge_finished_jobs()
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count int;
    v_shortest interval;
begin
    select least(coalesce(pg_catalog.min(t.retention), interval '7 days'), interval '7 days')
    into v_shortest
    from private.job_types as t;
    delete from public.jobs as j
    where j.id in (
        select f.id
        from public.jobs as f
        left join private.job_types as t on t.type = f.type
        where
            f.status in ('completed', 'failed', 'cancelled')
            and f.completed_at < pg_catalog.now() - v_shortest
            and f.completed_at < pg_catalog.now() - coalesce(t.retention, interval '7 days')
        limit 50000
    );
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;

-- pg_cron never cleans its own run history: keep 7 days. A no-op without pg_cron.
create or replace function private.purge_cron_history()
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count int := 0;
begin
    if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
        execute 'delete from cron.job_run_details where end_time < pg_catalog.now() - interval ''7 days''';
        get diagnostics v_count = row_count;
    end if;
    return v_count;
end;
$$;

select private.schedule(
    'wayfare-recover-job-leases', '* * * * *', 'select private.recover_expired_leases()'
);
select private.schedule(
    'wayfare-expire-queued-jobs', '* * * * *', 'select private.expire_queued_jobs()'
);
select private.schedule(
    'wayfare-purge-finished-jobs', '23 * * * *', 'select private.purge_finished_jobs()'
);
select private.schedule(
    'wayfare-purge-cron-history', '41 3 * * *', 'select private.purge_cron_history()'
);

-- ============================================================================
-- Grants. Users read their own jobs (RLS: sql/policies/jobs.sql) and write none: start_job,
-- start_research and cancel_job write through definer helpers, the worker through its own.
-- ============================================================================
revoke all on table public.jobs from anon, authenticated, service_role;
grant select on table public.jobs to authenticated;
grant select on table public.jobs to service_role;
revoke all on table private.job_types, private.job_leases, private.job_errors
from anon, authenticated, service_role;
grant select on table private.job_types to wayfare_worker;

grant execute on function private.job_accepted(uuid) to anon, authenticated, service_role;
grant execute on function private.start_user_job(text, jsonb) to anon, authenticated, service_role;
grant execute on function private.cancel_user_job(uuid) to anon, authenticated, service_role;

-- anon may call the RPCs so that it gets the contract's 401 UNAUTHORIZED, not a bare 42501.
grant execute on function public.start_job(text, jsonb, text) to anon, authenticated, service_role;
grant execute on function public.start_research(text, text) to anon, authenticated, service_role;
grant execute on function public.cancel_job(uuid) to anon, authenticated, service_role;

grant execute on function private.claim_jobs(text, text[], int) to wayfare_worker;
grant execute on function private.heartbeat_jobs(text, uuid[], int[]) to wayfare_worker;
grant execute on function private.heartbeat_job(uuid, text, int, jsonb, int) to wayfare_worker;
grant execute on function private.complete_jobs(text, uuid[], jsonb[], int[]) to wayfare_worker;
grant execute on function private.complete_job(uuid, text, jsonb, int) to wayfare_worker;
grant execute on function private.fail_job(uuid, text, text, boolean, text, int) to wayfare_worker;
grant execute on function private.cancel_confirmed(uuid, text, int) to wayfare_worker;
grant execute on function private.release_jobs(text, uuid[], int[]) to wayfare_worker;
grant execute on function private.release_job(uuid, text, int) to wayfare_worker;
grant execute on function private.recover_expired_leases() to wayfare_worker;
grant execute on function private.enqueue_job(text, jsonb, uuid, text, timestamptz) to wayfare_worker;
grant execute on function private.enqueue_jobs(text, jsonb[], uuid, text) to wayfare_worker;
