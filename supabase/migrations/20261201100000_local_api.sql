-- The real PostgREST in front (contract §11, §13): the pre-request function set in the
-- database, rate limits keyed on what PostgREST will call however the path is spelled,
-- rows counted for multi-row table writes, and counters that never lock.

-- ============================================================================
-- PostgREST's pre-request function, by in-database configuration: a hosted project gets
-- request ids and rate limits from `supabase db push` alone.
-- ============================================================================
alter role authenticator set "pgrst.db_pre_request" = 'private.check_request';

-- ============================================================================
-- The route PostgREST will serve: it routes on the percent-decoded path while
-- request.path holds the raw one (`/rpc/create%5Ftrip` runs create_trip).
-- Decoded, repeated slashes folded, a trailing slash dropped.
-- ============================================================================
create or replace function private.request_route()
returns text
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
    v_raw text := coalesce(pg_catalog.current_setting('request.path', true), '');
    v_parts text[];
    v_bytes bytea;
    v_part text;
    v_route text;
begin
    if v_raw !~ '%|//|./$|[?]' then
        return v_raw;  -- already what PostgREST routes on (nearly every request)
    end if;
    v_raw := pg_catalog.split_part(v_raw, '?', 1);
    if pg_catalog.strpos(v_raw, '%') > 0 then
        v_parts := pg_catalog.string_to_array(v_raw, '%');
        v_bytes := pg_catalog.convert_to(v_parts[1], 'UTF8');
        foreach v_part in array v_parts[2:] loop
            if v_part ~ '^[0-9A-Fa-f]{2}' then
                v_bytes := v_bytes || pg_catalog.decode(pg_catalog.left(v_part, 2), 'hex')
                    || pg_catalog.convert_to(pg_catalog.substr(v_part, 3), 'UTF8');
            else
                v_bytes := v_bytes || pg_catalog.convert_to('%' || v_part, 'UTF8');
            end if;
        end loop;
        begin
            v_raw := pg_catalog.convert_from(v_bytes, 'UTF8');
        exception when character_not_in_repertoire or untranslatable_character then
            -- not UTF-8 once decoded: PostgREST cannot route it either; keep the raw path
            null;
        end;
    end if;
    v_route := pg_catalog.regexp_replace(v_raw, '/{2,}', '/', 'g');
    if pg_catalog.length(v_route) > 1 then
        v_route := pg_catalog.rtrim(v_route, '/');
    end if;
    return v_route;
end;
$$;

-- ============================================================================
-- Rate limits without waiting: one counter row per (subject, limit, window, database
-- session). A PostgREST connection serves one request at a time, so a session's row is only
-- ever locked by its own current request: two requests of one user never wait for each
-- other here, and a concurrent duplicate reaches the idempotency check at once (409 IN_USE).
-- A subject's use is the sum of at most one row per session (the pool size). Requests in
-- flight on other sessions are not seen until they commit: a limit can be passed by at most
-- the number of that subject's requests in flight at once (documented in docs/api.md).
-- ============================================================================
create unlogged table if not exists private.rate_limit_hits (
    subject text not null,
    limit_name text not null,
    window_start timestamptz not null,
    backend_pid int not null,
    units int not null constraint rate_limit_hits_units_positive check (units > 0),
    primary key (subject, limit_name, window_start, backend_pid)
);
comment on table private.rate_limit_hits is
'Use of private.rate_limits: one counter per (subject, limit, window, database session), '
'summed per (subject, limit, window); purged by pg_cron after a day.';
create index if not exists rate_limit_hits_window_start_idx
on private.rate_limit_hits (window_start);
revoke all on table private.rate_limit_hits from anon, authenticated, service_role;

-- The subject of this request: the user, or the client's address for anon.
create or replace function private.rate_limit_subject()
returns text
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
    v_user uuid := auth.uid();
    v_headers jsonb;
begin
    if v_user is not null then
        return 'user:' || v_user::text;
    end if;
    v_headers := nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb;
    return 'ip:' || coalesce(
        nullif(pg_catalog.btrim(pg_catalog.split_part(v_headers ->> 'x-forwarded-for', ',', 1)), ''),
        v_headers ->> 'x-real-ip',
        'unknown'
    );
end;
$$;

-- Charge `units` against every limit whose pattern matches this request's route;
-- RATE_LIMITED with Retry-After when that would pass a limit. Raising rolls back the whole
-- request, so a rejected request consumes nothing. Two statements whatever the number of
-- limits: it runs on every write request.
create or replace function private.charge_rate_limits(units int)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_route text := private.request_route();
    v_subject text := private.rate_limit_subject();
    v_over record;
