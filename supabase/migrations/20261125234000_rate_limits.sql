-- Rate limits (contract §11) in PostgREST's pre-request function: writes (POST, PATCH, PUT,
-- DELETE) per user, or per client IP for anon, in fixed one-minute windows. A rejected request
-- raises, so its transaction (and every counter it bumped) rolls back: it consumes nothing.

create table if not exists private.rate_limits (
    name text primary key,
    path_pattern text not null,
    max_requests int not null constraint rate_limits_max_positive check (max_requests > 0),
    window_seconds int not null default 60
    constraint rate_limits_window_positive check (window_seconds between 1 and 86400),
    description text
);
comment on table private.rate_limits is
'Operators change limits here (e.g. update private.rate_limits set max_requests = 20 where '
'name = ''trips''). path_pattern is a regex on request.path; every matching limit applies.';

insert into private.rate_limits (name, path_pattern, max_requests, window_seconds, description)
values
('trips', '^/(rpc/create_trip|trips)$', 10, 60, 'trip writes'),
('ai', '^/rpc/(start_research|start_job)$', 20, 60, 'AI research and other jobs'),
('bookings', '^/(rpc/(create_booking|cancel_booking)|bookings)$', 5, 60, 'booking writes'),
('all_writes', '.', 100, 60, 'every write together')
on conflict (name) do nothing;

-- Counters need no durability: unlogged (no WAL) keeps the pre-request function cheap.
create unlogged table if not exists private.rate_limit_counters (
    subject text not null,
    limit_name text not null references private.rate_limits (name) on delete cascade,
    window_start timestamptz not null,
    hits int not null default 0,
    primary key (subject, limit_name, window_start)
);
create index if not exists rate_limit_counters_window_start_idx
on private.rate_limit_counters (window_start);
create index if not exists rate_limit_counters_limit_name_idx
on private.rate_limit_counters (limit_name);

-- Count one write against every matching limit; RATE_LIMITED with Retry-After when over.
create or replace function private.enforce_rate_limits()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_method text := pg_catalog.upper(
        coalesce(pg_catalog.current_setting('request.method', true), '')
    );
    v_path text := coalesce(pg_catalog.current_setting('request.path', true), '');
    v_headers jsonb := nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb;
    v_subject text;
    v_limit record;
    v_window timestamptz;
    v_hits int;
    v_retry_after int;
begin
    if v_method not in ('POST', 'PATCH', 'PUT', 'DELETE') then
        return;
    end if;
    if auth.uid() is not null then
        v_subject := 'user:' || auth.uid()::text;
    else
        v_subject := 'ip:' || coalesce(
            pg_catalog.btrim(pg_catalog.split_part(v_headers ->> 'x-forwarded-for', ',', 1)),
            v_headers ->> 'x-real-ip',
            'unknown'
        );
    end if;
    for v_limit in
        select l.name, l.max_requests, l.window_seconds
        from private.rate_limits as l
        where v_path ~ l.path_pattern
        order by l.name
    loop
        v_window := pg_catalog.to_timestamp(
            pg_catalog.floor(
                pg_catalog.date_part('epoch', pg_catalog.now()) / v_limit.window_seconds
            ) * v_limit.window_seconds
        );
        insert into private.rate_limit_counters as c (subject, limit_name, window_start, hits)
        values (v_subject, v_limit.name, v_window, 1)
        on conflict (subject, limit_name, window_start)
        do update set hits = c.hits + 1
        returning c.hits into v_hits;
        if v_hits > v_limit.max_requests then
            v_retry_after := greatest(1, pg_catalog.ceil(
                pg_catalog.date_part(
                    'epoch',
                    v_window + pg_catalog.make_interval(secs => v_limit.window_seconds)
                    - pg_catalog.now()
                )
            )::int);
            perform private.raise_error(
                'RATE_LIMITED',
                pg_catalog.format(
                    'Too many requests: at most %s per %s seconds (%s).',
                    v_limit.max_requests, v_limit.window_seconds, v_limit.name
                ),
                null, null,
                pg_catalog.jsonb_build_object('Retry-After', v_retry_after::text)
            );
        end if;
    end loop;
end;
$$;

create or replace function private.check_request()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_id text := nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb
    ->> 'x-request-id';
begin
    if v_id is null or v_id !~ '^[A-Za-z0-9._-]{8,128}$' then
        v_id := pg_catalog.gen_random_uuid()::text;
    end if;
    perform pg_catalog.set_config('wayfare.request_id', v_id, true);
    perform private.set_response_header('X-Request-ID', v_id);
    perform private.enforce_rate_limits();
end;
$$;

create or replace function private.purge_rate_limit_counters()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with gone as (
        delete from private.rate_limit_counters as c
        where c.window_start < pg_catalog.now() - interval '1 day'
        returning 1
    )
    select pg_catalog.count(*) from gone
$$;

select private.schedule(
    'wayfare-purge-rate-limit-counters', '*/10 * * * *',
    'select private.purge_rate_limit_counters()'
);

revoke all on table private.rate_limits, private.rate_limit_counters
from anon, authenticated, service_role;
