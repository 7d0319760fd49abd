-- jobs: a user sees only their own jobs; nobody writes through the API (start_job,
-- start_research and cancel_job write through definer helpers, the worker through its own
-- functions). anon sees none. Internal state (leases, error text) is in private tables.
alter table public.jobs enable row level security;
select private.drop_policies('public.jobs');

create policy "Users can view their own jobs"
on public.jobs for select
to authenticated
using ((select auth.uid()) = user_id);
