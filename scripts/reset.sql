-- Drop Wayfare's schemas and migration history so the migrations can run again from empty.
-- The compat layer (roles, auth) stays: it is not Wayfare's.
do $reset$
begin
    if exists (select 1 from pg_extension where extname = 'pg_cron') then
        perform cron.unschedule(jobid) from cron.job;
    end if;
end
$reset$;
drop schema if exists public cascade;
drop schema if exists private cascade;
drop schema if exists supabase_migrations cascade;
do $users$
begin
    if to_regclass('auth.users') is not null then
        delete from auth.users;
    end if;
end
$users$;
create schema public;
grant usage on schema public to anon;
grant usage on schema public to authenticated;
grant usage on schema public to service_role;
grant all on schema public to postgres;
