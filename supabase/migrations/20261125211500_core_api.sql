-- Core API: one error contract, request ids, database-backed idempotency, validation helpers,
-- pg_cron, and the first RPCs (create_trip, create_activity).
-- See docs/errors.md and docs/api.md.

-- ============================================================================
-- pg_cron (only in the database pg_cron serves; elsewhere, e.g. test clones, it is skipped)
-- ============================================================================
do $$
begin
    if current_database() = coalesce(current_setting('cron.database_name', true), 'postgres')
        and exists (select 1 from pg_available_extensions where name = 'pg_cron') then
        create extension if not exists pg_cron with schema pg_catalog;
    else
        raise notice 'pg_cron is not available in database %: schedules are skipped',
        current_database();
    end if;
end
$$;

-- Create or replace a pg_cron job by name; a no-op where pg_cron is not installed.
create or replace function private.schedule(job_name text, cron_schedule text, command text)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
        execute 'select cron.schedule($1, $2, $3)' using job_name, cron_schedule, command;
    end if;
end;
$$;

-- ============================================================================
-- Errors: the catalogue, and the one helper every function raises through.
-- ============================================================================
create table if not exists private.error_codes (
    code text primary key,
    http_status int not null,
    error_type text not null,
    retryable boolean not null,
    default_message text not null,
    default_hint text
);
comment on table private.error_codes is
'The error contract (shared/contract.md §3). Python reads the same rows; docs/errors.md lists them.';

-- noqa: disable=LT02
insert into private.error_codes as e (
    code, http_status, error_type, retryable, default_message, default_hint
)
values
('VALIDATION_FAILED', 400, 'validation', false,
    'The request is not valid.', 'Correct the field named in details.field and try again.'),
('UNAUTHORIZED', 401, 'auth', false,
    'Sign-in required.', 'Sign in again or refresh your access token.'),
('FORBIDDEN', 403, 'auth', false,
    'You do not have permission to do this.', null),
('NOT_FOUND', 404, 'not_found', false,
    'Not found.', null),
('IDEMPOTENCY_KEY_INVALID', 400, 'validation', false,
    'The Idempotency-Key is not valid.',
    'Use 1 to 255 printable ASCII characters, for example a UUID.'),
('IDEMPOTENCY_KEY_REUSED', 422, 'validation', false,
    'This Idempotency-Key was already used with different data.',
    'Use a new key for a new request.'),
('IDEMPOTENCY_KEY_IN_USE', 409, 'conflict', true,
    'A request with this Idempotency-Key is still running.',
    'Retry in a moment with the same key.'),
('INVALID_STATE', 409, 'conflict', false,
    'This action is not allowed in the current state.', null),
('RATE_LIMITED', 429, 'rate_limit', true,
    'Too many requests.', 'Wait for the number of seconds in Retry-After, then retry.'),
('INTERNAL', 500, 'server', true,
    'Something went wrong on our side.', 'Retry later; quote the requestId if it persists.')
on conflict (code) do update set
    http_status = excluded.http_status,
    error_type = excluded.error_type,
    retryable = excluded.retryable,
    default_message = excluded.default_message,
    default_hint = excluded.default_hint;
-- noqa: enable=LT02

-- The id of the current request: set by check_request(), made once otherwise.
create or replace function private.request_id()
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_id text := nullif(pg_catalog.current_setting('wayfare.request_id', true), '');
begin
    if v_id is null then
        v_id := pg_catalog.gen_random_uuid()::text;
        perform pg_catalog.set_config('wayfare.request_id', v_id, true);
    end if;
    return v_id;
end;
$$;

-- Add (or replace) one response header for PostgREST (response.headers is a JSON array).
create or replace function private.set_response_header(header_name text, header_value text)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_headers jsonb := coalesce(
        nullif(pg_catalog.current_setting('response.headers', true), '')::jsonb, '[]'::jsonb
    );
