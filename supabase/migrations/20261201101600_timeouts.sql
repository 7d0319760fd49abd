-- Timeouts (issue 15, SQL side; contract §3): statement time limits per role as Supabase sets
-- them, and every RPC that runs past its limit answers 408 TIMEOUT with the envelope (type
-- timeout, retryable), Retry-After and a hint to try again. PL/pgSQL's `when others` does not
-- catch a cancellation, so each RPC's shared exception tail gains a `when query_canceled`
-- branch that goes through one helper, private.raise_timeout(). The whole transaction rolls
-- back: no row, no idempotency record and no rate-limit hit remains, and the same
-- Idempotency-Key works on the retry. See docs/errors.md (TIMEOUT; what plain table writes get).
--
-- The RPCs below are their current versions (the rules of 101100-101400 and the defaults of
-- issue 9 folded in): a call without a required argument answers the contract's 400
-- VALIDATION_FAILED naming the field, not PostgREST's 404 PGRST202. PostgREST picks a function
-- by the names of the arguments sent, before any of our code runs, so every argument of every
-- RPC has a default (null) and each function says itself what is required. Adding defaults
-- keeps the signatures (and their grants); an unknown argument name is still PostgREST's 404
-- PGRST202. start_job's `input` is required (an explicit null was read as {} before).

-- ============================================================================
-- Time limits per role (Supabase's defaults; PostgREST applies the settings of the role it
-- switches to on every request). Operators change them with the same statement, e.g.
--   alter role authenticated set statement_timeout = '15s';
--   notify pgrst, 'reload config';
-- ============================================================================
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- ============================================================================
-- The error: TIMEOUT, which the web service answers too (webhook/db.py) and wayfare/errors.py mirrors
-- ============================================================================
insert into private.error_codes as e (
    code, http_status, error_type, retryable, default_message, default_hint
)
values (
    'TIMEOUT', 408, 'timeout', true,
    'The request ran past its time limit; nothing was changed.',
    'Try again in a moment.'
)
on conflict (code) do update set
    http_status = excluded.http_status,
    error_type = excluded.error_type,
    retryable = excluded.retryable,
    default_message = excluded.default_message,
    default_hint = excluded.default_hint;

-- The one definition of an RPC's answer to a cancelled statement (statement_timeout, or a
-- cancel request): logged with the request id, then 408 TIMEOUT with Retry-After: 1.
create or replace function private.raise_timeout()
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    raise log 'wayfare timeout request_id=% statement_timeout=%',
    private.request_id(), pg_catalog.current_setting('statement_timeout');
    perform private.raise_error(
        'TIMEOUT', null, null, null, pg_catalog.jsonb_build_object('Retry-After', '1')
    );
end;
$$;

