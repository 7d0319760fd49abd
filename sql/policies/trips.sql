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
