-- pgTAP helpers (test databases only; never a migration), after basejump's supabase-test-helpers.
create extension if not exists pgtap with schema extensions;
-- Wayfare revokes execute from public by default; the test roles need pgTAP itself.
grant execute on all functions in schema extensions to anon, authenticated, service_role;
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

create or replace function tests.create_user(email text)
returns uuid
language sql
security definer
set search_path = ''
as $$
    insert into auth.users (id, email) values (gen_random_uuid(), email) returning id
$$;

-- Act as a signed-in user for the rest of the transaction, as PostgREST would.
create or replace function tests.authenticate_as(user_id uuid)
returns void
language sql
as $$
    select set_config('role', 'authenticated', true),
           set_config('request.jwt.claims',
                      json_build_object('sub', user_id, 'role', 'authenticated')::text, true)
$$;

create or replace function tests.authenticate_as_anon()
returns void
language sql
as $$
    select set_config('role', 'anon', true),
           set_config('request.jwt.claims', '{"role": "anon"}', true)
$$;

create or replace function tests.authenticate_as_service_role()
returns void
language sql
as $$
    select set_config('role', 'service_role', true),
           set_config('request.jwt.claims', '{"role": "service_role"}', true)
$$;

-- Back to the superuser that runs the test file.
create or replace function tests.clear_authentication()
returns void
language sql
as $$
    select set_config('role', 'none', true), set_config('request.jwt.claims', '', true)
$$;

-- How many rows a statement changed, run as the current role.
create or replace function tests.rows_affected(statement text)
returns bigint
language plpgsql
as $$
declare
    n bigint;
begin
    execute statement;
    get diagnostics n = row_count;
    return n;
end;
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;
