-- Per-database settings that no migration writes: the environment a database serves.
-- A hosted project has no row, so it is 'production'. The local stack marks its databases
-- as development with supabase/seed.sql (loaded after each push, never a migration), which
-- lets users start the demo job types there (contract §8, docs/jobs.md).

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
