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
