-- hotels: the catalogue. Anyone, signed in or not, sees the hotels that take bookings; nobody
-- changes them through the API (operators use the service role or migrations).
alter table public.hotels enable row level security;
select private.drop_policies('public.hotels');

create policy "Anyone can view active hotels"
on public.hotels for select
to anon, authenticated
using (active);
