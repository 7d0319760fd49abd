-- activities: a user sees, creates, changes and deletes only their own activities, and only
-- on their own trips (the composite key activities_trip_owner_fkey also enforces it).
alter table public.activities enable row level security;
select private.drop_policies('public.activities');

create policy "Users can view their own activities"
on public.activities for select
to authenticated
using ((select auth.uid()) = user_id);

create policy "Users can add activities to their own trips"
on public.activities for insert
to authenticated
with check (
    (select auth.uid()) = user_id
    and exists (
        select 1 from public.trips as t
        where t.id = activities.trip_id and t.user_id = (select auth.uid())
    )
);

create policy "Users can update their own activities"
on public.activities for update
to authenticated
using ((select auth.uid()) = user_id)
with check ((select auth.uid()) = user_id);

create policy "Users can delete their own activities"
on public.activities for delete
to authenticated
using ((select auth.uid()) = user_id);
