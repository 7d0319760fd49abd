-- Stale leases (issue 10 #7): every worker function that acts on a claimed job takes the
-- attempt its claim returned, and the attempt is required. The first versions took
-- `attempt ... default null`, and a null skipped the check that stops an old holder (whose
-- lease expired and whose job was claimed again, by another worker or by itself) from
-- completing, failing, cancelling, releasing, checkpointing or heartbeating it. Those
-- signatures are dropped (the worker's functions are private: no PostgREST schema cache and
-- no API role depends on them). A null attempt, or attempts that do not pair up with the job
-- ids, raise VALIDATION_FAILED; a stale attempt changes nothing and answers 'lost' / false.
-- The single-job functions take the attempt third, right after the worker id.

drop function if exists private.complete_job(uuid, text, jsonb, int);
drop function if exists private.complete_jobs(text, uuid[], jsonb[], int[]);
drop function if exists private.heartbeat_jobs(text, uuid[], int[]);
drop function if exists private.heartbeat_job(uuid, text, int, jsonb, int);
drop function if exists private.fail_job(uuid, text, text, boolean, text, int);
drop function if exists private.cancel_confirmed(uuid, text, int);
drop function if exists private.release_job(uuid, text, int);
drop function if exists private.release_jobs(text, uuid[], int[]);

-- VALIDATION_FAILED unless attempts pairs up with job_ids, without nulls.
create or replace function private.require_attempts(job_ids uuid[], attempts int[])
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if attempts is null
        or pg_catalog.cardinality(attempts) <> coalesce(pg_catalog.cardinality(job_ids), 0)
        or pg_catalog.array_position(attempts, null) is not null then
        perform private.raise_error(
            'VALIDATION_FAILED', 'attempts is required: the attempt of each job, as claimed.',
            'attempts'
        );
    end if;
end;
$$;

-- VALIDATION_FAILED unless the attempt is given.
create or replace function private.require_attempt(attempt int)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if attempt is null then
        perform private.raise_error(
            'VALIDATION_FAILED', 'attempt is required: the attempt the claim returned.', 'attempt'
        );
    end if;
end;
$$;

-- Extend the leases of the jobs a worker holds, in one round trip. Per job: 'continue',
-- 'cancel' (its owner asked to stop it) or 'lost' (the lease is not this worker's attempt).
create function private.heartbeat_jobs(worker_id text, job_ids uuid[], attempts int[])
returns table (job_id uuid, state text)
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.require_attempts(heartbeat_jobs.job_ids, heartbeat_jobs.attempts);
    return query
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
            and l.attempt = h.attempt
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
    left join public.jobs as j on j.id = h.job_id;
end;
$$;

-- One job's heartbeat from inside its handler: extends the lease, and stores progress
-- (clamped to 0..100) and a checkpoint (merged into checkpoints) when given.
-- Returns 'continue', 'cancel' or 'lost' (nothing is stored when lost).
create function private.heartbeat_job(
    job_id uuid,
    worker_id text,
    attempt int,
    progress int default null,
    checkpoint jsonb default null
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_cancel timestamptz;
begin
    perform private.require_attempt(heartbeat_job.attempt);
    update private.job_leases as l
    set
        locked_until = pg_catalog.now() + pg_catalog.make_interval(secs => l.lease_seconds),
        heartbeat_at = pg_catalog.now()
    where
        l.job_id = heartbeat_job.job_id
        and l.worker_id = heartbeat_job.worker_id
        and l.attempt = heartbeat_job.attempt;
    if not found then
        return 'lost';
    end if;
    if heartbeat_job.progress is null and heartbeat_job.checkpoint is null then
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
create function private.complete_jobs(
    worker_id text, job_ids uuid[], results jsonb[], attempts int[]
)
returns setof uuid
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.require_attempts(complete_jobs.job_ids, complete_jobs.attempts);
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
            and l.attempt = d.attempt
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

create function private.complete_job(
    job_id uuid, worker_id text, attempt int, result jsonb default null
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.require_attempt(complete_job.attempt);
    return exists (
        select 1 from private.complete_jobs(
            complete_job.worker_id, array[complete_job.job_id], array[complete_job.result],
            array[complete_job.attempt]
        )
    );
end;
$$;

-- A failed attempt. Retryable and attempts left: queued again after an exponential backoff
-- with jitter, keeping checkpoints. Otherwise failed with a user-safe error: user_message, or
-- a generic one (error, the internal text, goes to private.job_errors only).
-- Returns 'queued', 'failed', 'cancelled' (its owner had asked to stop it) or 'lost'.
create function private.fail_job(
    job_id uuid,
    worker_id text,
    attempt int,
    error text,
    retryable boolean default true,
    user_message text default null
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
    perform private.require_attempt(fail_job.attempt);
    delete from private.job_leases as l
    where
        l.job_id = fail_job.job_id
        and l.worker_id = fail_job.worker_id
        and l.attempt = fail_job.attempt;
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
create function private.cancel_confirmed(job_id uuid, worker_id text, attempt int)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.require_attempt(cancel_confirmed.attempt);
    delete from private.job_leases as l
    where
        l.job_id = cancel_confirmed.job_id
        and l.worker_id = cancel_confirmed.worker_id
        and l.attempt = cancel_confirmed.attempt;
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
create function private.release_jobs(worker_id text, job_ids uuid[], attempts int[])
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count int;
    v_types text[];
begin
    perform private.require_attempts(release_jobs.job_ids, release_jobs.attempts);
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
            and l.attempt = h.attempt
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

create function private.release_job(job_id uuid, worker_id text, attempt int)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.require_attempt(release_job.attempt);
    return private.release_jobs(
        release_job.worker_id, array[release_job.job_id], array[release_job.attempt]
    ) = 1;
end;
$$;

revoke all on function private.require_attempts(uuid[], int[]) from public;
revoke all on function private.require_attempt(int) from public;
revoke all on function private.heartbeat_jobs(text, uuid[], int[]) from public;
revoke all on function private.heartbeat_job(uuid, text, int, int, jsonb) from public;
revoke all on function private.complete_jobs(text, uuid[], jsonb[], int[]) from public;
revoke all on function private.complete_job(uuid, text, int, jsonb) from public;
revoke all on function private.fail_job(uuid, text, int, text, boolean, text) from public;
revoke all on function private.cancel_confirmed(uuid, text, int) from public;
revoke all on function private.release_jobs(text, uuid[], int[]) from public;
revoke all on function private.release_job(uuid, text, int) from public;

grant execute on function private.heartbeat_jobs(text, uuid[], int[]) to wayfare_worker;
grant execute on function private.heartbeat_job(uuid, text, int, int, jsonb) to wayfare_worker;
grant execute on function private.complete_jobs(text, uuid[], jsonb[], int[]) to wayfare_worker;
grant execute on function private.complete_job(uuid, text, int, jsonb) to wayfare_worker;
grant execute on function private.fail_job(uuid, text, int, text, boolean, text) to wayfare_worker;
grant execute on function private.cancel_confirmed(uuid, text, int) to wayfare_worker;
grant execute on function private.release_jobs(text, uuid[], int[]) to wayfare_worker;
grant execute on function private.release_job(uuid, text, int) to wayfare_worker;
