-- Supabase compatibility for plain Postgres (local development and CI only; never a migration).
-- Creates what a Supabase database already has, only where it is missing:
-- roles anon, authenticated, service_role, authenticator; schemas auth and extensions;
-- auth.users; auth.uid(), auth.role(), auth.email(), auth.jwt(); Supabase's default grants;
-- GoTrue's auth.sessions and auth.refresh_tokens for the local Auth stand-in (devstack/auth).
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

    -- Auth stand-in (devstack/auth, H9auth): the columns and tables of GoTrue's schema that
    -- it reads and writes. Added where missing, so databases made before stay usable.
    alter table auth.users add column if not exists encrypted_password varchar(255);
    alter table auth.users add column if not exists email_confirmed_at timestamptz;
    alter table auth.users add column if not exists phone_confirmed_at timestamptz;
    alter table auth.users add column if not exists confirmed_at timestamptz
    generated always as (least(email_confirmed_at, phone_confirmed_at)) stored;
    alter table auth.users add column if not exists invited_at timestamptz;
    alter table auth.users add column if not exists confirmation_sent_at timestamptz;
    alter table auth.users add column if not exists last_sign_in_at timestamptz;
    alter table auth.users add column if not exists banned_until timestamptz;
    alter table auth.users add column if not exists is_super_admin boolean;
    alter table auth.users add column if not exists is_sso_user boolean not null default false;
    alter table auth.users add column if not exists deleted_at timestamptz;

    if not exists (
        select 1 from pg_type
        where typname = 'aal_level' and typnamespace = 'auth'::regnamespace
    ) then
        create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
    end if;

    create table if not exists auth.sessions (
        id uuid primary key,
        user_id uuid not null references auth.users (id) on delete cascade,
        created_at timestamptz default now(),
        updated_at timestamptz default now(),
        factor_id uuid,
        aal auth.aal_level,
        not_after timestamptz,
        refreshed_at timestamp,
        user_agent text,
        ip inet,
        tag text
    );
    create index if not exists sessions_user_id_idx on auth.sessions (user_id);

    create table if not exists auth.refresh_tokens (
        instance_id uuid,
        id bigserial primary key,
        token varchar(255) unique,
        user_id varchar(255),
        revoked boolean,
        created_at timestamptz default now(),
        updated_at timestamptz default now(),
        parent varchar(255),
        session_id uuid references auth.sessions (id) on delete cascade
    );
    create index if not exists refresh_tokens_session_id_revoked_idx
    on auth.refresh_tokens (session_id, revoked);
    create index if not exists refresh_tokens_parent_idx on auth.refresh_tokens (parent);

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
