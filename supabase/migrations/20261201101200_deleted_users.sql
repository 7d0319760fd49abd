-- A well-signed token whose user no longer exists is no identity (issue 10 #5, contract §2):
-- 401 UNAUTHORIZED, never the 500 INTERNAL (retryable) that the foreign key on user_id gave.
-- private.require_user() (every RPC and definer helper calls it) now looks the user up in
-- auth.users, so it is a definer; direct writes to trips and activities meet the same check
-- in a trigger that runs before the write rules' triggers.

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

-- Direct writes through PostgREST: a signed-in caller must still exist (service_role and
-- postgres, which have no auth.uid(), write as before).
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

-- "a0_" sorts before the write rules' "a_" triggers: who writes is checked before what.
create or replace trigger a0_trips_check_writer
before insert or update on public.trips
for each row execute function private.check_writer();

create or replace trigger a0_activities_check_writer
before insert or update on public.activities
for each row execute function private.check_writer();
