-- Seed data out of migrations (issue 13): the eight demo hotels that 20261125230000_payments.sql
-- inserted (invented prices, one of them closed) are development data. They now live in
-- supabase/seed.sql, which the local stack loads after every push and `supabase db push` never
-- runs. On a database that is not development (private.environment() <> 'development': a
-- hosted project, where no row marks it) this removes them; a demo hotel that already has
-- bookings cannot be deleted (bookings.hotel_id is `on delete restrict`) and is kept but
-- deactivated, so its bookings keep their hotel and nobody books it again.
-- On a fresh local database this runs before the seed, which puts them back. (The delete runs
-- as a data-modifying CTE: always, once, whether or not the update reads it.)
with demo (id) as (
    values
    ('985c87ec-1d28-4b09-ac8c-3484ea1965c4'::uuid),
    ('60e10640-ce6d-494b-8d84-e8c4fcf60c64'::uuid),
    ('3d30d944-af96-4a85-a3dd-118632506945'::uuid),
    ('d1b0f935-d448-4aaf-ba3d-0b7c2bc4af69'::uuid),
    ('9c9bf79b-f9f6-4540-89c8-a78ef2019809'::uuid),
    ('3b163075-f5c1-4b7f-aff6-8a8a21c4d4d0'::uuid),
    ('ce977c9d-ab64-4b6f-b7a2-52d241d287af'::uuid),
    ('6c38523d-8145-405d-8711-310a8d448acc'::uuid)
),

unused as (
    delete from public.hotels as h
    using demo as d
    where
        h.id = d.id
        and private.environment() <> 'development'
        and not exists (select 1 from public.bookings as b where b.hotel_id = h.id)
    returning h.id
)

update public.hotels as h set active = false
from demo as d
where
    h.id = d.id
    and h.active
    and private.environment() <> 'development'
    and exists (select 1 from public.bookings as b where b.hotel_id = h.id);