begin
    if units is null or units < 1 then
        return;
    end if;
    with matching as (
        select
            l.name,
            l.max_requests,
            l.window_seconds,
            pg_catalog.to_timestamp(
                pg_catalog.floor(
                    pg_catalog.date_part('epoch', pg_catalog.now()) / l.window_seconds
                ) * l.window_seconds
            ) as window_start
        from private.rate_limits as l
        where v_route ~ l.path_pattern
    ),

    used as (
        select
            m.*,
            (
                select coalesce(pg_catalog.sum(h.units), 0)
                from private.rate_limit_hits as h
                where
                    h.subject = v_subject and h.limit_name = m.name
                    and h.window_start = m.window_start
            ) as used_units
        from matching as m
    ),

    charged as (
        insert into private.rate_limit_hits as h (
            subject, limit_name, window_start, backend_pid, units
        )
        select v_subject, u.name, u.window_start, pg_catalog.pg_backend_pid(), units
        from used as u
        on conflict (subject, limit_name, window_start, backend_pid)
        do update set units = h.units + excluded.units
        returning 1
    )

    select
        u.name,
        u.max_requests,
        u.window_seconds,
        greatest(1, pg_catalog.ceil(pg_catalog.date_part(
            'epoch',
            u.window_start + pg_catalog.make_interval(secs => u.window_seconds) - pg_catalog.now()
        ))::int) as retry_after
    into v_over
    from used as u
    where u.used_units + units > u.max_requests
    order by u.name
    limit 1;
    if found then
        perform private.raise_error(
            'RATE_LIMITED',
            pg_catalog.format(
                'Too many requests: at most %s per %s seconds (%s).',
                v_over.max_requests, v_over.window_seconds, v_over.name
            ),
            null, null,
            pg_catalog.jsonb_build_object('Retry-After', v_over.retry_after::text)
        );
    end if;
end;
$$;

-- Every write request counts once.
create or replace function private.enforce_rate_limits()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    if pg_catalog.upper(coalesce(pg_catalog.current_setting('request.method', true), ''))
        in ('POST', 'PATCH', 'PUT', 'DELETE') then
        perform private.charge_rate_limits(1);
    end if;
end;
$$;

-- PostgREST's pre-request function: the request id (contract §4) and the rate limits
-- (contract §11). It runs first in every request's transaction, so response.headers is
-- still empty here and is set in one go.
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
    perform
        pg_catalog.set_config('wayfare.request_id', v_id, true),
        pg_catalog.set_config(
            'response.headers',
            pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('X-Request-ID', v_id))::text,
            true
        );
    perform private.enforce_rate_limits();
end;
$$;

-- A table write through PostgREST of n rows counts n: the request counted one, this
-- statement trigger adds the rest. Rows written inside RPCs, by cascades to other tables,
-- or outside PostgREST (worker, pg_cron) are not requests and count nothing here.
create or replace function private.charge_rate_limits_for_rows()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_rows bigint;
begin
    if private.request_route() <> '/' || tg_table_name then
        return null;
    end if;
    if tg_op = 'DELETE' then
        select pg_catalog.count(*) into v_rows from old_rows;
    else
        select pg_catalog.count(*) into v_rows from new_rows;
    end if;
    if v_rows > 1 then
        perform private.charge_rate_limits((v_rows - 1)::int);
    end if;
    return null;
end;
$$;

-- One statement trigger per write event on each user-writable table.
do $triggers$
declare
    v_table text;
    v_event text;
begin
    foreach v_table in array array['trips', 'activities'] loop
        foreach v_event in array array['insert', 'update', 'delete'] loop
            execute pg_catalog.format(
                'drop trigger if exists %1$I on public.%2$I; '
                'create trigger %1$I after %3$s on public.%2$I '
                'referencing %4$s table as %5$I for each statement '
                'execute function private.charge_rate_limits_for_rows()',
                v_table || '_rate_limit_' || v_event, v_table, v_event,
                case v_event when 'delete' then 'old' else 'new' end,
                case v_event when 'delete' then 'old_rows' else 'new_rows' end
            );
        end loop;
    end loop;
end;
$triggers$;

-- Limits match the route (decoded), so the patterns need no other spelling.
update private.rate_limits set path_pattern = '^/(rpc/create_trip|trips)$' where name = 'trips';
update private.rate_limits set path_pattern = '^/rpc/(start_research|start_job)$' where name = 'ai';
update private.rate_limits set path_pattern = '^/(rpc/(create_booking|cancel_booking)|bookings)$'
where name = 'bookings';
comment on table private.rate_limits is
'Operators change limits here (e.g. update private.rate_limits set max_requests = 20 where '
'name = ''trips''). path_pattern is a regex on the decoded route (private.request_route()); '
'every matching limit applies; a table write of n rows counts n.';

-- The old counters locked one row per user and window: gone.
create or replace function private.purge_rate_limit_counters()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with gone as (
        delete from private.rate_limit_hits as h
        where h.window_start < pg_catalog.now() - interval '1 day'
        returning 1
    )
    select pg_catalog.count(*) from gone
$$;
drop table if exists private.rate_limit_counters;

-- PostgREST picks the new configuration and schema up without a restart.
notify pgrst, 'reload config';
notify pgrst, 'reload schema';
