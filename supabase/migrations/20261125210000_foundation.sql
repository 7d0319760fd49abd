-- Foundation: privileges, the private schema, shared helpers, profiles, trips and activities.
-- RLS policies live in sql/policies/<table>.sql and reach the database through the
-- generated *_policies.sql migrations (scripts/policies.py keeps the two in step).

-- ============================================================================
-- Privileges: nothing is executable by default; every RPC is granted on purpose.
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
-- Shared helpers
-- ============================================================================
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

create or replace trigger profiles_set_updated_at
before update on public.profiles
for each row execute function private.set_updated_at();

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

create or replace trigger trips_set_updated_at
before update on public.trips
for each row execute function private.set_updated_at();

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

create or replace trigger activities_set_updated_at
before update on public.activities
for each row execute function private.set_updated_at();

-- ============================================================================
-- Grants: Supabase grants everything in public to the API roles by default; take it back
-- and give each role only what it needs. RLS (sql/policies) decides which rows.
-- ============================================================================
revoke all on table public.profiles, public.trips, public.activities from anon, authenticated;
grant all on table public.profiles, public.trips, public.activities to service_role;

grant select on table public.profiles to authenticated;
grant update (ai_consent) on table public.profiles to authenticated;

grant select, delete on table public.trips to authenticated;
grant insert (user_id, title, destination, start_date, end_date, client_temp_id)
on table public.trips to authenticated;
grant update (title, destination, start_date, end_date) on table public.trips to authenticated;

grant select, delete on table public.activities to authenticated;
grant insert (trip_id, user_id, title, starts_at, ends_at, location, notes, client_temp_id)
on table public.activities to authenticated;
grant update (title, starts_at, ends_at, location, notes) on table public.activities
to authenticated;