begin
    select coalesce(pg_catalog.jsonb_agg(h.item), '[]'::jsonb)
    into v_headers
    from pg_catalog.jsonb_array_elements(v_headers) as h (item)
    where not h.item ? header_name;
    v_headers := v_headers || pg_catalog.jsonb_build_array(
        pg_catalog.jsonb_build_object(header_name, header_value)
    );
    perform pg_catalog.set_config('response.headers', v_headers::text, true);
end;
$$;

-- Raise one of the contract's errors as PostgREST's PGRST error: the four-string body in the
-- message, status and headers (X-Request-ID, plus extra_headers) in the detail.
create or replace function private.raise_error(
    error_code text,
    error_message text default null,
    field text default null,
    hint text default null,
    extra_headers jsonb default null
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_code private.error_codes;
    v_request_id text := private.request_id();
begin
    select * into v_code from private.error_codes as e where e.code = error_code;
    if not found then
        select * into v_code from private.error_codes as e where e.code = 'INTERNAL';
    end if;
    raise sqlstate 'PGRST' using
    message = pg_catalog.jsonb_build_object(
        'code', v_code.code,
        'message', coalesce(error_message, v_code.default_message),
        'details', pg_catalog.jsonb_build_object(
            'type', v_code.error_type,
            'field', field,
            'retryable', v_code.retryable,
            'requestId', v_request_id
        )::text,
        'hint', coalesce(hint, v_code.default_hint)
    )::text,
    detail = pg_catalog.jsonb_build_object(
        'status', v_code.http_status,
        'headers', pg_catalog.jsonb_build_object('X-Request-ID', v_request_id)
        || coalesce(extra_headers, '{}'::jsonb)
    )::text;
end;
$$;

-- For `exception when others` blocks: contract errors pass through unchanged; anything else
-- is logged to the server log with the request id and becomes INTERNAL (no detail leaks).
create or replace function private.reraise(
    error_sqlstate text, error_message text, error_detail text
)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if error_sqlstate = 'PGRST' then
        raise sqlstate 'PGRST' using message = error_message, detail = error_detail;
    end if;
    raise log 'wayfare internal error request_id=% sqlstate=% message=%',
    private.request_id(), error_sqlstate, error_message;
    perform private.raise_error('INTERNAL');
end;
$$;

-- ============================================================================
-- Request ids: PostgREST's pre-request function.
--   alter role authenticator set pgrst.db_pre_request = 'private.check_request';
--   notify pgrst, 'reload config';
-- ============================================================================
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
end;
$$;

-- ============================================================================
-- Identity and validation helpers (raise VALIDATION_FAILED naming the field).
-- ============================================================================
create or replace function private.require_user()
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_user uuid := auth.uid();
begin
    if v_user is null then
        perform private.raise_error('UNAUTHORIZED');
    end if;
    return v_user;
end;
$$;

-- Trimmed text of min_length..max_length characters, or null when optional and absent.
create or replace function private.valid_text(
    field text, value text, min_length int, max_length int, required boolean default false
)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_text text := pg_catalog.btrim(value, E' \t\r\n');
begin
    if v_text is null or v_text = '' then
        if required then
            perform private.raise_error('VALIDATION_FAILED', field || ' is required.', field);
        end if;
        return null;
    end if;
    if pg_catalog.char_length(v_text) < min_length
        or pg_catalog.char_length(v_text) > max_length then
        perform private.raise_error(
            'VALIDATION_FAILED',
            pg_catalog.format('%s must be %s to %s characters.', field, min_length, max_length),
            field
        );
    end if;
    if v_text ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]' then
        perform private.raise_error(
            'VALIDATION_FAILED', field || ' contains control characters.', field
        );
    end if;
    return v_text;
end;
$$;

create or replace function private.valid_client_temp_id(value text)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if value is not null and value !~ '^temp_[A-Za-z0-9-]{1,64}$' then
        perform private.raise_error(
            'VALIDATION_FAILED',
            'client_temp_id must be "temp_" followed by 1 to 64 letters, digits or dashes.',
            'client_temp_id'
        );
    end if;
    return value;
