-- bookings: a user sees only their own bookings and changes none of them directly. Rows are
-- made by public.create_booking and moved only by the worker and Stripe webhooks (through
-- private definer functions); the state machine trigger guards every change.
alter table public.bookings enable row level security;
select private.drop_policies('public.bookings');

create policy "Users can view their own bookings"
on public.bookings for select
to authenticated
using ((select auth.uid()) = user_id);
