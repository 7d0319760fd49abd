-- Wayfare 0.1.0: the baseline. Every table, policy, grant, function, trigger and pg_cron
-- schedule of 0.1.0 in one file, in the order a reader needs: privileges, schemas, roles and
-- extensions; the shared helpers (errors, request ids, settings, validation, idempotency);
-- then area by area, each table with its RLS, its policies and its grants right after it,
-- then that area's functions (each followed by its grants), triggers and schedules.
-- The current schema, generated, is supabase/schema.sql. Migrations after this one are
-- `<UTC timestamp>_<area>.sql`; a landed migration is never edited.
--
-- RLS policies are written in sql/policies/<table>.sql and embedded here verbatim between
-- `policy file` markers (scripts/policies.py checks that the two never drift).
--
-- Grants follow one rule (docs/security.md): nothing is executable by default; every function
-- an API role may call is granted on purpose, and only the API roles' direct callees are: the
-- public RPCs are security invoker, so anon and authenticated need EXECUTE on the private
-- functions an RPC, a trigger on a public table or the pre-request calls directly, while what
-- a security definer calls runs as its owner and needs no grant. anon gets as far as
-- private.require_user() in every RPC (then 401 UNAUTHORIZED, not a bare 42501), so it keeps
-- only the pre-request function, require_user and reraise. Pinned by
-- supabase/tests/database/40_least_privilege.test.sql.

-- ============================================================================
-- Privileges, schemas, roles and extensions
-- ============================================================================
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from anon;
alter default privileges in schema public revoke execute on functions from authenticated;

create schema if not exists private;

revoke all on schema private from public;
alter default privileges in schema private revoke execute on functions from public;

-- Public RPCs are security invoker and call a few private helpers (each checks auth.uid()
-- itself); the API roles may reach those helpers but no private table.
grant usage on schema private to anon;
grant usage on schema private to authenticated;
grant usage on schema private to service_role;

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
-- The web service's role. The Flask service (webhook/) runs `set role wayfare_web` on each
-- connection, so whatever login DATABASE_URL names, it can only record Stripe events (and run
-- `select 1` for /readyz). On hosted Supabase: `create role wayfare_web_login login password
-- '...' in role wayfare_web;` and use that login in the web service's DATABASE_URL.
-- ============================================================================
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'wayfare_web') then
        create role wayfare_web nologin noinherit;
    end if;
end
$$;

grant wayfare_web to postgres;
grant wayfare_web to service_role;
grant usage on schema private to wayfare_web;

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

-- pg_stat_statements: query times per RPC for /ops and /metrics. Supabase enables
-- pg_stat_statements (schema extensions) on every project; the local cluster preloads it
-- (scripts/stack.sh). Where the extension is not available this creates nothing and
-- private.rpc_query_stats() says so instead of failing.
do $$
begin
    if exists (select 1 from pg_available_extensions where name = 'pg_stat_statements') then
        create schema if not exists extensions;
        create extension if not exists pg_stat_statements with schema extensions;
    end if;
end
$$;

-- ============================================================================
-- Shared helpers
-- ============================================================================

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

-- Before-update trigger of every table with an updated_at column.
create or replace function private.set_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end;
$$;

-- Drops every policy of a table; each sql/policies file starts with it, so the file alone
-- says which policies the table has.
create or replace function private.drop_policies(target regclass)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
declare
    p record;
begin
    for p in
        select pol.polname
        from pg_catalog.pg_policy as pol
        where pol.polrelid = target
    loop
        execute pg_catalog.format('drop policy %I on %s', p.polname, target);
    end loop;
end;
$$;

-- ============================================================================
-- Errors (docs/errors.md): the catalogue, and the one helper every function raises through.
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
'Every error code the API answers (docs/errors.md). Python reads the same rows.';

-- noqa: disable=LT02
insert into private.error_codes (
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
    'Something went wrong on our side.', 'Retry later; quote the requestId if it persists.'),
-- a statement past its time limit (statement_timeout): the web service answers it too
-- (webhook/db.py)
('TIMEOUT', 408, 'timeout', true,
    'The request ran past its time limit; nothing was changed.', 'Try again in a moment.');
-- noqa: enable=LT02
revoke all on table private.error_codes from anon, authenticated, service_role;

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
grant execute on function private.request_id() to authenticated, service_role;

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
grant execute on function private.set_response_header(text, text) to service_role;

-- Raise one of the catalogue's errors as PostgREST's PGRST error: the four-string body in the
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
grant execute on function private.raise_error(text, text, text, text, jsonb)
to authenticated, service_role;

-- For `exception when others` blocks: catalogue errors (PGRST) pass through unchanged; anything
-- else is logged to the server log with the request id and becomes INTERNAL (no detail leaks).
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
grant execute on function private.reraise(text, text, text) to authenticated, service_role, anon;

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
grant execute on function private.raise_timeout() to authenticated, service_role;

-- ============================================================================
-- Statement time limits per role (Supabase's defaults; PostgREST applies the settings of the
-- role it switches to on every request). Operators change them with the same statement, e.g.
--   alter role authenticated set statement_timeout = '15s';
--   notify pgrst, 'reload config';
-- Every RPC that runs past its limit answers 408 TIMEOUT (retryable, Retry-After) through
-- private.raise_timeout(): PL/pgSQL's `when others` does not catch a cancellation, so each
-- RPC's exception tail has a `when query_canceled` branch. The whole transaction rolls back:
-- no row, no idempotency record and no rate-limit hit remains, and the same Idempotency-Key
-- works on the retry (docs/errors.md, TIMEOUT).
-- ============================================================================
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- Per-database settings that no migration writes: the environment a database serves.
-- A hosted project has no row, so it is 'production'. The local stack marks its databases
-- as development with supabase/seed.sql (loaded after each push, never a migration), which
-- lets users start the demo job types there (docs/jobs.md).
create table if not exists private.settings (
    key text primary key,
    value text not null,
    updated_at timestamptz not null default now(),
    constraint settings_environment_value check (
        key <> 'environment' or value in ('development', 'production')
    )
);

comment on table private.settings is
'Settings of this database that migrations never write. environment: development or '
'production (no row: production); supabase/seed.sql writes development for the local stack.';
revoke all on table private.settings from anon, authenticated, service_role;

-- 'development' or 'production' (the default when no row says otherwise). Called by definer
-- helpers only, so no API role is granted it.
create or replace function private.environment()
returns text
language sql
stable
security invoker
set search_path = ''
as $$
    select coalesce(
        (select s.value from private.settings as s where s.key = 'environment'), 'production'
    )
$$;