end;
$$;

-- Dates and times must be finite and within years 1900..2200.
create or replace function private.check_timestamp(field text, value timestamptz)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if value is not null and (
        not pg_catalog.isfinite(value)
        or value < '1900-01-01'::timestamptz or value >= '2201-01-01'::timestamptz
    ) then
        perform private.raise_error(
            'VALIDATION_FAILED', field || ' must be a date between 1900 and 2200.', field
        );
    end if;
end;
$$;

create or replace function private.check_order(
    start_value timestamptz, end_field text, end_value timestamptz
)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if start_value is not null and end_value is not null and end_value < start_value then
        perform private.raise_error(
            'VALIDATION_FAILED', end_field || ' must not be before the start.', end_field
        );
    end if;
end;
$$;

-- ============================================================================
-- Idempotency (contract §5): keys scoped by user and action, a request fingerprint, the
-- stored status and body, 24 h expiry. Every idempotent RPC calls it in two places:
--   v_replay := private.idempotency_begin('action', idempotency_key, <request jsonb>);
--   if v_replay is not null then return v_replay; end if;
--   ... the action ...
--   return private.idempotency_finish(201, v_body);
-- A RAISE anywhere rolls back the row too, so failed requests store nothing.
-- ============================================================================
create table if not exists private.idempotency_keys (
    user_id uuid not null references auth.users (id) on delete cascade,
    action text not null,
    idempotency_key text not null,
    fingerprint text not null,
    response_status int not null,
    response_body jsonb not null,
    request_id text,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null default (now() + interval '24 hours'),
    primary key (user_id, action, idempotency_key)
);
create index if not exists idempotency_keys_expires_at_idx on private.idempotency_keys (expires_at);

-- The key of this request: the Idempotency-Key header (bare or quoted) wins over the argument.
create or replace function private.idempotency_key(argument text)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_key text := nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb
    ->> 'idempotency-key';
begin
    v_key := coalesce(v_key, argument);
    if v_key is null then
        return null;
    end if;
    if pg_catalog.char_length(v_key) >= 2 and pg_catalog.left(v_key, 1) = '"'
        and pg_catalog.right(v_key, 1) = '"' then
        v_key := pg_catalog.substr(v_key, 2, pg_catalog.char_length(v_key) - 2);
    end if;
    if v_key = '' or pg_catalog.char_length(v_key) > 255 or v_key !~ '^[\x20-\x7e]+$' then
        perform private.raise_error('IDEMPOTENCY_KEY_INVALID', null, 'idempotency_key');
    end if;
    return v_key;
end;
$$;

