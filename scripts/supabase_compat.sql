-- Supabase compatibility for plain Postgres (local development and CI only; never a migration).
-- Creates what a Supabase database already has, only where it is missing:
-- roles anon, authenticated, service_role, authenticator; schemas auth and extensions;
-- auth.users; auth.uid(), auth.role(), auth.email(), auth.jwt(); Supabase's default grants.
-- On a real Supabase database (role supabase_auth_admin exists) it changes nothing.
do $compat$
begin
    if exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
        raise notice 'supabase compat: real Supabase database detected, nothing to do';
        return;
    end if;

    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
    grant anon to authenticator;
    grant authenticated to authenticator;
    grant service_role to authenticator;

    create schema if not exists extensions;
    create schema if not exists auth;
    grant usage on schema extensions to anon;
    grant usage on schema extensions to authenticated;
    grant usage on schema extensions to service_role;
    grant usage on schema auth to anon;
    grant usage on schema auth to authenticated;
    grant usage on schema auth to service_role;

    create table if not exists auth.users (
        instance_id uuid,
        id uuid primary key,
        aud varchar(255) default 'authenticated',
        role varchar(255) default 'authenticated',
        email varchar(255) unique,
        phone text unique,
        raw_app_meta_data jsonb default '{"provider": "email", "providers": ["email"]}',
        raw_user_meta_data jsonb default '{}',
        is_anonymous boolean not null default false,
        created_at timestamptz default now(),
        updated_at timestamptz default now()
    );

    create or replace function auth.jwt() returns jsonb
    language sql stable
    as $f$
        select coalesce(
            nullif(current_setting('request.jwt.claim', true), ''),
            nullif(current_setting('request.jwt.claims', true), '')
        )::jsonb
    $f$;

    create or replace function auth.uid() returns uuid
    language sql stable
    as $f$
        select coalesce(
            nullif(current_setting('request.jwt.claim.sub', true), ''),
            (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
    $f$;

    create or replace function auth.role() returns text
    language sql stable
    as $f$
        select coalesce(
            nullif(current_setting('request.jwt.claim.role', true), ''),
            (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
        )::text
    $f$;

    create or replace function auth.email() returns text
    language sql stable
    as $f$
        select coalesce(
            nullif(current_setting('request.jwt.claim.email', true), ''),
            (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
        )::text
    $f$;

    grant execute on function auth.jwt() to anon, authenticated, service_role;
    grant execute on function auth.uid() to anon, authenticated, service_role;
    grant execute on function auth.role() to anon, authenticated, service_role;
    grant execute on function auth.email() to anon, authenticated, service_role;

    -- Supabase's defaults: the API roles may use schema public, and new objects that
    -- postgres creates there are granted to them (RLS and explicit revokes do the rest).
    grant usage on schema public to anon;
    grant usage on schema public to authenticated;
    grant usage on schema public to service_role;
    alter default privileges for role postgres in schema public
        grant all on tables to anon, authenticated, service_role;
    alter default privileges for role postgres in schema public
        grant all on functions to anon, authenticated, service_role;
    alter default privileges for role postgres in schema public
        grant all on sequences to anon, authenticated, service_role;

end
$compat$;