-- The caller's user id, or 401 UNAUTHORIZED. A well-signed token whose user no longer exists
-- is no identity (docs/api.md#conventions): 401, never a 500 from the foreign key on user_id.
-- Every RPC and definer helper calls it; it looks the user up in auth.users, so it is a
-- definer. Direct writes to trips and activities meet the same check in a trigger
-- (private.check_writer) that runs before the write rules' triggers.
create or replace function private.require_user()
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_user uuid := auth.uid();
begin
    -- deleted (or soft-deleted by Supabase Auth) users are gone even while their token lives
    if v_user is null or not exists (
        select 1 from auth.users as u where u.id = v_user and u.deleted_at is null
    ) then
        perform private.raise_error('UNAUTHORIZED');
    end if;
    return v_user;
end;
$$;
grant execute on function private.require_user() to authenticated, service_role, anon;

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
grant execute on function private.valid_text(text, text, int, int, boolean)
to authenticated, service_role;

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
grant execute on function private.valid_client_temp_id(text) to authenticated, service_role;

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
grant execute on function private.check_timestamp(text, timestamptz) to authenticated, service_role;


-- ============================================================================
-- Dates: finite and within years 1900..2200, compared as dates. create_trip's calls
-- private.check_timestamp('start_date', <date>) resolve to this overload.
-- ============================================================================
create or replace function private.check_timestamp(field text, value date)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if value is not null and (
        not pg_catalog.isfinite(value)
        or value < '1900-01-01'::date or value >= '2201-01-01'::date
    ) then
        perform private.raise_error(
            'VALIDATION_FAILED', field || ' must be a date between 1900 and 2200.', field
        );
    end if;
end;
$$;
grant execute on function private.check_timestamp(text, date) to authenticated, service_role;

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
grant execute on function private.check_order(timestamptz, text, timestamptz)
to authenticated, service_role;

-- ============================================================================
-- Idempotency (docs/api.md#conventions): keys scoped by user and action, a request fingerprint,
-- the stored status and body, 24 h expiry. Every idempotent RPC calls it in two places:
--   v_replay := private.idempotency_begin('action', idempotency_key, <request jsonb>);
--   if v_replay is not null then return v_replay; end if;
--   ... the action ...
--   return private.idempotency_finish(201, v_body);
-- A RAISE anywhere rolls back the row too, so failed requests store nothing.
-- supabase/tests/database/36_idempotent_rpc_shape.test.sql checks every RPC has this shape.
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
revoke all on table private.idempotency_keys from anon, authenticated, service_role;

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
grant execute on function private.idempotency_key(text) to service_role;

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
grant execute on function private.idempotency_begin(text, text, jsonb)
to authenticated, service_role;

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
grant execute on function private.idempotency_finish(int, jsonb) to authenticated, service_role;

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
-- Profiles: one per auth user, created by a trigger; holds the AI consent level.
-- ============================================================================
create table if not exists public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    ai_consent text not null default 'usage_only'
    constraint profiles_ai_consent_check check (ai_consent in ('usage_only', 'redacted')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.profiles is
'One row per user. ai_consent: usage_only (default) keeps no AI prompt or response text; '
'redacted keeps redacted text for 30 days.';

-- >>> policy file: sql/policies/profiles.sql
-- profiles: a user reads and changes only their own profile; rows are made by a trigger on
-- auth.users, so nobody inserts or deletes them through the API.
alter table public.profiles enable row level security;
select private.drop_policies('public.profiles');

create policy "Users can view their own profile"
on public.profiles for select
to authenticated
using ((select auth.uid()) = id);

create policy "Users can update their own profile"
on public.profiles for update
to authenticated
using ((select auth.uid()) = id)
with check ((select auth.uid()) = id);
-- <<< policy file: sql/policies/profiles.sql

-- Grants: Supabase grants everything in public to the API roles by default; take it back and
-- give each role only what it needs (as for every table below). RLS decides which rows.
revoke all on table public.profiles from anon, authenticated;
grant all on table public.profiles to service_role;
grant select on table public.profiles to authenticated;
grant update (ai_consent) on table public.profiles to authenticated;

create or replace function private.create_profile_for_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into public.profiles (id) values (new.id) on conflict (id) do nothing;
    return new;
end;
$$;

create or replace trigger profiles_set_updated_at
before update on public.profiles
for each row execute function private.set_updated_at();

create or replace trigger on_auth_user_created_create_profile
after insert on auth.users
for each row execute function private.create_profile_for_new_user();

-- ============================================================================
-- Trips
-- ============================================================================
create table if not exists public.trips (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
    title text not null constraint trips_title_length check (char_length(title) between 1 and 200),
    destination text constraint trips_destination_length check (char_length(destination) <= 200),
    start_date date,
    end_date date,
    client_temp_id text constraint trips_client_temp_id_format
    check (client_temp_id ~ '^temp_[A-Za-z0-9-]{1,64}$'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint trips_dates_in_order check (end_date >= start_date),
    constraint trips_user_client_temp_id_key unique (user_id, client_temp_id),
    constraint trips_id_user_id_key unique (id, user_id)
);

comment on table public.trips is 'A user''s trip. Created through public.create_trip.';
create index if not exists trips_user_id_created_at_idx on public.trips (user_id, created_at desc);

-- >>> policy file: sql/policies/trips.sql
-- trips: a user sees, creates, changes and deletes only their own trips. anon sees none.
alter table public.trips enable row level security;
select private.drop_policies('public.trips');

create policy "Users can view their own trips"
on public.trips for select
to authenticated
using ((select auth.uid()) = user_id);

create policy "Users can create their own trips"
on public.trips for insert
to authenticated
with check ((select auth.uid()) = user_id);

create policy "Users can update their own trips"
on public.trips for update
to authenticated
using ((select auth.uid()) = user_id)
with check ((select auth.uid()) = user_id);

create policy "Users can delete their own trips"
on public.trips for delete
to authenticated
using ((select auth.uid()) = user_id);
-- <<< policy file: sql/policies/trips.sql

revoke all on table public.trips from anon, authenticated;
grant all on table public.trips to service_role;
grant select, delete on table public.trips to authenticated;
grant insert (user_id, title, destination, start_date, end_date, client_temp_id)
on table public.trips to authenticated;
grant update (title, destination, start_date, end_date) on table public.trips to authenticated;

-- Direct writes through PostgREST: a signed-in caller must still exist (service_role and
-- postgres, which have no auth.uid(), are not checked).
create or replace function private.check_writer()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if auth.uid() is not null then
        perform private.require_user();
    end if;
    return new;
end;
$$;

-- ============================================================================
-- One set of rules for the RPCs and for direct table writes: POST and PATCH on /trips and
-- /activities through PostgREST meet the same private validators as create_trip and
-- create_activity, in before insert/update triggers, and answer 400 VALIDATION_FAILED naming
-- the field (never a bare 23514 from a check constraint). An update checks only the columns
-- it changes, so a row stored under older rules stays editable.
-- ============================================================================
create or replace function private.check_trip_write()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_insert boolean := tg_op = 'INSERT';
begin
    if v_insert or new.title is distinct from old.title then
        new.title := private.valid_text('title', new.title, 1, 200, true);
    end if;
    if v_insert or new.destination is distinct from old.destination then
        new.destination := private.valid_text('destination', new.destination, 1, 200);
    end if;
    if v_insert or new.start_date is distinct from old.start_date then
        perform private.check_timestamp('start_date', new.start_date);
    end if;
    if v_insert or new.end_date is distinct from old.end_date then
        perform private.check_timestamp('end_date', new.end_date);
    end if;
    if v_insert or (new.start_date, new.end_date) is distinct from (old.start_date, old.end_date) then
        perform private.check_order(new.start_date, 'end_date', new.end_date);
    end if;
    if v_insert or new.client_temp_id is distinct from old.client_temp_id then
        perform private.valid_client_temp_id(new.client_temp_id);
    end if;
    return new;
end;
$$;

-- A call without a required argument answers 400 VALIDATION_FAILED naming the field, not
-- PostgREST's 404 PGRST202: PostgREST picks a function by the names of the arguments sent,
-- before any of our code runs, so every argument of every RPC has a default (null) and each
-- function says itself what is required (an unknown argument name is still PGRST202).
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
grant execute on function public.create_trip(text, text, date, date, text, text)
to anon, authenticated, service_role;

create or replace trigger trips_set_updated_at
before update on public.trips
for each row execute function private.set_updated_at();

-- "a0_" sorts before the write rules' "a_" triggers: who writes is checked before what.
create or replace trigger a0_trips_check_writer
before insert or update on public.trips
for each row execute function private.check_writer();

-- "a_" sorts before the other before-triggers (set_updated_at), so they see checked values.
create or replace trigger a_trips_check_write
before insert or update on public.trips
for each row execute function private.check_trip_write();

-- ============================================================================
-- Activities: always on one of the owner's own trips (enforced by a composite key).
-- ============================================================================
create table if not exists public.activities (
    id uuid primary key default gen_random_uuid(),
    trip_id uuid not null,
    user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
    title text not null
    constraint activities_title_length check (char_length(title) between 1 and 200),
    starts_at timestamptz,
    ends_at timestamptz,
    location text constraint activities_location_length check (char_length(location) <= 500),
    notes text constraint activities_notes_length check (char_length(notes) <= 5000),
    client_temp_id text constraint activities_client_temp_id_format
    check (client_temp_id ~ '^temp_[A-Za-z0-9-]{1,64}$'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint activities_times_in_order check (ends_at >= starts_at),
    constraint activities_user_client_temp_id_key unique (user_id, client_temp_id),
    constraint activities_trip_owner_fkey foreign key (trip_id, user_id)
    references public.trips (id, user_id) on delete cascade
);

comment on table public.activities is
'An activity on a trip; its trip must be the caller''s. Created through public.create_activity.';
create index if not exists activities_trip_id_user_id_idx on public.activities (trip_id, user_id);
create index if not exists activities_user_id_idx on public.activities (user_id);

-- >>> policy file: sql/policies/activities.sql
-- activities: a user sees, creates, changes and deletes only their own activities, and only
-- on their own trips (the composite key activities_trip_owner_fkey also enforces it).
alter table public.activities enable row level security;
select private.drop_policies('public.activities');

create policy "Users can view their own activities"
on public.activities for select
to authenticated
using ((select auth.uid()) = user_id);

create policy "Users can add activities to their own trips"
on public.activities for insert
to authenticated
with check (
    (select auth.uid()) = user_id
    and exists (
        select 1 from public.trips as t
        where t.id = activities.trip_id and t.user_id = (select auth.uid())
    )
);

create policy "Users can update their own activities"
on public.activities for update
to authenticated
using ((select auth.uid()) = user_id)
with check ((select auth.uid()) = user_id);

create policy "Users can delete their own activities"
on public.activities for delete
to authenticated
using ((select auth.uid()) = user_id);
-- <<< policy file: sql/policies/activities.sql

revoke all on table public.activities from anon, authenticated;
grant all on table public.activities to service_role;
grant select, delete on table public.activities to authenticated;
grant insert (trip_id, user_id, title, starts_at, ends_at, location, notes, client_temp_id)
on table public.activities to authenticated;
grant update (title, starts_at, ends_at, location, notes) on table public.activities
to authenticated;

create or replace function private.check_activity_write()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_insert boolean := tg_op = 'INSERT';
begin
    if v_insert or (new.trip_id, new.user_id) is distinct from (old.trip_id, old.user_id) then
        if new.trip_id is null then
            perform private.raise_error('VALIDATION_FAILED', 'trip_id is required.', 'trip_id');
        end if;
        -- RLS shows a user only their own trips: theirs and missing ones look the same
        if not exists (
            select 1 from public.trips as t
            where t.id = new.trip_id and t.user_id = new.user_id
        ) then
            perform private.raise_error('NOT_FOUND', 'Trip not found.', 'trip_id');
        end if;
    end if;
    if v_insert or new.title is distinct from old.title then
        new.title := private.valid_text('title', new.title, 1, 200, true);
    end if;
    if v_insert or new.location is distinct from old.location then
        new.location := private.valid_text('location', new.location, 1, 500);
    end if;
    if v_insert or new.notes is distinct from old.notes then
        new.notes := private.valid_text('notes', new.notes, 1, 5000);
    end if;
    if v_insert or new.starts_at is distinct from old.starts_at then
        perform private.check_timestamp('starts_at', new.starts_at);
    end if;
    if v_insert or new.ends_at is distinct from old.ends_at then
        perform private.check_timestamp('ends_at', new.ends_at);
    end if;
    if v_insert or (new.starts_at, new.ends_at) is distinct from (old.starts_at, old.ends_at) then
        perform private.check_order(new.starts_at, 'ends_at', new.ends_at);
    end if;
    if v_insert or new.client_temp_id is distinct from old.client_temp_id then
        perform private.valid_client_temp_id(new.client_temp_id);
    end if;
    return new;
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
grant execute on function public.create_activity(uuid, text, timestamptz, timestamptz, text, text, text, text)
to anon, authenticated, service_role;

create or replace trigger activities_set_updated_at
before update on public.activities
for each row execute function private.set_updated_at();

create or replace trigger a0_activities_check_writer
before insert or update on public.activities
for each row execute function private.check_writer();

create or replace trigger a_activities_check_write
before insert or update on public.activities
for each row execute function private.check_activity_write();

-- ============================================================================
-- Async jobs (docs/jobs.md): the queue, the registry of job types and their input validators,
-- the users' RPCs (start_job, start_research, cancel_job), the worker's functions (claim,
-- heartbeat, complete, fail, cancel, release), lease recovery, expiry and retention by pg_cron.
--
-- public.jobs holds only what its owner may read (PostgREST's `select *`, which the pollUrl
-- and supabase-js send, fails on a table with column-level grants, so no internal column lives
-- there). A claimed job's lease lives in private.job_leases (one row per processing job: a job
-- is processing exactly while it has one), internal error text in private.job_errors.
-- ============================================================================

-- Job types: one row per type; tuning lives here, so operators change it without a deploy.
create table if not exists private.job_types (
    type text primary key
    constraint job_types_type_format check (type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
    description text not null,
    -- private.<fn>(input jsonb) returns jsonb: the normalised input, or raises
    -- VALIDATION_FAILED naming input.<key>. Text, not regprocedure: pg_upgrade refuses a
    -- cluster whose tables store reg* OID types (a function's OID changes across a major
    -- upgrade). The trigger job_types_validator_exists checks that the function exists when
    -- the row is written and stores its name schema-qualified; private.job_input resolves it
    -- with to_regprocedure() at call time.
    validator text not null
    constraint job_types_validator_format
    check (validator ~ '^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\(jsonb\)$'),
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
    constraint job_types_max_input_bytes_range check (max_input_bytes between 2 and 1048576),
    development_only boolean not null default false,
    lane text not null default 'general'
    constraint job_types_lane_check check (lane in ('general', 'payments'))
);

comment on table private.job_types is
'Registry of job types: validation, attempts, lease, priority, retry backoff, expiry, retention.';

comment on column private.job_types.validator is
'private.<fn>(jsonb), as text: the function that returns the normalised input or raises '
'VALIDATION_FAILED naming input.<key>. Must exist when the row is written.';
-- No user can starve the worker (docs/jobs.md): the demo job types are development-only:
-- users start them only where private.settings says environment = development
-- (supabase/seed.sql writes it for the local stack); elsewhere a user gets 403 FORBIDDEN, and
-- only service_role (the service key, no user) starts them, as system jobs nobody owns.
comment on column private.job_types.development_only is
'Users start it only where private.environment() is development; elsewhere service_role only.';
-- Lanes: booking and payment jobs get worker capacity no other type can take. Each job type
-- belongs to a lane; a worker runs the `payments` lane in handler slots of its own
-- (WORKER_PAYMENT_SLOTS, docs/jobs.md) and claims each lane's types separately, so however
-- many long jobs fill the `general` slots, a booking's PaymentIntent is created at once.
-- Workers read the lanes when they start: restart them after a change.
comment on column private.job_types.lane is
'general, or payments: run in worker slots reserved for bookings and payments (docs/jobs.md).';

revoke all on table private.job_types from anon, authenticated, service_role;
grant select on table private.job_types to wayfare_worker;

create or replace function private.check_job_type_validator()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_function regprocedure := pg_catalog.to_regprocedure(new.validator);
begin
    if v_function is null then
        raise exception 'job type %: validator % does not exist', new.type, new.validator
        using errcode = 'undefined_function';
    end if;
    new.validator := v_function::text;  -- schema-qualified: the search_path is empty here
    return new;
end;
$$;

create or replace trigger job_types_validator_exists
before insert or update of validator on private.job_types
for each row execute function private.check_job_type_validator();

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
insert into private.job_types (
    type, description, validator, user_startable, max_attempts, lease_seconds, priority,
    retry_base, retry_cap, retention, development_only
)
values
('demo.noop', 'Does nothing (benchmarks). Input {}.',
    'private.validate_demo_noop(jsonb)', true, 3, 30, 100,
    interval '5 seconds', interval '10 minutes', interval '1 day', true),
('demo.steps', 'Runs `steps` steps of `step_ms` ms, checkpointing after each.',
    'private.validate_demo_steps(jsonb)', true, 3, 30, 100,
    interval '5 seconds', interval '10 minutes', interval '1 day', true),
('demo.fail', 'Fails its first `fail_times` attempts, or permanently (tests and demos).',
    'private.validate_demo_fail(jsonb)', true, 3, 30, 100,
    interval '5 seconds', interval '10 minutes', interval '1 day', true),
('ai.research', 'AI travel research: plan, one step per sub-question, synthesis.',
    'private.validate_ai_research(jsonb)', true, 3, 60, 50,
    interval '10 seconds', interval '10 minutes', interval '30 days', false);
-- noqa: enable=LT02

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
('ai.research', 3, 10, 'unfinished AI research jobs per user');

revoke all on table private.job_caps from anon, authenticated, service_role;

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

-- >>> policy file: sql/policies/jobs.sql
-- jobs: a user sees only their own jobs; nobody writes through the API (start_job,
-- start_research and cancel_job write through definer helpers, the worker through its own
-- functions). anon sees none. Internal state (leases, error text) is in private tables.
alter table public.jobs enable row level security;
select private.drop_policies('public.jobs');

create policy "Users can view their own jobs"
on public.jobs for select
to authenticated
using ((select auth.uid()) = user_id);
-- <<< policy file: sql/policies/jobs.sql

-- Users read their own jobs (RLS above) and write none: start_job, start_research and
-- cancel_job write through definer helpers, the worker through its own.
revoke all on table public.jobs from anon, authenticated, service_role;
grant select on table public.jobs to authenticated;
grant select on table public.jobs to service_role;

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
revoke all on table private.job_leases from anon, authenticated, service_role;

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
revoke all on table private.job_errors from anon, authenticated, service_role;

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

-- The normalised input of a job of this type, or 400 naming input or input.<key>. The
-- validator is resolved by name at call time (see private.job_types.validator).
create or replace function private.job_input(job_type private.job_types, input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_input jsonb := coalesce(input, '{}'::jsonb);
    v_validator regprocedure := pg_catalog.to_regprocedure(job_type.validator);
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
    if v_validator is null then
        raise exception 'job type %: validator % does not exist', job_type.type, job_type.validator
        using errcode = 'undefined_function';
    end if;
    execute pg_catalog.format('select %s($1)', v_validator::oid::regproc)
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
grant execute on function private.enqueue_job(text, jsonb, uuid, text, timestamptz)
to wayfare_worker;

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
grant execute on function private.enqueue_jobs(text, jsonb[], uuid, text) to wayfare_worker;

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
grant execute on function private.start_user_job(text, jsonb) to authenticated, service_role;

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
grant execute on function private.start_service_job(text, jsonb) to service_role;

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
grant execute on function private.job_accepted(uuid) to authenticated, service_role;

-- ============================================================================
-- cancel_job's part that needs the definer. Queued: cancelled now. Processing: asked to stop
-- (the worker sees it at once through NOTIFY wayfare_job_cancel, at the latest at its next
-- heartbeat). Finished: 409. Someone else's or missing: 404. The body is
-- private.job_accepted's (the one place the pollUrl is built) with status and
-- cancelRequestedAt.
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
    -- the 202 body of start_job (jobId, pollUrl), with the job's status as it is now
    return private.job_accepted(v_job.id) || pg_catalog.jsonb_build_object(
        'status', v_job.status,
        'cancelRequestedAt', v_job.cancel_requested_at
    );
end;
$$;
grant execute on function private.cancel_user_job(uuid) to authenticated, service_role;

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
grant execute on function public.start_job(text, jsonb, text) to anon, authenticated, service_role;

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
grant execute on function public.start_research(text, text) to anon, authenticated, service_role;

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
grant execute on function public.cancel_job(uuid) to anon, authenticated, service_role;

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
grant execute on function private.claim_jobs(text, text[], int) to wayfare_worker;

-- Extend the leases of the jobs a worker holds, in one round trip. Per job: 'continue',
-- 'cancel' (its owner asked to stop it) or 'lost' (the lease is not this worker's attempt).
create or replace function private.heartbeat_jobs(worker_id text, job_ids uuid[], attempts int[])
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
grant execute on function private.heartbeat_jobs(text, uuid[], int[]) to wayfare_worker;

-- One job's heartbeat from inside its handler: extends the lease, and stores progress
-- (clamped to 0..100) and a checkpoint (merged into checkpoints) when given.
-- Returns 'continue', 'cancel' or 'lost' (nothing is stored when lost).
create or replace function private.heartbeat_job(
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
grant execute on function private.heartbeat_job(uuid, text, int, int, jsonb) to wayfare_worker;

-- Complete many jobs in one round trip; returns the ids completed (a job whose lease is no
-- longer this worker's attempt is left alone and not returned).
create or replace function private.complete_jobs(
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
grant execute on function private.complete_jobs(text, uuid[], jsonb[], int[]) to wayfare_worker;

create or replace function private.complete_job(
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
grant execute on function private.complete_job(uuid, text, int, jsonb) to wayfare_worker;

-- A failed attempt. Retryable and attempts left: queued again after an exponential backoff
-- with jitter, keeping checkpoints. Otherwise failed with a user-safe error: user_message, or
-- a generic one (error, the internal text, goes to private.job_errors only).
-- Returns 'queued', 'failed', 'cancelled' (its owner had asked to stop it) or 'lost'.
create or replace function private.fail_job(
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
grant execute on function private.fail_job(uuid, text, int, text, boolean, text) to wayfare_worker;

-- The handler stopped because its owner asked: the job is cancelled.
create or replace function private.cancel_confirmed(job_id uuid, worker_id text, attempt int)
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
grant execute on function private.cancel_confirmed(uuid, text, int) to wayfare_worker;

-- The tail release_jobs and recover_expired_leases share: given the type and new status of
-- each job they moved, one NOTIFY wayfare_jobs per type queued again (payload: the type), so
-- idle workers claim those jobs at once; returns how many jobs moved.
create or replace function private.notify_requeued(types text[], statuses text[])
returns int
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform pg_catalog.pg_notify('wayfare_jobs', q.type)
    from (
        select distinct u.type
        from rows from (pg_catalog.unnest(types), pg_catalog.unnest(statuses)) as u (type, status)
        where u.status = 'queued'
    ) as q;
    return coalesce(pg_catalog.cardinality(types), 0);
end;
$$;

-- Graceful shutdown: give jobs back without counting the claim as an attempt (attempts - 1),
-- keeping checkpoints; a job whose owner asked to stop it is cancelled instead.
-- Returns how many were given back.
create or replace function private.release_jobs(worker_id text, job_ids uuid[], attempts int[])
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count int;
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

    select private.notify_requeued(pg_catalog.array_agg(q.type), pg_catalog.array_agg(q.status))
    into v_count
    from requeued as q;
    return v_count;
end;
$$;
grant execute on function private.release_jobs(text, uuid[], int[]) to wayfare_worker;

create or replace function private.release_job(job_id uuid, worker_id text, attempt int)
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
grant execute on function private.release_job(uuid, text, int) to wayfare_worker;

-- Lost claims: a claim can commit while its answer never reaches the worker (the connection
-- breaks between the commit and the result, e.g. during a Postgres restart). The job is then
-- processing under a lease of that worker, which does not know it has it, until the lease
-- ends. The worker asks for the jobs it holds (after a claim failed, and every few seconds)
-- and gives back, through release_jobs, those it never received.
create or replace function private.held_jobs(worker_id text)
returns table (job_id uuid, attempt int)
language sql
stable
security definer
set search_path = ''
as $$
    select l.job_id, l.attempt
    from private.job_leases as l
    where l.worker_id = held_jobs.worker_id
$$;
grant execute on function private.held_jobs(text) to wayfare_worker;
comment on function private.held_jobs(text) is
'The jobs (and attempts) a worker holds leases on; the worker releases those it never received.';

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

    select private.notify_requeued(pg_catalog.array_agg(r.type), pg_catalog.array_agg(r.status))
    into v_count
    from recovered as r;
    return v_count;
end;
$$;
grant execute on function private.recover_expired_leases() to wayfare_worker;

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

create or replace trigger jobs_notify_queued
after insert on public.jobs
referencing new table as new_jobs
for each statement execute function private.notify_jobs_queued();

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
-- Payments (docs/payments.md): the hotel catalogue, bookings and their state machine,
-- create_booking and cancel_booking, Stripe webhook application, the functions the worker's
-- payment handlers call, and the pg_cron schedule that completes past stays.
--
-- Amounts are integers in the currency's minor unit, as Stripe counts them: cents for EUR,
-- USD and GBP; whole yen for JPY (a zero-decimal currency). hotels.nightly_rate_cents keeps
-- its historical name but means "minor units". Currencies are ISO 4217 codes in upper case;
-- Stripe receives and sends them in lower case.
-- ============================================================================

-- Hotels: the catalogue (readable by everyone through RLS). The demo hotels are development
-- data: supabase/seed.sql, never a migration.
create table if not exists public.hotels (
    id uuid primary key default gen_random_uuid(),
    name text not null constraint hotels_name_length check (char_length(name) between 1 and 200),
    city text not null constraint hotels_city_length check (char_length(city) between 1 and 100),
    nightly_rate_cents integer not null
    constraint hotels_nightly_rate_range check (nightly_rate_cents between 50 and 10000000),
    currency text not null constraint hotels_currency_format check (currency ~ '^[A-Z]{3}$'),
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.hotels is
'The hotel catalogue. nightly_rate_cents is in the currency''s minor unit (cents; whole yen '
'for JPY, which has no minor unit). Only active hotels are visible and bookable.';
comment on column public.hotels.nightly_rate_cents is
'Price of one night in the minor unit of currency, as Stripe counts amounts (JPY: yen).';
create index if not exists hotels_active_city_idx on public.hotels (active, city);

-- >>> policy file: sql/policies/hotels.sql
-- hotels: the catalogue. Anyone, signed in or not, sees the hotels that take bookings; nobody
-- changes them through the API (operators use the service role or migrations).
alter table public.hotels enable row level security;
select private.drop_policies('public.hotels');

create policy "Anyone can view active hotels"
on public.hotels for select
to anon, authenticated
using (active);
-- <<< policy file: sql/policies/hotels.sql

revoke all on table public.hotels from anon, authenticated;
grant all on table public.hotels to service_role;
grant select on table public.hotels to anon, authenticated;

create or replace trigger hotels_set_updated_at
before update on public.hotels
for each row execute function private.set_updated_at();

-- ============================================================================
-- Bookings
-- ============================================================================
create table if not exists public.bookings (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    status text not null default 'payment_pending'
    constraint bookings_status_check check (status in (
        'payment_pending', 'processing', 'payment_failed', 'paid', 'confirmed', 'completed',
        'cancelled'
    )),
    amount integer not null constraint bookings_amount_positive check (amount > 0),
    currency text not null constraint bookings_currency_format check (currency ~ '^[A-Z]{3}$'),
    payment_intent_id text constraint bookings_payment_intent_id_key unique,
    payment_method text,
    client_secret text,
    hotel_id uuid not null references public.hotels (id) on delete restrict,
    check_in date not null,
    check_out date not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    paid_at timestamptz,
    confirmed_at timestamptz,
    completed_at timestamptz,
    cancelled_at timestamptz,
    refunded_at timestamptz,
    amount_refunded integer not null default 0
    constraint bookings_amount_refunded_range check (amount_refunded between 0 and amount),
    cancel_requested_at timestamptz,
    cancel_job_id uuid,
    metadata jsonb not null default '{}'::jsonb,
    error text constraint bookings_error_length check (char_length(error) <= 500),
    request_id text,
    last_event_created timestamptz,
    constraint bookings_dates_in_order check (check_out > check_in),
    constraint bookings_at_most_30_nights check (check_out - check_in <= 30)
);

comment on table public.bookings is
'A hotel booking and its payment. Owners select; nobody writes directly: public.create_booking '
'makes rows, the worker and Stripe webhooks move them (private definer functions), and the '
'trigger bookings_guard enforces the state machine of docs/payments.md for every role.';
comment on column public.bookings.amount is
'nights x hotels.nightly_rate_cents, computed in Postgres, in the currency''s minor unit.';
comment on column public.bookings.client_secret is
'The PaymentIntent''s client secret, for the owner''s Stripe.js confirmation.';
comment on column public.bookings.error is
'A user-safe reason for the last payment failure (Stripe''s card message), or null.';
comment on column public.bookings.last_event_created is
'The `created` time of the last Stripe event applied: older events change nothing.';
create index if not exists bookings_user_id_created_at_idx
on public.bookings (user_id, created_at desc);
create index if not exists bookings_hotel_id_idx on public.bookings (hotel_id);
create index if not exists bookings_confirmed_check_out_idx on public.bookings (check_out)
where status = 'confirmed';
create index if not exists bookings_unpaid_created_at_idx on public.bookings (created_at)
where status in ('payment_pending', 'payment_failed') and cancel_requested_at is null;

-- >>> policy file: sql/policies/bookings.sql
-- bookings: a user sees only their own bookings and changes none of them directly. Rows are
-- made by public.create_booking and moved only by the worker and Stripe webhooks (through
-- private definer functions); the state machine trigger guards every change.
alter table public.bookings enable row level security;
select private.drop_policies('public.bookings');

create policy "Users can view their own bookings"
on public.bookings for select
to authenticated
using ((select auth.uid()) = user_id);
-- <<< policy file: sql/policies/bookings.sql

revoke all on table public.bookings from anon, authenticated;
grant all on table public.bookings to service_role;
grant select on table public.bookings to authenticated;

-- The state machine (docs/payments.md). Same-status updates are not transitions.
create or replace function private.booking_transition_allowed(from_status text, to_status text)
returns boolean
language sql
immutable
security invoker
set search_path = ''
as $$
    select (from_status, to_status) in (
        ('payment_pending', 'processing'),
        ('payment_pending', 'paid'),
        ('payment_pending', 'payment_failed'),
        ('payment_pending', 'cancelled'),
        ('processing', 'paid'),
        ('processing', 'payment_failed'),
        ('processing', 'cancelled'),
        ('payment_failed', 'payment_pending'),
        ('payment_failed', 'processing'),
        ('payment_failed', 'paid'),
        ('payment_failed', 'cancelled'),
        ('paid', 'confirmed'),
        ('paid', 'cancelled'),
        ('confirmed', 'completed'),
        ('confirmed', 'cancelled')
    )
$$;
grant execute on function private.booking_transition_allowed(text, text) to service_role;

-- Every insert and update of a booking, whoever makes it (the worker, webhooks, service_role,
-- postgres): new rows start as payment_pending, the booking's facts never change, the
-- PaymentIntent is set once, and status moves only along the state machine. Stamps the
-- time of each state and updated_at, and drops the client secret once nothing is left to pay.
create or replace function private.guard_booking()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if tg_op = 'INSERT' then
        if new.status <> 'payment_pending' then
            perform private.raise_error(
                'INVALID_STATE', 'A booking starts as payment_pending.', 'status'
            );
        end if;
        return new;
    end if;
    if (new.id, new.user_id, new.amount, new.currency, new.hotel_id, new.check_in,
        new.check_out, new.created_at)
        is distinct from (old.id, old.user_id, old.amount, old.currency, old.hotel_id,
            old.check_in, old.check_out, old.created_at) then
        perform private.raise_error(
            'INVALID_STATE', 'A booking''s hotel, dates, owner and amount cannot change.'
        );
    end if;
    if old.payment_intent_id is not null
        and new.payment_intent_id is distinct from old.payment_intent_id then
        perform private.raise_error(
            'INVALID_STATE', 'A booking''s PaymentIntent cannot change.', 'payment_intent_id'
        );
    end if;
    if new.status is distinct from old.status then
        if not private.booking_transition_allowed(old.status, new.status) then
            perform private.raise_error(
                'INVALID_STATE',
                pg_catalog.format('A booking cannot go from %s to %s.', old.status, new.status),
                'status'
            );
        end if;
        case new.status
            when 'paid' then new.paid_at := coalesce(new.paid_at, pg_catalog.now());
            when 'confirmed' then new.confirmed_at := coalesce(new.confirmed_at, pg_catalog.now());
            when 'completed' then new.completed_at := coalesce(new.completed_at, pg_catalog.now());
            when 'cancelled' then new.cancelled_at := coalesce(new.cancelled_at, pg_catalog.now());
            else null;
        end case;
        -- nothing is left to pay: the client secret is of no more use to anyone
        if new.status in ('confirmed', 'completed', 'cancelled') then
            new.client_secret := null;
        end if;
    end if;
    new.updated_at := pg_catalog.now();
    return new;
end;
$$;

-- ============================================================================
-- Jobs for bookings (the job queue above). Only the backend enqueues them
-- (user_startable = false); the booking's owner may read them (the jobId the RPCs answer).
-- Stripe calls retry up to 8 times with backoff; the PaymentIntent, cancel and refund calls
-- carry Stripe idempotency keys derived from the booking, so a retry never pays twice.
-- They run in the payments lane (private.job_types.lane), in worker slots of their own.
-- ============================================================================
create or replace function private.validate_booking_job(input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform private.job_input_keys(input, array['booking_id']);
    if pg_catalog.jsonb_typeof(input -> 'booking_id') is distinct from 'string'
        or private.try_uuid(input ->> 'booking_id') is null then
        perform private.raise_error(
            'VALIDATION_FAILED', 'input.booking_id must be a booking id.', 'input.booking_id'
        );
    end if;
    return pg_catalog.jsonb_build_object('booking_id', (input ->> 'booking_id')::uuid);
end;
$$;

-- noqa: disable=LT02
insert into private.job_types (
    type, description, validator, user_startable, max_attempts, lease_seconds, priority,
    retry_base, retry_cap, expires_after, retention, lane
)
values
('payment.create_intent',
    'Creates the booking''s Stripe PaymentIntent and stores its id and client secret.',
    'private.validate_booking_job(jsonb)', false, 8, 60, 10,
    interval '2 seconds', interval '5 minutes', interval '7 days', interval '30 days', 'payments'),
('payment.cancel',
    'Cancels an unpaid booking: its PaymentIntent at Stripe if it has one, else locally.',
    'private.validate_booking_job(jsonb)', false, 8, 60, 10,
    interval '2 seconds', interval '5 minutes', interval '7 days', interval '30 days', 'payments'),
('payment.refund',
    'Refunds a paid booking''s PaymentIntent in full; the booking ends cancelled.',
    'private.validate_booking_job(jsonb)', false, 8, 60, 10,
    interval '2 seconds', interval '5 minutes', interval '7 days', interval '30 days', 'payments'),
('booking.confirm',
    'Confirms a paid booking (paid -> confirmed).',
    'private.validate_booking_job(jsonb)', false, 8, 30, 20,
    interval '2 seconds', interval '5 minutes', interval '7 days', interval '30 days', 'payments');

-- noqa: enable=LT02
create or replace function private.enqueue_booking_job(
    job_type text, booking public.bookings
)
returns uuid
language sql
security invoker
set search_path = ''
as $$
    select private.enqueue_job(
        job_type, pg_catalog.jsonb_build_object('booking_id', booking.id), booking.user_id
    )
$$;

-- ============================================================================
-- Bookings: the one validator of a booking request (docs/payments.md), used by create_booking
-- (before its idempotency record is written) and by private.insert_booking (which trusts no
-- caller). Infinite dates are refused before any date arithmetic.
-- ============================================================================
create or replace function private.check_booking_request(hotel_id uuid, check_in date, check_out date)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if hotel_id is null then
        perform private.raise_error('VALIDATION_FAILED', 'hotel_id is required.', 'hotel_id');
    end if;
    if check_in is null then
        perform private.raise_error('VALIDATION_FAILED', 'check_in is required.', 'check_in');
    end if;
    if check_out is null then
        perform private.raise_error('VALIDATION_FAILED', 'check_out is required.', 'check_out');
    end if;
    if check_in < current_date then
        perform private.raise_error(
            'VALIDATION_FAILED', 'check_in must be today or later.', 'check_in'
        );
    end if;
    if check_in > current_date + 730 then
        perform private.raise_error(
            'VALIDATION_FAILED', 'check_in must be within the next two years.', 'check_in'
        );
    end if;
    if check_out <= check_in then
        perform private.raise_error(
            'VALIDATION_FAILED', 'check_out must be after check_in.', 'check_out'
        );
    end if;
    if not pg_catalog.isfinite(check_out) or check_out - check_in > 30 then
        perform private.raise_error(
            'VALIDATION_FAILED', 'A booking is at most 30 nights.', 'check_out'
        );
    end if;
end;
$$;
grant execute on function private.check_booking_request(uuid, date, date)
to authenticated, service_role;

create or replace function private.insert_booking(hotel_id uuid, check_in date, check_out date)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_hotel public.hotels;
    v_booking public.bookings;
    v_job_id uuid;
begin
    -- the same rules as public.create_booking: this function trusts no caller
    perform private.check_booking_request(
        insert_booking.hotel_id, insert_booking.check_in, insert_booking.check_out
    );
    select h.* into v_hotel from public.hotels as h
    where h.id = insert_booking.hotel_id and h.active
    for share;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Hotel not found.', 'hotel_id');
    end if;

    insert into public.bookings as b (
        user_id, hotel_id, check_in, check_out, amount, currency, request_id
    )
    values (
        v_user, v_hotel.id, insert_booking.check_in, insert_booking.check_out,
        (insert_booking.check_out - insert_booking.check_in) * v_hotel.nightly_rate_cents,
        v_hotel.currency, private.request_id()
    )
    returning b.* into v_booking;
    v_job_id := private.enqueue_booking_job('payment.create_intent', v_booking);
    return pg_catalog.jsonb_build_object(
        'id', v_booking.id,
        'status', v_booking.status,
        'amount', v_booking.amount,
        'currency', v_booking.currency,
        'jobId', v_job_id
    );
end;
$$;
grant execute on function private.insert_booking(uuid, date, date) to authenticated, service_role;

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
grant execute on function public.create_booking(uuid, date, date, text)
to anon, authenticated, service_role;

-- The cancellation policy (docs/payments.md) in Postgres: a user cancels (with a full refund when
-- paid) while current_date < check_in; from check-in on cancel_booking answers 409 INVALID_STATE.
-- Operators can still cancel and refund: cancel_booking called with the service_role key (no
-- user) cancels any booking, whatever its dates.

-- The cancellation of one locked booking: the job that cancels or refunds it, made once (a
-- repeat while the first is queued or running answers the same job). Called only by the
-- definers below, so no API role is granted it.
create or replace function private.cancel_booking_row(booking public.bookings)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_job_id uuid;
begin
    if booking.status in ('completed', 'cancelled') then
        perform private.raise_error(
            'INVALID_STATE',
            pg_catalog.format('A %s booking cannot be cancelled.', booking.status),
            'booking_id'
        );
    end if;
    if booking.cancel_job_id is not null and exists (
        select 1 from public.jobs as j
        where j.id = booking.cancel_job_id and j.status in ('queued', 'processing')
    ) then
        v_job_id := booking.cancel_job_id;
    else
        v_job_id := private.enqueue_booking_job(
            case when booking.status in ('paid', 'confirmed') then 'payment.refund'
                else 'payment.cancel' end,
            booking
        );
        update public.bookings as b
        set cancel_requested_at = pg_catalog.now(), cancel_job_id = v_job_id
        where b.id = booking.id;
    end if;
    return pg_catalog.jsonb_build_object(
        'id', booking.id, 'status', booking.status, 'jobId', v_job_id
    );
end;
$$;

-- A user's own booking, before check-in.
create or replace function private.request_booking_cancellation(booking_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = request_booking_cancellation.booking_id and b.user_id = v_user
    for update;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Booking not found.', 'booking_id');
    end if;
    if v_booking.status not in ('completed', 'cancelled') and current_date >= v_booking.check_in then
        perform private.raise_error(
            'INVALID_STATE',
            'A booking can be cancelled only before its check-in day.',
            'booking_id',
            'From check-in on, contact support: the cancellation policy allows no refund.'
        );
    end if;
    return private.cancel_booking_row(v_booking);
end;
$$;
grant execute on function private.request_booking_cancellation(uuid) to authenticated, service_role;

-- Operators (service_role): any booking, whatever its dates.
create or replace function private.cancel_booking_as_operator(booking_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = cancel_booking_as_operator.booking_id
    for update;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Booking not found.', 'booking_id');
    end if;
    return private.cancel_booking_row(v_booking);
end;
$$;
grant execute on function private.cancel_booking_as_operator(uuid) to service_role;

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
grant execute on function public.cancel_booking(uuid, text) to anon, authenticated, service_role;

create or replace trigger bookings_guard
before insert or update on public.bookings
for each row execute function private.guard_booking();

-- ============================================================================
-- Stripe events: stored once by id, applied in Postgres.
-- ============================================================================
create table if not exists private.stripe_events (
    id text primary key,
    type text not null,
    created timestamptz not null,
    payload jsonb not null,
    received_at timestamptz not null default now(),
    processed_at timestamptz,
    outcome text constraint stripe_events_outcome_check check (outcome in (
        'applied', 'stale', 'ignored', 'unhandled', 'not_found'
    )),
    booking_id uuid references public.bookings (id) on delete set null,
    request_id text,
    error text
);

comment on table private.stripe_events is
'Every Stripe event received (webhooks or webhook.replay), once by its id, with what applying '
'it did: applied | stale (older than the booking''s last applied event) | ignored (the state '
'machine forbids it, or it does not match the booking) | unhandled (a type we do not act on) | '
'not_found (no booking). Payloads are purged after 90 days.';
create index if not exists stripe_events_booking_id_idx on private.stripe_events (booking_id);
create index if not exists stripe_events_received_at_idx on private.stripe_events (received_at);
revoke all on table private.stripe_events from anon, authenticated, service_role;

create or replace function private.try_uuid(value text)
returns uuid
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
    if value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        return value::uuid;
    end if;
    return null;
end;
$$;

-- A Stripe message safe to show the booking's owner: Stripe's card messages are written for
-- customers; keep one line of at most 500 characters.
create or replace function private.user_safe_error(message text)
returns text
language sql
immutable
security invoker
set search_path = ''
as $$
    select nullif(pg_catalog.left(pg_catalog.regexp_replace(
        pg_catalog.btrim(message), '[[:cntrl:]]+', ' ', 'g'
    ), 500), '')
$$;

-- Record a refund on a booking (from charge.refunded or from the worker's refund call):
-- amount_refunded only grows, refunded_at is the first refund's time, and a full refund
-- cancels a paid or confirmed booking. Returns true when something changed.
create or replace function private.record_booking_refund(
    booking public.bookings, amount_refunded integer, fully_refunded boolean
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_amount integer := least(greatest(coalesce(amount_refunded, 0), 0), booking.amount);
    v_status text := booking.status;
begin
    if fully_refunded and private.booking_transition_allowed(booking.status, 'cancelled') then
        v_status := 'cancelled';
    end if;
    if v_amount <= booking.amount_refunded and v_status = booking.status then
        return false;
    end if;
    update public.bookings as b
    set amount_refunded = greatest(b.amount_refunded, v_amount),
        refunded_at = coalesce(b.refunded_at, pg_catalog.now()),
        status = v_status
    where b.id = booking.id;
    return true;
end;
$$;

-- Apply one event to its booking. Called by record_stripe_event only (as its owner).
-- Returns {outcome, booking_id, error}.
create or replace function private.apply_stripe_event(
    event_type text, event_created timestamptz, object jsonb
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_target text;
    v_pi_id text;
    v_booking_id uuid := private.try_uuid(object -> 'metadata' ->> 'booking_id');
    v_booking public.bookings;
    v_error text;
begin
    v_target := case event_type
        when 'payment_intent.processing' then 'processing'
        when 'payment_intent.succeeded' then 'paid'
        when 'payment_intent.payment_failed' then 'payment_failed'
        when 'payment_intent.canceled' then 'cancelled'
        when 'charge.refunded' then 'refunded'
    end;
    if v_target is null then
        return pg_catalog.jsonb_build_object('outcome', 'unhandled');
    end if;
    v_pi_id := case when v_target = 'refunded' then object ->> 'payment_intent'
        else object ->> 'id' end;

    if v_booking_id is not null then
        select b.* into v_booking from public.bookings as b where b.id = v_booking_id for update;
    end if;
    if v_booking.id is null and v_pi_id is not null then
        select b.* into v_booking from public.bookings as b
        where b.payment_intent_id = v_pi_id for update;
    end if;
    if v_booking.id is null then
        return pg_catalog.jsonb_build_object('outcome', 'not_found');
    end if;

    if v_pi_id is null or (v_booking.payment_intent_id is not null
        and v_booking.payment_intent_id <> v_pi_id) then
        return pg_catalog.jsonb_build_object(
            'outcome', 'ignored', 'booking_id', v_booking.id,
            'error', 'The PaymentIntent is not the booking''s.'
        );
    end if;
    if v_booking.last_event_created is not null
        and event_created < v_booking.last_event_created then
        return pg_catalog.jsonb_build_object('outcome', 'stale', 'booking_id', v_booking.id);
    end if;

    if v_target = 'refunded' then
        -- the PaymentIntent is the booking's own: set once, from the event if the worker has
        -- not stored it yet
        update public.bookings as b
        set payment_intent_id = v_pi_id, last_event_created = event_created
        where b.id = v_booking.id
        returning b.* into v_booking;
        perform private.record_booking_refund(
            v_booking,
            (object ->> 'amount_refunded')::integer,
            coalesce((object ->> 'refunded')::boolean, false)
        );
        return pg_catalog.jsonb_build_object('outcome', 'applied', 'booking_id', v_booking.id);
    end if;

    if v_target = 'paid' and (
        (object ->> 'amount')::bigint is distinct from v_booking.amount
        or pg_catalog.upper(object ->> 'currency') is distinct from v_booking.currency
    ) then
        return pg_catalog.jsonb_build_object(
            'outcome', 'ignored', 'booking_id', v_booking.id,
            'error', 'The amount or currency differs from the booking''s.'
        );
    end if;

    if v_booking.status <> v_target
        and not private.booking_transition_allowed(v_booking.status, v_target) then
        -- money arrived for a booking already cancelled: give it back
        if v_target = 'paid' and v_booking.status = 'cancelled' and v_booking.refunded_at is null
        then
            perform private.enqueue_booking_job('payment.refund', v_booking);
        end if;
        return pg_catalog.jsonb_build_object(
            'outcome', 'ignored', 'booking_id', v_booking.id,
            'error', pg_catalog.format(
                'A booking cannot go from %s to %s.', v_booking.status, v_target
            )
        );
    end if;

    v_error := private.user_safe_error(object -> 'last_payment_error' ->> 'message');
    if v_target = 'payment_failed' then
        v_error := coalesce(v_error, 'The payment failed.');
    end if;
    update public.bookings as b
    set status = v_target,
        payment_intent_id = v_pi_id,
        error = v_error,
        payment_method = coalesce(object ->> 'payment_method', b.payment_method),
        last_event_created = event_created
    where b.id = v_booking.id;
    if v_target = 'paid' and v_booking.status <> 'paid' then
        perform private.enqueue_booking_job('booking.confirm', v_booking);
    end if;
    return pg_catalog.jsonb_build_object('outcome', 'applied', 'booking_id', v_booking.id);
end;
$$;

-- The web service's one entry point (and webhook.replay's): store the event once by its id
-- and apply it. A duplicate changes nothing. Never raises for an event it cannot apply: that
-- is an outcome, acknowledged to Stripe. Raises VALIDATION_FAILED for a malformed event.
create or replace function private.record_stripe_event(event jsonb, request_id text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_id text := event ->> 'id';
    v_type text := event ->> 'type';
    v_created timestamptz;
    v_result jsonb;
begin
    if request_id ~ '^[A-Za-z0-9._-]{8,128}$' then
        perform pg_catalog.set_config('wayfare.request_id', request_id, true);
    end if;
    if pg_catalog.jsonb_typeof(event) is distinct from 'object' then
        perform private.raise_error('VALIDATION_FAILED', 'The event must be a JSON object.', 'event');
    end if;
    if v_id is null or v_id !~ '^[A-Za-z0-9_]{1,255}$' then
        perform private.raise_error('VALIDATION_FAILED', 'The event has no valid id.', 'id');
    end if;
    if v_type is null or v_type !~ '^[a-z0-9_.]{1,255}$' then
        perform private.raise_error('VALIDATION_FAILED', 'The event has no valid type.', 'type');
    end if;
    if pg_catalog.jsonb_typeof(event -> 'created') is distinct from 'number' then
        perform private.raise_error(
            'VALIDATION_FAILED', 'The event has no valid created time.', 'created'
        );
    end if;
    v_created := pg_catalog.to_timestamp((event ->> 'created')::double precision);

    -- one delivery of an event id at a time (a concurrent duplicate waits here, then sees
    -- the first one's row); the lock lasts until commit
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('stripe_event:' || v_id, 0)
    );
    if exists (select 1 from private.stripe_events as e where e.id = v_id) then
        return pg_catalog.jsonb_build_object('eventId', v_id, 'type', v_type, 'outcome', 'duplicate');
    end if;

    begin
        v_result := private.apply_stripe_event(
            v_type, v_created, coalesce(event -> 'data' -> 'object', '{}'::jsonb)
        );
    exception when data_exception then
        -- a field of the wrong type or out of range (amount_refunded: "abc"): retrying cannot
        -- help, so record it and acknowledge
        v_result := pg_catalog.jsonb_build_object(
            'outcome', 'ignored', 'error', 'The event''s data is malformed.'
        );
    end;
    insert into private.stripe_events as e (
        id, type, created, payload, request_id, processed_at, outcome, booking_id, error
    )
    values (
        v_id, v_type, v_created, event, private.request_id(), pg_catalog.clock_timestamp(),
        v_result ->> 'outcome', (v_result ->> 'booking_id')::uuid, v_result ->> 'error'
    );
    return pg_catalog.jsonb_build_object(
        'eventId', v_id, 'type', v_type, 'outcome', v_result ->> 'outcome',
        'bookingId', v_result ->> 'booking_id'
    );
end;
$$;
grant execute on function private.record_stripe_event(jsonb, text) to wayfare_web;

create or replace function private.purge_stripe_events()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with gone as (
        delete from private.stripe_events as e
        where e.received_at < pg_catalog.now() - interval '90 days'
        returning 1
    )
    select pg_catalog.count(*) from gone
$$;

-- Stripe events that were signed (so they really come from Stripe) but cannot be an event we
-- apply: not JSON, nested too deep, not an object, no valid id/type, `created` out of range.
-- The web service answers 400 and keeps one row per distinct body here, so an operator can
-- see what Stripe sent (and replay it with `python -m webhook.replay` once it is understood).
-- Bad signatures are never stored (docs/payments.md): they are logged and counted instead.
create table if not exists private.stripe_rejected_events (
    body_sha256 text primary key,
    event_id text,
    event_type text,
    reason text not null,
    body text not null,
    deliveries integer not null default 1,
    first_received_at timestamptz not null default pg_catalog.now(),
    last_received_at timestamptz not null default pg_catalog.now(),
    request_id text
);

comment on table private.stripe_rejected_events is
'Signed Stripe deliveries that are not an applicable event (answered 400): one row per distinct '
'body with the reason, how often it came and the last request id. Purged after 90 days.';
create index if not exists stripe_rejected_events_last_received_at_idx
on private.stripe_rejected_events (last_received_at);
revoke all on table private.stripe_rejected_events from public, anon, authenticated, service_role;

-- The web service's entry point for a rejected delivery. event_id and event_type are what
-- could be read from the body (or null); only short printable values are kept.
create or replace function private.record_rejected_stripe_event(
    body text, reason text, event_id text, event_type text, request_id text
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into private.stripe_rejected_events as r (
        body_sha256, event_id, event_type, reason, body, request_id
    )
    values (
        pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(body, 'UTF8')), 'hex'),
        case when event_id ~ '^[A-Za-z0-9_]{1,255}$' then event_id end,
        case when event_type ~ '^[a-z0-9_.]{1,255}$' then event_type end,
        pg_catalog.left(reason, 200),
        body,
        case when request_id ~ '^[A-Za-z0-9._-]{8,128}$' then request_id end
    )
    on conflict (body_sha256) do update
        set deliveries = r.deliveries + 1,
            last_received_at = pg_catalog.now(),
            request_id = excluded.request_id;
end;
$$;
grant execute on function private.record_rejected_stripe_event(text, text, text, text, text)
to wayfare_web;

create or replace function private.purge_stripe_rejected_events()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with gone as (
        delete from private.stripe_rejected_events as r
        where r.last_received_at < pg_catalog.now() - interval '90 days'
        returning 1
    )
    select pg_catalog.count(*) from gone
$$;

-- ============================================================================
-- The worker's payment handlers (worker/handlers/payments.py) call these. Each locks the
-- booking, checks its state and returns what the handler needs; none trusts the caller.
-- ============================================================================

-- What a handler needs to know about a booking (null when it does not exist).
create or replace function private.booking_for_payment(booking_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    select pg_catalog.jsonb_build_object(
        'id', b.id, 'user_id', b.user_id, 'status', b.status, 'amount', b.amount,
        'currency', b.currency, 'payment_intent_id', b.payment_intent_id,
        'amount_refunded', b.amount_refunded, 'refunded_at', b.refunded_at,
        'hotel_id', b.hotel_id, 'check_in', b.check_in, 'check_out', b.check_out
    )
    from public.bookings as b
    where b.id = booking_for_payment.booking_id
$$;
grant execute on function private.booking_for_payment(uuid) to wayfare_worker;

-- Store the PaymentIntent made for a booking. The client secret is kept only while the
-- booking can still be paid. Returns the booking's status (the handler cancels the
-- PaymentIntent when the booking was cancelled meanwhile).
create or replace function private.attach_payment_intent(
    booking_id uuid, payment_intent_id text, client_secret text
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = attach_payment_intent.booking_id
    for update;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Booking not found.', 'booking_id');
    end if;
    if v_booking.payment_intent_id is not null
        and v_booking.payment_intent_id <> attach_payment_intent.payment_intent_id then
        perform private.raise_error(
            'INVALID_STATE', 'The booking already has another PaymentIntent.', 'payment_intent_id'
        );
    end if;
    update public.bookings as b
    set payment_intent_id = attach_payment_intent.payment_intent_id,
        client_secret = case
            when b.status in ('payment_pending', 'payment_failed', 'processing')
                then attach_payment_intent.client_secret
        end
    where b.id = v_booking.id;
    return v_booking.status;
end;
$$;
grant execute on function private.attach_payment_intent(uuid, text, text) to wayfare_worker;

-- Cancel an unpaid booking whose PaymentIntent the caller cancelled at Stripe (or that has
-- none: payment_intent_id null). Returns the status the booking ends in (a booking that was
-- paid meanwhile stays paid), or 'retry' when the booking's PaymentIntent is not the one the
-- caller cancelled (the worker attached one meanwhile): cancel that one first.
create or replace function private.cancel_unpaid_booking(
    booking_id uuid, payment_intent_id text default null
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = cancel_unpaid_booking.booking_id
    for update;
    if not found then
        return null;
    end if;
    if v_booking.status in ('payment_pending', 'processing', 'payment_failed') then
        if v_booking.payment_intent_id is distinct from cancel_unpaid_booking.payment_intent_id
        then
            return 'retry';
        end if;
        update public.bookings as b set status = 'cancelled' where b.id = v_booking.id;
        return 'cancelled';
    end if;
    return v_booking.status;
end;
$$;
grant execute on function private.cancel_unpaid_booking(uuid, text) to wayfare_worker;

-- Record the refund the worker made (the charge.refunded webhook records it as well; both
-- paths are idempotent). Returns the booking's status afterwards.
create or replace function private.record_refund(booking_id uuid, amount_refunded integer)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = record_refund.booking_id
    for update;
    if not found then
        return null;
    end if;
    perform private.record_booking_refund(
        v_booking, record_refund.amount_refunded,
        record_refund.amount_refunded >= v_booking.amount
    );
    return (select b.status from public.bookings as b where b.id = v_booking.id);
end;
$$;
grant execute on function private.record_refund(uuid, int) to wayfare_worker;

-- paid -> confirmed (the booking.confirm job). Any other status is left alone and returned.
create or replace function private.confirm_booking(booking_id uuid)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_status text;
begin
    select b.status into v_status from public.bookings as b
    where b.id = confirm_booking.booking_id
    for update;
    if v_status = 'paid' then
        update public.bookings as b set status = 'confirmed', client_secret = null
        where b.id = confirm_booking.booking_id;
        return 'confirmed';
    end if;
    return v_status;
end;
$$;
grant execute on function private.confirm_booking(uuid) to wayfare_worker;

-- A user-safe reason on the booking (a Stripe failure in a handler). With mark_failed, a
-- booking still waiting for its PaymentIntent becomes payment_failed (it cannot be paid).
-- Returns the booking's status.
create or replace function private.record_booking_error(
    booking_id uuid, message text, mark_failed boolean default false
)
returns text
language sql
security definer
set search_path = ''
as $$
    update public.bookings as b
    set error = coalesce(private.user_safe_error(record_booking_error.message),
            'The payment could not be processed.'),
        status = case
            when record_booking_error.mark_failed and b.status = 'payment_pending'
                then 'payment_failed'
            else b.status
        end
    where b.id = record_booking_error.booking_id
    returning b.status
$$;
grant execute on function private.record_booking_error(uuid, text, boolean) to wayfare_worker;

-- ============================================================================
-- pg_cron: confirmed stays end as completed the day after check-out; unpaid bookings expire
-- after a day; old events are purged.
-- ============================================================================
create or replace function private.complete_past_bookings()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with done as (
        update public.bookings as b
        set status = 'completed'
        where b.status = 'confirmed' and b.check_out < current_date
        returning 1
    )
    select pg_catalog.count(*) from done
$$;

-- Bookings nobody paid within a day (still payment_pending or payment_failed, no cancellation
-- asked) are cancelled through payment.cancel, which cancels their PaymentIntent too: no
-- booking waits for its money forever. Processing ones are left alone (money in flight).
create or replace function private.expire_unpaid_bookings(
    older_than interval default interval '24 hours'
)
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
    v_job_id uuid;
    v_count int := 0;
begin
    for v_booking in
        select b.* from public.bookings as b
        where
            b.status in ('payment_pending', 'payment_failed')
            and b.cancel_requested_at is null
            and b.created_at < pg_catalog.now() - expire_unpaid_bookings.older_than
        order by b.created_at
        limit 1000
        for update skip locked
    loop
        v_job_id := private.enqueue_booking_job('payment.cancel', v_booking);
        update public.bookings as b
        set cancel_requested_at = pg_catalog.now(), cancel_job_id = v_job_id
        where b.id = v_booking.id;
        v_count := v_count + 1;
    end loop;
    return v_count;
end;
$$;

select private.schedule(
    'wayfare-complete-past-bookings', '23 * * * *', 'select private.complete_past_bookings()'
);

select private.schedule(
    'wayfare-expire-unpaid-bookings', '*/15 * * * *', 'select private.expire_unpaid_bookings()'
);

select private.schedule(
    'wayfare-purge-stripe-events', '41 3 * * *', 'select private.purge_stripe_events()'
);

select private.schedule(
    'wayfare-purge-stripe-rejected-events', '43 3 * * *',
    'select private.purge_stripe_rejected_events()'
);

-- ============================================================================
-- Rate limits and the pre-request function
-- ============================================================================

-- Rate limits (docs/api.md#rate-limits) in PostgREST's pre-request function: writes (POST, PATCH,
-- PUT, DELETE) per user, or per client IP for anon, in fixed one-minute windows. A rejected
-- request raises, so its transaction (and every counter it bumped) rolls back: it consumes
-- nothing.
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
'name = ''trips''). path_pattern is a regex on the decoded route (private.request_route()); '
'every matching limit applies; a table write of n rows counts n.';

insert into private.rate_limits (name, path_pattern, max_requests, window_seconds, description)
values
('trips', '^/(rpc/create_trip|trips)$', 10, 60, 'trip writes'),
('ai', '^/rpc/(start_research|start_job)$', 20, 60, 'AI research and other jobs'),
('bookings', '^/(rpc/(create_booking|cancel_booking)|bookings)$', 5, 60, 'booking writes'),
('all_writes', '.', 100, 60, 'every write together')
on conflict (name) do nothing;

revoke all on table private.rate_limits from anon, authenticated, service_role;

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

-- PostgREST's pre-request function: the request id (docs/api.md#conventions) and the rate limits
-- (docs/api.md#rate-limits). It runs first in every request's transaction, so response.headers is
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
grant execute on function private.check_request() to authenticated, service_role, anon;

-- PostgREST's pre-request function, by in-database configuration: a hosted project gets
-- request ids and rate limits from `supabase db push` alone.
-- ============================================================================
alter role authenticator set "pgrst.db_pre_request" = 'private.check_request';

-- Rate-limit rows older than a day are of no use.
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

-- One statement trigger per write event on each user-writable table (a table write of n rows
-- counts n).

create or replace trigger trips_rate_limit_insert
after insert on public.trips
referencing new table as new_rows
for each statement execute function private.charge_rate_limits_for_rows();

create or replace trigger trips_rate_limit_update
after update on public.trips
referencing new table as new_rows
for each statement execute function private.charge_rate_limits_for_rows();

create or replace trigger trips_rate_limit_delete
after delete on public.trips
referencing old table as old_rows
for each statement execute function private.charge_rate_limits_for_rows();

create or replace trigger activities_rate_limit_insert
after insert on public.activities
referencing new table as new_rows
for each statement execute function private.charge_rate_limits_for_rows();

create or replace trigger activities_rate_limit_update
after update on public.activities
referencing new table as new_rows
for each statement execute function private.charge_rate_limits_for_rows();

create or replace trigger activities_rate_limit_delete
after delete on public.activities
referencing old table as old_rows
for each statement execute function private.charge_rate_limits_for_rows();

select private.schedule(
    'wayfare-purge-rate-limit-counters', '*/10 * * * *',
    'select private.purge_rate_limit_counters()'
);

-- ============================================================================
-- AI logs
-- ============================================================================

-- AI call logs (docs/ai-providers.md, docs/redaction.md): one row per provider call, redacted
-- text only and only with the user's consent `redacted`, usage and timing always, 30 days,
-- readable by no API role. The worker redacts before it writes; a trigger here refuses any row
-- whose text still holds PII it can recognise (the last line of defence).

-- ============================================================================
-- PII guards usable from SQL
-- ============================================================================
create or replace function private.luhn_valid(digits text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_sum int := 0;
    v_digit int;
    v_double boolean := false;
begin
    if digits !~ '^[0-9]{13,19}$' then
        return false;
    end if;
    for i in reverse pg_catalog.length(digits)..1 loop
        v_digit := pg_catalog.substr(digits, i, 1)::int;
        if v_double then
            v_digit := v_digit * 2;
            if v_digit > 9 then
                v_digit := v_digit - 9;
            end if;
        end if;
        v_sum := v_sum + v_digit;
        v_double := not v_double;
    end loop;
    return v_sum % 10 = 0;
end;
$$;

-- The last line of defence on private.ai_logs: the trigger refuses email addresses,
-- Luhn-valid card numbers, phone numbers, US social security numbers and IBANs, the
-- structured types the redactor (wayfare/redact) finds with recall 1.0.
-- It is deliberately narrower than the redactor (no names, addresses or passports without
-- context, no national phone formats without a cue) so that travel data is never refused:
-- flight numbers, prices, dates, booking references, room numbers and coordinates pass.
-- A refused row makes the worker keep usage only (worker/handlers/research.py).

-- ============================================================================
-- Detectors (immutable, security invoker: they read nothing but their argument)
-- ============================================================================

-- IBAN checksum (ISO 13616): move the first four characters to the end, letters as 10..35,
-- the number mod 97 must be 1. `compact` is upper-case letters and digits only.
create or replace function private.iban_valid(compact text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_rearranged text;
    v_remainder int := 0;
    v_char text;
    v_value int;
begin
    if compact !~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$' then
        return false;
    end if;
    v_rearranged := pg_catalog.substr(compact, 5) || pg_catalog.substr(compact, 1, 4);
    for i in 1..pg_catalog.length(v_rearranged) loop
        v_char := pg_catalog.substr(v_rearranged, i, 1);
        if v_char ~ '[0-9]' then
            v_remainder := (v_remainder * 10 + v_char::int) % 97;
        else
            v_value := pg_catalog.ascii(v_char) - 55;  -- 'A' = 10 ... 'Z' = 35
            v_remainder := (v_remainder * 100 + v_value) % 97;
        end if;
    end loop;
    return v_remainder = 1;
end;
$$;

-- An IBAN written compact or in groups of spaces/dashes. Upper case only, unless the text says
-- "iban". A greedy candidate may swallow the next word ("... 0130 00 BIC"), so every prefix of
-- 15 or more characters that ends on a whole group is tried.
create or replace function private.contains_iban(value text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_text text := value;
    v_candidate text;
    v_compact text;
begin
    if value is null then
        return false;
    end if;
    if pg_catalog.strpos(pg_catalog.lower(value), 'iban') > 0 then
        v_text := pg_catalog.upper(value);
    end if;
    for v_candidate in
        select m[1] from pg_catalog.regexp_matches(
            v_text, '(?:^|[^A-Za-z0-9])([A-Z]{2}[0-9]{2}(?:[ -]?[A-Z0-9]){11,32})', 'g'
        ) as m
    loop
        v_compact := pg_catalog.regexp_replace(v_candidate, '[^A-Z0-9]', '', 'g');
        for v_length in reverse least(pg_catalog.length(v_compact), 34)..15 loop
            if private.iban_valid(pg_catalog.substr(v_compact, 1, v_length)) then
                return true;
            end if;
        end loop;
    end loop;
    return false;
end;
$$;

-- US social security numbers: 123-45-6789 anywhere (area not 000, 666 or 9xx; group not 00;
-- serial not 0000), or nine digits within 20 characters after "SSN" / "social security".
create or replace function private.contains_ssn(value text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_match text[];
begin
    if value is null then
        return false;
    end if;
    for v_match in
        select m from pg_catalog.regexp_matches(
            value, '(?:^|[^0-9A-Za-z_-])([0-8][0-9]{2})-([0-9]{2})-([0-9]{4})(?![0-9A-Za-z_]|-[0-9])', 'g'
        ) as m
    loop
        if v_match[1] not in ('000', '666') and v_match[2] <> '00' and v_match[3] <> '0000' then
            return true;
        end if;
    end loop;
    return value
    ~* '(\mssn|\msocial security|\msoc\.? sec)[^0-9]{0,20}[0-9]{3}[ .-]?[0-9]{2}[ .-]?[0-9]{4}(?![0-9])';
end;
$$;

-- Phone numbers: international (+ then 8-15 digits in groups), the North American shape
-- ((415) 555-2671, 415-555-2671, 415.555.2671), or 7-15 digits right after a phone cue
-- ("call", "phone", "tel", "mobile", "whatsapp", ...), unless that run is a date.
create or replace function private.contains_phone(value text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_run text;
    v_digits int;
begin
    if value is null then
        return false;
    end if;
    for v_run in
        select m[1] from pg_catalog.regexp_matches(
            value, '(?:^|[^0-9A-Za-z+])(\+[ ]?[1-9](?:[ ./-]?\(?[0-9]\)?){6,16})', 'g'
        ) as m
    loop
        v_digits := pg_catalog.length(pg_catalog.regexp_replace(v_run, '[^0-9]', '', 'g'));
        if v_digits between 8 and 15 then
            return true;
        end if;
    end loop;
    if value ~ '(?:^|[^0-9A-Za-z_.,-])(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[-. ])[0-9]{3}[-. ][0-9]{4}(?![0-9A-Za-z_]|[.,-][0-9])'
        then
        return true;
    end if;
    for v_run in
        select m[1] from pg_catalog.regexp_matches(
            value,
            '(?:\mphone|\mtel|\mtelephone|\mmobile|\mcell|\mcall|\mwhatsapp|\msms|\mfax)'
            || '[^0-9+]{0,15}(\(?[0-9][0-9 ().-]{5,22}[0-9])',
            'gi'
        ) as m
    loop
        v_digits := pg_catalog.length(pg_catalog.regexp_replace(v_run, '[^0-9]', '', 'g'));
        if v_digits between 7 and 15
            and v_run !~ '[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}'
            and v_run !~ '[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{2,4}' then
            return true;
        end if;
    end loop;
    return false;
end;
$$;

-- Which kind of PII a text still holds (null: none it can recognise). The kind, never the
-- value, goes into the refusal's message.
create or replace function private.blocked_pii_kind(value text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_run text;
    v_digits text;
begin
    if value is null then
        return null;
    end if;
    if value ~* '[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}' then
        return 'an email address';
    end if;
    if private.contains_iban(value) then
        return 'an IBAN';
    end if;
    for v_run in
        select m[1] from pg_catalog.regexp_matches(value, '([0-9][0-9 -]{11,40}[0-9])', 'g') as m
    loop
        v_digits := pg_catalog.regexp_replace(v_run, '[^0-9]', '', 'g');
        -- any 13-19 digit window of the run (a card can sit beside other numbers)
        for v_length in 13..19 loop
            for v_start in 1..greatest(pg_catalog.length(v_digits) - v_length + 1, 0) loop
                if private.luhn_valid(pg_catalog.substr(v_digits, v_start, v_length)) then
                    return 'a card number';
                end if;
            end loop;
        end loop;
    end loop;
    if private.contains_ssn(value) then
        return 'a social security number';
    end if;
    if private.contains_phone(value) then
        return 'a phone number';
    end if;
    return null;
end;
$$;

-- True when blocked_pii_kind finds anything.
create or replace function private.contains_blocked_pii(value text)
returns boolean
language sql
immutable
security invoker
set search_path = ''
as $$
    select private.blocked_pii_kind(value) is not null
$$;

-- ============================================================================
-- The log
-- ============================================================================
create table if not exists private.ai_logs (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    job_id uuid references public.jobs (id) on delete set null,
    request_id text,
    provider text not null,
    model text not null,
    purpose text,
    prompt_redacted text,
    response_redacted text,
    structured_output jsonb,
    token_usage jsonb not null default '{}'::jsonb,
    duration_ms int constraint ai_logs_duration_non_negative check (duration_ms >= 0),
    attempts int not null default 1,
    error text,
    consent_level text not null default 'usage_only'
    constraint ai_logs_consent_level_check check (consent_level in ('usage_only', 'redacted')),
    data_classification text not null default 'internal'
    constraint ai_logs_classification_check
    check (data_classification in ('public', 'internal', 'confidential')),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null default (now() + interval '30 days'),
    -- usage_only keeps no prompt or response text at all
    constraint ai_logs_usage_only_keeps_no_text check (
        consent_level = 'redacted'
        or (prompt_redacted is null and response_redacted is null and structured_output is null)
    )
);

comment on table private.ai_logs is
'One row per AI provider call. Text only redacted, only with consent ''redacted''; 30 days.';
create index if not exists ai_logs_user_id_created_at_idx on private.ai_logs (user_id, created_at);
create index if not exists ai_logs_job_id_idx on private.ai_logs (job_id);
create index if not exists ai_logs_expires_at_idx on private.ai_logs (expires_at);
revoke all on table private.ai_logs from anon, authenticated, service_role;

create or replace function private.refuse_unredacted_ai_log()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_kind text := coalesce(
        private.blocked_pii_kind(new.prompt_redacted),
        private.blocked_pii_kind(new.response_redacted),
        private.blocked_pii_kind(new.structured_output::text),
        private.blocked_pii_kind(new.error)
    );
begin
    if v_kind is not null then
        raise exception 'ai_logs row refused: it still holds %', v_kind
        using errcode = 'check_violation',
        hint = 'Redact the text first (wayfare.redact); the row was not written.';
    end if;
    return new;
end;
$$;

-- The worker's one way in: consent is read from the user's profile here, not trusted from
-- the caller; with usage_only the texts are dropped before the row is written.
create or replace function private.log_ai_call(
    user_id uuid,
    job_id uuid,
    request_id text,
    provider text,
    model text,
    purpose text,
    prompt_redacted text,
    response_redacted text,
    structured_output jsonb,
    token_usage jsonb,
    duration_ms int,
    attempts int,
    error text
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_consent text;
    v_id uuid;
begin
    select p.ai_consent into v_consent from public.profiles as p where p.id = log_ai_call.user_id;
    v_consent := coalesce(v_consent, 'usage_only');
    insert into private.ai_logs (
        user_id, job_id, request_id, provider, model, purpose, prompt_redacted,
        response_redacted, structured_output, token_usage, duration_ms, attempts, error,
        consent_level
    )
    values (
        log_ai_call.user_id, log_ai_call.job_id, log_ai_call.request_id, log_ai_call.provider,
        log_ai_call.model, log_ai_call.purpose,
        case when v_consent = 'redacted' then log_ai_call.prompt_redacted end,
        case when v_consent = 'redacted' then log_ai_call.response_redacted end,
        case when v_consent = 'redacted' then log_ai_call.structured_output end,
        coalesce(log_ai_call.token_usage, '{}'::jsonb), log_ai_call.duration_ms,
        coalesce(log_ai_call.attempts, 1), log_ai_call.error, v_consent
    )
    returning id into v_id;
    return v_id;
end;
$$;
grant execute on function private.log_ai_call(
    uuid, uuid, text, text, text, text, text, text, jsonb, jsonb, int, int, text
) to wayfare_worker;

create or replace function private.purge_expired_ai_logs()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with gone as (
        delete from private.ai_logs as l where l.expires_at <= pg_catalog.now() returning 1
    )
    select pg_catalog.count(*) from gone
$$;

create or replace trigger ai_logs_refuse_unredacted
before insert or update on private.ai_logs
for each row execute function private.refuse_unredacted_ai_log();

select private.schedule(
    'wayfare-purge-expired-ai-logs', '23 * * * *', 'select private.purge_expired_ai_logs()'
);

-- ============================================================================
-- Booking emails through an outbox: a confirmation when a booking becomes confirmed, a notice
-- when a payment fails, a receipt when a refund is recorded. The transaction that changes the
-- booking writes one outbox row (an AFTER UPDATE trigger on public.bookings), with the recipient
-- read from auth.users at that moment, and enqueues an `email.send` job; the worker
-- (worker/handlers/email.py) renders and sends it over SMTP and records the outcome here. See
-- docs/payments.md, "Emails".
--
-- Exactly once: a unique dedupe key per (booking, kind, attempt) means a replayed webhook or a
-- retried job writes nothing more (and transitions happen once anyway: the state machine of
-- bookings_guard). The Message-ID is derived from the dedupe key, so a resend after a worker
-- crashed between sending and recording is recognisable as the same message.
--
-- Privacy: the row keeps the address and what the mail shows (to resend it), nothing else;
-- it goes with its booking (on delete cascade, the booking's retention) and with its user.
-- Only the definer functions below touch it; no API role has any privilege on it.
-- ============================================================================

create table if not exists private.email_outbox (
    id uuid primary key default gen_random_uuid(),
    booking_id uuid not null references public.bookings (id) on delete cascade,
    user_id uuid not null references auth.users (id) on delete cascade,
    kind text not null
    constraint email_outbox_kind_check check (kind in (
        'booking_confirmed', 'payment_failed', 'booking_refunded'
    )),
    -- <booking id>-<kind>-<attempt>: one mail per event, whoever replays it
    dedupe_key text not null constraint email_outbox_dedupe_key_key unique,
    -- the address in auth.users when the row was written; null once skipped
    recipient text,
    -- what the mail shows (hotel, dates, amounts), as it was when the booking changed
    details jsonb not null default '{}'::jsonb,
    status text not null default 'pending'
    constraint email_outbox_status_check check (status in ('pending', 'sent', 'failed', 'skipped')),
    attempts int not null default 0,
    -- the SMTP reply or connection error of the last failed attempt (addresses removed)
    last_error text constraint email_outbox_last_error_length check (char_length(last_error) <= 500),
    job_id uuid,
    created_at timestamptz not null default now(),
    last_attempt_at timestamptz,
    sent_at timestamptz,
    failed_at timestamptz
);

comment on table private.email_outbox is
'Transactional booking emails (docs/payments.md, Emails): one row per booking event, written by '
'the trigger bookings_email_outbox in the transaction that changed the booking; sent by the '
'email.send job. status pending | sent | failed (permanent SMTP error, or attempts exhausted) | '
'skipped (the user was deleted first). Rows go with their booking.';
create index if not exists email_outbox_booking_id_idx on private.email_outbox (booking_id);
create index if not exists email_outbox_user_id_idx on private.email_outbox (user_id);
create index if not exists email_outbox_created_at_idx on private.email_outbox (created_at);
create index if not exists email_outbox_failed_idx on private.email_outbox (failed_at)
where status = 'failed';
create index if not exists email_outbox_unscrubbed_idx on private.email_outbox (created_at)
where recipient is not null and status in ('sent', 'failed');
revoke all on table private.email_outbox from public, anon, authenticated, service_role;

-- ============================================================================
-- The job type
-- ============================================================================
create or replace function private.validate_email_job(input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform private.job_input_keys(input, array['outbox_id']);
    if pg_catalog.jsonb_typeof(input -> 'outbox_id') is distinct from 'string'
        or private.try_uuid(input ->> 'outbox_id') is null then
        perform private.raise_error(
            'VALIDATION_FAILED', 'input.outbox_id must be an outbox id.', 'input.outbox_id'
        );
    end if;
    return pg_catalog.jsonb_build_object('outbox_id', (input ->> 'outbox_id')::uuid);
end;
$$;

-- Temporary SMTP failures retry for about three hours (10 s doubling up to 30 min).
-- Lane: general (the default). The payments lane's few slots are kept for jobs that move
-- money (docs/jobs.md: a payment starts within a second); an SMTP server that hangs until its
-- timeout must not hold them. A mail waits behind other general jobs at worst.
-- noqa: disable=LT02
insert into private.job_types (
    type, description, validator, user_startable, max_attempts, lease_seconds, priority,
    retry_base, retry_cap, expires_after, retention
)
values
('email.send',
    'Sends one booking email of private.email_outbox over SMTP and records the outcome.',
    'private.validate_email_job(jsonb)', false, 12, 90, 30,
    interval '10 seconds', interval '30 minutes', interval '3 days', interval '30 days');

-- noqa: enable=LT02

-- ============================================================================
-- Writing the row: the trigger on bookings
-- ============================================================================

-- One outbox row (and its email.send job) for a booking event, unless its dedupe key exists or
-- the user has no address. Returns the row's id, or null when nothing was written.
create or replace function private.enqueue_booking_email(
    booking public.bookings, kind text, attempt text
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_recipient text;
    v_hotel public.hotels;
    v_id uuid;
begin
    select nullif(pg_catalog.btrim(u.email), '') into v_recipient
    from auth.users as u
    where u.id = booking.user_id and u.deleted_at is null;
    if v_recipient is null then
        return null;  -- no address (a phone-only user) or no user: nobody to write to
    end if;
    select h.* into v_hotel from public.hotels as h where h.id = booking.hotel_id;

    insert into private.email_outbox as o (
        booking_id, user_id, kind, dedupe_key, recipient, details
    )
    values (
        booking.id, booking.user_id, enqueue_booking_email.kind,
        pg_catalog.format('%s-%s-%s', booking.id, enqueue_booking_email.kind,
            enqueue_booking_email.attempt),
        v_recipient,
        pg_catalog.jsonb_build_object(
            'booking_id', booking.id,
            'status', booking.status,
            'hotel', v_hotel.name,
            'city', v_hotel.city,
            'check_in', booking.check_in,
            'check_out', booking.check_out,
            'nights', booking.check_out - booking.check_in,
            'amount', booking.amount,
            'currency', booking.currency,
            'amount_refunded', booking.amount_refunded,
            'error', booking.error
        )
    )
    on conflict (dedupe_key) do nothing
    returning o.id into v_id;
    if v_id is null then
        return null;  -- this event's mail exists already
    end if;
    update private.email_outbox as o
    set job_id = private.enqueue_job('email.send', pg_catalog.jsonb_build_object('outbox_id', v_id), null)
    where o.id = v_id;
    return v_id;
end;
$$;

-- AFTER UPDATE of a booking: confirmed (once: the state machine never returns to it), a
-- payment failure (each transition into payment_failed is a new attempt), a refund recorded
-- (amount_refunded grew: the worker's record_refund and the charge.refunded webhook record the
-- same amount, so the second finds the key taken).
create or replace function private.booking_email_outbox()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_failures bigint;
begin
    if new.amount_refunded > old.amount_refunded then
        perform private.enqueue_booking_email(new, 'booking_refunded', new.amount_refunded::text);
    elsif new.status = 'confirmed' and old.status <> 'confirmed' then
        perform private.enqueue_booking_email(new, 'booking_confirmed', '1');
    elsif new.status = 'payment_failed' and old.status <> 'payment_failed' then
        -- the booking's row lock (this update holds it) serialises its transitions
        select pg_catalog.count(*) into v_failures
        from private.email_outbox as o
        where o.booking_id = new.id and o.kind = 'payment_failed';
        perform private.enqueue_booking_email(new, 'payment_failed', (v_failures + 1)::text);
    end if;
    return null;
end;
$$;

-- ============================================================================
-- The worker's side (worker/handlers/email.py, role wayfare_worker)
-- ============================================================================

-- Start an attempt: the row (locked, attempts + 1) with what the mail needs, or
-- {"status": ...} when there is nothing to send (sent, failed, skipped), or null when the row
-- is gone (its booking or user was deleted). A user deleted since (soft-deleted in auth.users)
-- gets nothing: the row is skipped and its address forgotten. A pending row without an address
-- (scrubbed, then put back by hand) is skipped instead of sent.
create or replace function private.email_to_send(outbox_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_row private.email_outbox;
begin
    select o.* into v_row from private.email_outbox as o
    where o.id = email_to_send.outbox_id
    for update;
    if not found then
        return null;
    end if;
    if v_row.status <> 'pending' then
        return pg_catalog.jsonb_build_object('id', v_row.id, 'status', v_row.status);
    end if;
    if v_row.recipient is null or not exists (
        select 1 from auth.users as u where u.id = v_row.user_id and u.deleted_at is null
    ) then
        update private.email_outbox as o
        set status = 'skipped', recipient = null, details = '{}'::jsonb,
            last_error = case when v_row.recipient is null
                then 'The address was cleared before the mail was sent.'
                else 'The user was deleted before the mail was sent.' end
        where o.id = v_row.id;
        return pg_catalog.jsonb_build_object('id', v_row.id, 'status', 'skipped');
    end if;
    update private.email_outbox as o
    set attempts = o.attempts + 1, last_attempt_at = pg_catalog.now()
    where o.id = v_row.id;
    return pg_catalog.jsonb_build_object(
        'id', v_row.id,
        'status', v_row.status,
        'kind', v_row.kind,
        'dedupe_key', v_row.dedupe_key,
        'recipient', v_row.recipient,
        'details', v_row.details,
        'attempts', v_row.attempts + 1
    );
end;
$$;
grant execute on function private.email_to_send(uuid) to wayfare_worker;

-- The server accepted the mail. Returns the row's status afterwards (null: the row is gone).
create or replace function private.email_sent(outbox_id uuid)
returns text
language sql
security definer
set search_path = ''
as $$
    update private.email_outbox as o
    set status = case when o.status = 'pending' then 'sent' else o.status end,
        sent_at = coalesce(o.sent_at, pg_catalog.now()),
        last_error = null
    where o.id = email_sent.outbox_id
    returning o.status
$$;
grant execute on function private.email_sent(uuid) to wayfare_worker;

-- An attempt failed: keep the reason (one line, at most 500 characters); a permanent failure
-- (5xx, or the last attempt) marks the row failed, which /ops shows.
create or replace function private.email_failed(outbox_id uuid, error text, permanent boolean)
returns text
language sql
security definer
set search_path = ''
as $$
    update private.email_outbox as o
    set last_error = coalesce(
            private.user_safe_error(email_failed.error), 'The mail could not be sent.'
        ),
        status = case when email_failed.permanent and o.status = 'pending' then 'failed'
            else o.status end,
        failed_at = case when email_failed.permanent and o.status = 'pending'
            then pg_catalog.now() else o.failed_at end
    where o.id = email_failed.outbox_id
    returning o.status
$$;
grant execute on function private.email_failed(uuid, text, boolean) to wayfare_worker;

-- Data minimisation: an outbox row needs the address and what the mail shows only while it may
-- still be sent. Once it is sent or failed, both are kept 30 days (support: "which address did
-- the confirmation go to?"), then cleared by pg_cron; the row itself (kind, dedupe key, times,
-- attempts, SMTP reason) stays as long as its booking. A row without an address is never sent: an
-- operator's resend of a scrubbed row ends skipped.
create or replace function private.scrub_sent_emails(older_than interval default interval '30 days')
returns bigint
language sql
security definer
set search_path = ''
as $$
    with scrubbed as (
        update private.email_outbox as o
        set recipient = null, details = '{}'::jsonb
        where
            o.status in ('sent', 'failed')
            and o.recipient is not null
            and coalesce(o.sent_at, o.failed_at, o.created_at)
            < pg_catalog.now() - scrub_sent_emails.older_than
        returning 1
    )
    select pg_catalog.count(*) from scrubbed
$$;

-- ============================================================================
-- Operators: /ops (webhook/ops.py) reads this beside private.ops_snapshot. No addresses.
-- ============================================================================
create or replace function private.email_outbox_snapshot(
    time_window interval default interval '24 hours'
)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    select pg_catalog.jsonb_build_object(
        'window_seconds', pg_catalog.date_part('epoch', time_window),
        'by_status', coalesce((
            select pg_catalog.jsonb_object_agg(s.status, s.n)
            from (
                select o.status, pg_catalog.count(*) as n
                from private.email_outbox as o
                where o.created_at >= pg_catalog.now() - time_window
                group by o.status
            ) as s
        ), '{}'::jsonb),
        'pending', (
            select pg_catalog.count(*) from private.email_outbox as o where o.status = 'pending'
        ),
        'oldest_pending_seconds', (
            select pg_catalog.date_part('epoch', pg_catalog.now() - pg_catalog.min(o.created_at))
            from private.email_outbox as o where o.status = 'pending'
        ),
        'failed', coalesce((
            select pg_catalog.jsonb_agg(f.item order by f.failed_at desc)
            from (
                select o.failed_at, pg_catalog.jsonb_build_object(
                    'id', o.id, 'booking_id', o.booking_id, 'kind', o.kind,
                    'attempts', o.attempts, 'error', o.last_error, 'failed_at', o.failed_at
                ) as item
                from private.email_outbox as o
                where o.status = 'failed' and o.failed_at >= pg_catalog.now() - time_window
                order by o.failed_at desc
                limit 20
            ) as f
        ), '[]'::jsonb)
    )
$$;
grant execute on function private.email_outbox_snapshot(interval) to wayfare_web;

create or replace trigger bookings_email_outbox
after update on public.bookings
for each row
when (
    new.status is distinct from old.status
    or new.amount_refunded is distinct from old.amount_refunded
)
execute function private.booking_email_outbox();

select private.schedule(
    'wayfare-scrub-sent-emails', '53 3 * * *', 'select private.scrub_sent_emails()'
);

-- ============================================================================
-- Operations
-- ============================================================================

-- One snapshot of the system's health for the web service's /ops page and the
-- database-derived series of /metrics (docs/ops.md). Read-only; granted to wayfare_web.
create or replace function private.ops_snapshot(time_window interval default interval '1 hour')
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    with recent as (
        select
            j.type,
            j.status,
            pg_catalog.date_part('epoch', j.started_at - j.created_at) as pickup_s,
            pg_catalog.date_part('epoch', j.completed_at - j.created_at) as latency_s,
            pg_catalog.date_part('epoch', j.completed_at - j.started_at) as run_s,
            pg_catalog.date_trunc('minute', j.completed_at) as minute
        from public.jobs as j
        where j.completed_at >= pg_catalog.now() - time_window
    ),
    queue as (
        select
            j.type,
            pg_catalog.count(*) filter (where j.status = 'queued') as queued,
            pg_catalog.count(*) filter (where j.status = 'processing') as processing,
            pg_catalog.max(pg_catalog.now() - j.created_at) filter (
                where j.status = 'queued' and j.run_at <= pg_catalog.now()
            ) as oldest
        from public.jobs as j
        where j.status in ('queued', 'processing')
        group by j.type
    ),
    ai as (
        select
            l.model,
            pg_catalog.count(*) as calls,
            pg_catalog.count(*) filter (where l.error is not null) as errors,
            coalesce(pg_catalog.sum((l.token_usage ->> 'total_tokens')::bigint), 0) as tokens
        from private.ai_logs as l
        where l.created_at >= pg_catalog.now() - time_window
        group by l.model
    ),
    hooks as (
        select
            e.outcome,
            e.type,
            pg_catalog.date_part('epoch', e.received_at - e.created) as lag_s,
            e.received_at
        from private.stripe_events as e
        where e.received_at >= pg_catalog.now() - time_window
    )
    select pg_catalog.jsonb_build_object(
        'generated_at', pg_catalog.now(),
        'window_seconds', pg_catalog.date_part('epoch', time_window),
        'queue', pg_catalog.jsonb_build_object(
            'queued', coalesce((select pg_catalog.sum(q.queued) from queue as q), 0),
            'processing', coalesce((select pg_catalog.sum(q.processing) from queue as q), 0),
            'oldest_queued_seconds', (
                select pg_catalog.date_part('epoch', pg_catalog.max(q.oldest)) from queue as q
            ),
            'by_type', coalesce((
                select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                    'type', q.type, 'queued', q.queued, 'processing', q.processing,
                    'oldest_queued_seconds', pg_catalog.date_part('epoch', q.oldest)
                ) order by q.type)
                from queue as q
            ), '[]'::jsonb)
        ),
        'jobs', pg_catalog.jsonb_build_object(
            'completed', (select pg_catalog.count(*) from recent as r where r.status = 'completed'),
            'failed', (select pg_catalog.count(*) from recent as r where r.status = 'failed'),
            'cancelled', (select pg_catalog.count(*) from recent as r where r.status = 'cancelled'),
            'latency_seconds', (
                select pg_catalog.jsonb_build_object(
                    'p50', pg_catalog.percentile_cont(0.5) within group (order by r.latency_s),
                    'p95', pg_catalog.percentile_cont(0.95) within group (order by r.latency_s),
                    'p99', pg_catalog.percentile_cont(0.99) within group (order by r.latency_s)
                )
                from recent as r where r.status = 'completed'
            ),
            'pickup_seconds', (
                select pg_catalog.jsonb_build_object(
                    'p50', pg_catalog.percentile_cont(0.5) within group (order by r.pickup_s),
                    'p95', pg_catalog.percentile_cont(0.95) within group (order by r.pickup_s),
                    'p99', pg_catalog.percentile_cont(0.99) within group (order by r.pickup_s)
                )
                from recent as r where r.pickup_s is not null
            ),
            'by_type', coalesce((
                select pg_catalog.jsonb_agg(t.item order by t.type)
                from (
                    select r.type, pg_catalog.jsonb_build_object(
                        'type', r.type,
                        'completed', pg_catalog.count(*) filter (where r.status = 'completed'),
                        'failed', pg_catalog.count(*) filter (where r.status = 'failed'),
                        'cancelled', pg_catalog.count(*) filter (where r.status = 'cancelled'),
                        'run_seconds_p50', pg_catalog.percentile_cont(0.5)
                        within group (order by r.run_s),
                        'run_seconds_p95', pg_catalog.percentile_cont(0.95)
                        within group (order by r.run_s),
                        'run_seconds_sum', coalesce(pg_catalog.sum(r.run_s), 0)
                    ) as item
                    from recent as r group by r.type
                ) as t
            ), '[]'::jsonb),
            'per_minute', coalesce((
                select pg_catalog.jsonb_agg(m.item order by m.minute)
                from (
                    select r.minute, pg_catalog.jsonb_build_object(
                        'minute', r.minute,
                        'completed', pg_catalog.count(*) filter (where r.status = 'completed'),
                        'failed', pg_catalog.count(*) filter (where r.status = 'failed'),
                        'latency_p95', pg_catalog.percentile_cont(0.95)
                        within group (order by r.latency_s)
                    ) as item
                    from recent as r group by r.minute
                ) as m
            ), '[]'::jsonb)
        ),
        'ai', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'model', a.model, 'calls', a.calls, 'errors', a.errors, 'tokens', a.tokens
            ) order by a.model)
            from ai as a
        ), '[]'::jsonb),
        'webhooks', pg_catalog.jsonb_build_object(
            'events', (select pg_catalog.count(*) from hooks),
            'by_outcome', coalesce((
                select pg_catalog.jsonb_object_agg(o.outcome, o.n)
                from (
                    select coalesce(h.outcome, 'pending') as outcome, pg_catalog.count(*) as n
                    from hooks as h group by 1
                ) as o
            ), '{}'::jsonb),
            'lag_seconds_p50', (
                select pg_catalog.percentile_cont(0.5) within group (order by h.lag_s)
                from hooks as h
            ),
            'lag_seconds_p95', (
                select pg_catalog.percentile_cont(0.95) within group (order by h.lag_s)
                from hooks as h
            ),
            'last_received_at', (
                select pg_catalog.max(e.received_at) from private.stripe_events as e
            )
        ),
        'bookings', coalesce((
            select pg_catalog.jsonb_object_agg(b.status, b.n)
            from (
                select bk.status, pg_catalog.count(*) as n
                from public.bookings as bk group by bk.status
            ) as b
        ), '{}'::jsonb)
    )
$$;
grant execute on function private.ops_snapshot(interval) to wayfare_web;

-- One row per public function called at top level (PostgREST calls an RPC as
-- `... "public"."create_trip"(...) ...`): calls, mean, max and total execution time in ms,
-- summed over the statement shapes that call it, in this database. A definer because
-- pg_stat_statements shows other roles' query text only to pg_read_all_stats; the grant to
-- wayfare_web (the web service's role) is the check; the result holds no query text.
create or replace function private.rpc_query_stats()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_rows jsonb;
begin
    if to_regclass('extensions.pg_stat_statements') is null then
        return jsonb_build_object(
            'available', false, 'reason', 'pg_stat_statements is not installed',
            'rpcs', '[]'::jsonb
        );
    end if;
    begin
        execute $query$
            select coalesce(jsonb_agg(to_jsonb(r) order by r.total_ms desc), '[]'::jsonb)
            from (
                select
                    f.rpc,
                    sum(s.calls)::bigint as calls,
                    round((sum(s.total_exec_time) / nullif(sum(s.calls), 0))::numeric, 3)
                        as mean_ms,
                    round(max(s.max_exec_time)::numeric, 3) as max_ms,
                    round(sum(s.total_exec_time)::numeric, 3) as total_ms
                from extensions.pg_stat_statements as s
                cross join lateral (
                    select substring(s.query from '"public"\."([a-z0-9_]+)"\(') as rpc
                ) as f
                where
                    s.dbid = (
                        select d.oid from pg_catalog.pg_database as d
                        where d.datname = pg_catalog.current_database()
                    )
                    and f.rpc in (
                        select p.proname from pg_catalog.pg_proc as p
                        where p.pronamespace = 'public'::regnamespace
                    )
                group by f.rpc
            ) as r
        $query$ into v_rows;
    exception when object_not_in_prerequisite_state then
        return jsonb_build_object(
            'available', false,
            'reason', 'pg_stat_statements is not in shared_preload_libraries',
            'rpcs', '[]'::jsonb
        );
    end;
    return jsonb_build_object('available', true, 'rpcs', v_rows);
end
$$;
grant execute on function private.rpc_query_stats() to wayfare_web;

-- ============================================================================
-- PostgREST picks the new configuration (the pre-request function, the time limits) and the
-- schema up without a restart.
-- ============================================================================
notify pgrst, 'reload config';
notify pgrst, 'reload schema';
