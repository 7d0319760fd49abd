-- No user can starve the worker (issue 10 #1, contract §8), the SQL side:
-- - the demo job types (demo.noop, demo.steps, demo.fail) are development-only: users start
--   them only where private.settings says environment = development (supabase/seed.sql writes
--   it for the local stack); elsewhere a user gets 403 FORBIDDEN, and only service_role (the
--   service key, no user) starts them, as system jobs nobody owns;
-- - a user has at most a few unfinished (queued or processing) jobs of the user-startable types
--   at once, per private.job_caps (operators change it); over it 429 RATE_LIMITED with
--   Retry-After. Booking and payment jobs (payment.*, booking.*: started by create_booking and
--   cancel_booking, not user-startable) are neither counted nor capped.
-- The worker side (slots reserved for payment jobs) is private.job_types.lane.

alter table private.job_types
add column if not exists development_only boolean not null default false;
comment on column private.job_types.development_only is
'Users start it only where private.environment() is development; elsewhere service_role only.';

update private.job_types set development_only = true
where type in ('demo.noop', 'demo.steps', 'demo.fail');

create table if not exists private.job_caps (
    -- a job type, or '*' for all user-startable types together
    job_type text primary key,
    max_unfinished int not null constraint job_caps_max_unfinished_positive
    check (max_unfinished > 0),
    retry_after_seconds int not null default 10
    constraint job_caps_retry_after_range check (retry_after_seconds between 1 and 3600),
    description text
);
comment on table private.job_caps is
'At most max_unfinished queued or processing jobs per user (job_type ''*'': of all user-startable '
'types together). Operators change it, e.g. update private.job_caps set max_unfinished = 10 '
'where job_type = ''*''. Booking and payment jobs are never counted or capped.';

insert into private.job_caps (job_type, max_unfinished, retry_after_seconds, description)
values
('*', 5, 10, 'unfinished jobs per user, every user-startable type together'),
('ai.research', 3, 10, 'unfinished AI research jobs per user')
on conflict (job_type) do nothing;

revoke all on table private.job_caps from anon, authenticated, service_role;

-- 429 RATE_LIMITED when the user already has as many unfinished jobs as a cap allows. One
-- start at a time per user (a transaction-scoped advisory lock), so two concurrent starts
-- cannot both take the last place.
create or replace function private.check_job_caps(user_id uuid, job_type text)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_cap private.job_caps;
    v_unfinished int;
begin
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('wayfare.job_caps:' || user_id::text, 0)
    );
    for v_cap in
        select c.* from private.job_caps as c
        where c.job_type in ('*', check_job_caps.job_type)
        order by c.job_type = '*'
    loop
        select pg_catalog.count(*) into v_unfinished
        from public.jobs as j
        join private.job_types as t on t.type = j.type and t.user_startable
        where j.user_id = check_job_caps.user_id
            and j.status in ('queued', 'processing')
            and (v_cap.job_type = '*' or j.type = v_cap.job_type);
        if v_unfinished >= v_cap.max_unfinished then
            perform private.raise_error(
                'RATE_LIMITED',
                pg_catalog.format(
                    'You have %s unfinished %s jobs; at most %s at once.',
                    v_unfinished,
                    case when v_cap.job_type = '*' then 'background' else v_cap.job_type end,
                    v_cap.max_unfinished
                ),
                null,
                'Wait until one of your jobs finishes (or cancel one), then retry.',
                pg_catalog.jsonb_build_object('Retry-After', v_cap.retry_after_seconds::text)
            );
        end if;
    end loop;
end;
$$;

-- start_job's part that needs the definer: the caller's own job of a user-startable type,
-- development-only types only in a development database, within the caps.
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
    if v_type.development_only and private.environment() <> 'development' then
        perform private.raise_error(
            'FORBIDDEN',
            pg_catalog.format('%s runs only in a development database.', v_type.type),
            'job_type'
        );
    end if;
    perform private.check_job_caps(v_user, v_type.type);
    return private.enqueue_job(v_type.type, input, v_user);
end;
$$;

-- service_role (the service key, no user): a system job of any user-startable type, demo
-- types included, owned by nobody and not capped. The execute grant is the check.
create or replace function private.start_service_job(job_type text, input jsonb)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_type private.job_types := private.job_type(job_type);
begin
    if not v_type.user_startable then
        perform private.raise_error(
            'VALIDATION_FAILED', 'job_type is not a known job type.', 'job_type'
        );
    end if;
    return private.enqueue_job(v_type.type, input, null);
end;
$$;

-- public.start_job checks the caps and the environment; its body as it stands is in
-- 20261201101600_timeouts.sql.

revoke all on function private.check_job_caps(uuid, text) from anon, authenticated, service_role;
grant execute on function private.start_service_job(text, jsonb) to service_role;