-- ============================================================================
-- The RPCs: unchanged but for the exception tail
-- ============================================================================
create or replace function public.create_trip(
    title text default null,
    destination text default null,
    start_date date default null,
    end_date date default null,
    client_temp_id text default null,
    idempotency_key text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_replay jsonb;
    v_title text;
    v_destination text;
    v_trip public.trips;
    v_status int := 201;
    v_state text;
    v_message text;
    v_detail text;
begin
    v_replay := private.idempotency_begin('create_trip', idempotency_key, pg_catalog.jsonb_build_object(
        'title', title, 'destination', destination, 'start_date', start_date,
        'end_date', end_date, 'client_temp_id', client_temp_id
    ));
    if v_replay is not null then
        return v_replay;
    end if;

    v_title := private.valid_text('title', title, 1, 200, true);
    v_destination := private.valid_text('destination', destination, 1, 200);
    perform private.check_timestamp('start_date', start_date);
    perform private.check_timestamp('end_date', end_date);
    perform private.check_order(start_date, 'end_date', end_date);
    perform private.valid_client_temp_id(client_temp_id);

    insert into public.trips as t (
        user_id, title, destination, start_date, end_date, client_temp_id
    )
    values (
        v_user, v_title, v_destination, create_trip.start_date, create_trip.end_date,
        create_trip.client_temp_id
    )
    on conflict on constraint trips_user_client_temp_id_key do nothing
    returning t.* into v_trip;
    if not found then
        -- the same client_temp_id again: the row that already exists, created by a retry
        select t.* into v_trip from public.trips as t
        where t.user_id = v_user and t.client_temp_id = create_trip.client_temp_id;
        v_status := 200;
    end if;
    return private.idempotency_finish(v_status, pg_catalog.to_jsonb(v_trip));
exception
    when query_canceled then
        -- past the role's statement_timeout: 408 TIMEOUT, and everything above rolls back
        perform private.raise_timeout();
        return null;
    when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
        v_detail = pg_exception_detail;
        perform private.reraise(v_state, v_message, v_detail);
        return null;
end;
$$;

create or replace function public.create_activity(
    trip_id uuid default null,
    title text default null,
    starts_at timestamptz default null,
    ends_at timestamptz default null,
    location text default null,
    notes text default null,
    client_temp_id text default null,
    idempotency_key text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_replay jsonb;
    v_title text;
    v_location text;
    v_notes text;
    v_activity public.activities;
    v_status int := 201;
    v_state text;
    v_message text;
    v_detail text;
begin
    v_replay := private.idempotency_begin('create_activity', idempotency_key, pg_catalog.jsonb_build_object(
        'trip_id', trip_id, 'title', title, 'starts_at', starts_at, 'ends_at', ends_at,
        'location', location, 'notes', notes, 'client_temp_id', client_temp_id
    ));
    if v_replay is not null then
        return v_replay;
    end if;

    if trip_id is null then
        perform private.raise_error('VALIDATION_FAILED', 'trip_id is required.', 'trip_id');
    end if;
    v_title := private.valid_text('title', title, 1, 200, true);
    v_location := private.valid_text('location', location, 1, 500);
    v_notes := private.valid_text('notes', notes, 1, 5000);
    perform private.check_timestamp('starts_at', starts_at);
    perform private.check_timestamp('ends_at', ends_at);
    perform private.check_order(starts_at, 'ends_at', ends_at);
    perform private.valid_client_temp_id(client_temp_id);
    -- RLS hides other users' trips: theirs and missing ones look the same
    if not exists (
        select 1 from public.trips as t where t.id = create_activity.trip_id
    ) then
        perform private.raise_error('NOT_FOUND', 'Trip not found.', 'trip_id');
    end if;

    insert into public.activities as a (
        trip_id, user_id, title, starts_at, ends_at, location, notes, client_temp_id
    )
    values (
        create_activity.trip_id, v_user, v_title, create_activity.starts_at,
        create_activity.ends_at, v_location, v_notes, create_activity.client_temp_id
    )
    on conflict on constraint activities_user_client_temp_id_key do nothing
    returning a.* into v_activity;
    if not found then
        select a.* into v_activity from public.activities as a
        where a.user_id = v_user and a.client_temp_id = create_activity.client_temp_id;
        v_status := 200;
    end if;
    return private.idempotency_finish(v_status, pg_catalog.to_jsonb(v_activity));
exception
    when query_canceled then
        -- past the role's statement_timeout: 408 TIMEOUT, and everything above rolls back
        perform private.raise_timeout();
        return null;
    when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
        v_detail = pg_exception_detail;
        perform private.reraise(v_state, v_message, v_detail);
        return null;
end;
$$;

create or replace function public.start_job(
    job_type text default null,
    input jsonb default null,
    idempotency_key text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_service boolean;
    v_replay jsonb;
    v_job_id uuid;
    v_state text;
    v_message text;
    v_detail text;
begin
    v_service := current_user = 'service_role' and auth.uid() is null;
    if not v_service then
        perform private.require_user();
    end if;
    if job_type is null or pg_catalog.btrim(job_type) = '' then
        perform private.raise_error('VALIDATION_FAILED', 'job_type is required.', 'job_type');
    end if;
    if input is null then
        perform private.raise_error(
            'VALIDATION_FAILED', 'input is required ({} for a type without inputs).', 'input'
        );
    end if;
    -- service_role without a user: a system job (no idempotency record: nobody owns it)
    if v_service then
        v_job_id := private.start_service_job(job_type, input);
        perform pg_catalog.set_config('response.status', '202', true);
        return private.job_accepted(v_job_id);
    end if;
    v_replay := private.idempotency_begin('start_job', idempotency_key, pg_catalog.jsonb_build_object(
        'job_type', job_type, 'input', input
    ));
    if v_replay is not null then
        return v_replay;
    end if;
    v_job_id := private.start_user_job(job_type, input);
    return private.idempotency_finish(202, private.job_accepted(v_job_id));
exception
    when query_canceled then
        -- past the role's statement_timeout: 408 TIMEOUT, and everything above rolls back
        perform private.raise_timeout();
        return null;
    when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
        v_detail = pg_exception_detail;
        perform private.reraise(v_state, v_message, v_detail);
        return null;
end;
$$;

create or replace function public.start_research(
    query text default null,
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
exception
    when query_canceled then
        -- past the role's statement_timeout: 408 TIMEOUT, and everything above rolls back
        perform private.raise_timeout();
        return null;
    when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
        v_detail = pg_exception_detail;
        perform private.reraise(v_state, v_message, v_detail);
        return null;
end;
$$;

create or replace function public.cancel_job(job_id uuid default null)
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
exception
    when query_canceled then
        -- past the role's statement_timeout: 408 TIMEOUT, and everything above rolls back
        perform private.raise_timeout();
        return null;
    when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
        v_detail = pg_exception_detail;
        perform private.reraise(v_state, v_message, v_detail);
        return null;
end;
$$;

create or replace function public.create_booking(
    hotel_id uuid default null,
    check_in date default null,
    check_out date default null,
    idempotency_key text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_replay jsonb;
    v_state text;
    v_message text;
    v_detail text;
begin
    perform private.require_user();
    v_replay := private.idempotency_begin('create_booking', idempotency_key, pg_catalog.jsonb_build_object(
        'hotel_id', hotel_id, 'check_in', check_in, 'check_out', check_out
    ));
    if v_replay is not null then
        return v_replay;
    end if;

    perform private.check_booking_request(hotel_id, check_in, check_out);
    -- RLS shows only active hotels: a missing and an inactive hotel look the same
    if not exists (select 1 from public.hotels as h where h.id = create_booking.hotel_id) then
        perform private.raise_error('NOT_FOUND', 'Hotel not found.', 'hotel_id');
    end if;

    return private.idempotency_finish(
        201, private.insert_booking(hotel_id, check_in, check_out)
    );
exception
    when query_canceled then
        -- past the role's statement_timeout: 408 TIMEOUT, and everything above rolls back
        perform private.raise_timeout();
        return null;
    when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
        v_detail = pg_exception_detail;
        perform private.reraise(v_state, v_message, v_detail);
        return null;
end;
$$;

create or replace function public.cancel_booking(
    booking_id uuid default null,
    idempotency_key text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_replay jsonb;
    v_body jsonb;
    v_state text;
    v_message text;
    v_detail text;
begin
    -- operators: the service_role key without a user; a repeat answers the same job
    if current_user = 'service_role' and auth.uid() is null then
        if booking_id is null then
            perform private.raise_error('VALIDATION_FAILED', 'booking_id is required.', 'booking_id');
        end if;
        v_body := private.cancel_booking_as_operator(booking_id);
        perform pg_catalog.set_config('response.status', '202', true);
        return v_body;
    end if;
    perform private.require_user();
    v_replay := private.idempotency_begin('cancel_booking', idempotency_key, pg_catalog.jsonb_build_object(
        'booking_id', booking_id
    ));
    if v_replay is not null then
        return v_replay;
    end if;
    if booking_id is null then
        perform private.raise_error('VALIDATION_FAILED', 'booking_id is required.', 'booking_id');
    end if;
    return private.idempotency_finish(202, private.request_booking_cancellation(booking_id));
exception
    when query_canceled then
        -- past the role's statement_timeout: 408 TIMEOUT, and everything above rolls back
        perform private.raise_timeout();
        return null;
    when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
        v_detail = pg_exception_detail;
        perform private.reraise(v_state, v_message, v_detail);
        return null;
end;
$$;

-- The invoker RPCs call it as the API roles (anon never gets past require_user).
grant execute on function private.raise_timeout() to authenticated, service_role;