create or replace function private.idempotency_begin(
    action text, key_argument text, request jsonb
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_key text := private.idempotency_key(key_argument);
    v_fingerprint text;
    v_row private.idempotency_keys;
    v_exists boolean;
begin
    perform pg_catalog.set_config('wayfare.idempotency', '', true);
    if v_key is null then
        return null;
    end if;
    v_fingerprint := pg_catalog.encode(
        pg_catalog.sha256(pg_catalog.convert_to(action || ':' || request::text, 'UTF8')), 'hex'
    );
    -- One request per (user, action, key) at a time; the lock lasts until commit.
    if not pg_catalog.pg_try_advisory_xact_lock(
        pg_catalog.hashtextextended(v_user::text || ':' || action || ':' || v_key, 0)
    ) then
        perform private.raise_error('IDEMPOTENCY_KEY_IN_USE', null, 'idempotency_key');
    end if;
    select * into v_row from private.idempotency_keys as k
    where k.user_id = v_user and k.action = idempotency_begin.action
        and k.idempotency_key = v_key;
    v_exists := found;
    if v_exists and v_row.expires_at <= pg_catalog.now() then
        delete from private.idempotency_keys as k
        where k.user_id = v_user and k.action = idempotency_begin.action
            and k.idempotency_key = v_key;
        v_exists := false;
    end if;
    if v_exists then
        if v_row.fingerprint <> v_fingerprint then
            perform private.raise_error('IDEMPOTENCY_KEY_REUSED', null, 'idempotency_key');
        end if;
        perform pg_catalog.set_config('response.status', v_row.response_status::text, true);
        perform private.set_response_header('Idempotent-Replayed', 'true');
        return v_row.response_body;
    end if;
    perform pg_catalog.set_config(
        'wayfare.idempotency',
        pg_catalog.jsonb_build_object(
            'action', action, 'key', v_key, 'fingerprint', v_fingerprint
        )::text,
        true
    );
    return null;
end;
$$;

-- Set the response status and, when idempotency_begin took a key, store status and body.
create or replace function private.idempotency_finish(response_status int, body jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_pending jsonb := nullif(pg_catalog.current_setting('wayfare.idempotency', true), '')::jsonb;
begin
    perform pg_catalog.set_config('response.status', response_status::text, true);
    if v_pending is not null then
        insert into private.idempotency_keys (
            user_id, action, idempotency_key, fingerprint, response_status, response_body,
            request_id
        )
        values (
            auth.uid(), v_pending ->> 'action', v_pending ->> 'key',
            v_pending ->> 'fingerprint', response_status, body, private.request_id()
        );
        perform pg_catalog.set_config('wayfare.idempotency', '', true);
    end if;
    return body;
end;
$$;

create or replace function private.purge_expired_idempotency_keys()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with gone as (
        delete from private.idempotency_keys as k where k.expires_at <= pg_catalog.now()
        returning 1
    )
    select pg_catalog.count(*) from gone
$$;

select private.schedule(
    'wayfare-purge-idempotency-keys', '17 * * * *',
    'select private.purge_expired_idempotency_keys()'
);

-- ============================================================================
-- RPCs
-- ============================================================================
create or replace function public.create_trip(
    title text,
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
exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
    v_detail = pg_exception_detail;
    perform private.reraise(v_state, v_message, v_detail);
    return null;
end;
$$;

create or replace function public.create_activity(
    trip_id uuid,
    title text,
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
exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
    v_detail = pg_exception_detail;
    perform private.reraise(v_state, v_message, v_detail);
    return null;
end;
$$;

-- ============================================================================
-- Grants: the API roles reach the helpers their RPCs call, and the RPCs; no private table.
-- ============================================================================
revoke all on all tables in schema private from anon, authenticated, service_role;
grant execute on function private.check_request() to anon, authenticated, service_role;
grant execute on function private.request_id() to anon, authenticated, service_role;
grant execute on function private.set_response_header(text, text)
to anon, authenticated, service_role;
grant execute on function private.raise_error(text, text, text, text, jsonb)
to anon, authenticated, service_role;
grant execute on function private.reraise(text, text, text) to anon, authenticated, service_role;
grant execute on function private.require_user() to anon, authenticated, service_role;
grant execute on function private.valid_text(text, text, int, int, boolean)
to anon, authenticated, service_role;
grant execute on function private.valid_client_temp_id(text) to anon, authenticated, service_role;
grant execute on function private.check_timestamp(text, timestamptz)
to anon, authenticated, service_role;
grant execute on function private.check_order(timestamptz, text, timestamptz)
to anon, authenticated, service_role;
grant execute on function private.idempotency_key(text) to anon, authenticated, service_role;
grant execute on function private.idempotency_begin(text, text, jsonb)
to anon, authenticated, service_role;
grant execute on function private.idempotency_finish(int, jsonb)
to anon, authenticated, service_role;

-- anon may call the RPCs so that it gets the contract's 401 UNAUTHORIZED, not a bare 42501.
grant execute on function public.create_trip(text, text, date, date, text, text)
to anon, authenticated, service_role;
grant execute on function public.create_activity(uuid, text, timestamptz, timestamptz, text, text, text, text)
to anon, authenticated, service_role;
