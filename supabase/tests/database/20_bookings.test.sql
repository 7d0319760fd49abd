-- Bookings: the state machine (docs/payments.md) holds for every role, even the ones that bypass
-- RLS; a booking's facts never change; users read only their own and write nothing; anon and
-- users read the active hotels.
begin;
select plan(105);

select tests.create_user('alice@bookings.test') as alice \gset
select tests.create_user('bob@bookings.test') as bob \gset

-- The allowed transitions, exactly as docs/payments.md lists them.
create temporary table allowed (from_status text, to_status text) on commit drop;
insert into allowed values
('payment_pending', 'processing'), ('payment_pending', 'paid'),
('payment_pending', 'payment_failed'), ('payment_pending', 'cancelled'),
('processing', 'paid'), ('processing', 'payment_failed'), ('processing', 'cancelled'),
('payment_failed', 'payment_pending'), ('payment_failed', 'processing'),
('payment_failed', 'paid'), ('payment_failed', 'cancelled'),
('paid', 'confirmed'), ('paid', 'cancelled'),
('confirmed', 'completed'), ('confirmed', 'cancelled');

create temporary table statuses (status text, path text []) on commit drop;
insert into statuses values
('payment_pending', '{}'), ('processing', '{processing}'),
('payment_failed', '{payment_failed}'), ('paid', '{paid}'),
('confirmed', '{paid,confirmed}'), ('completed', '{paid,confirmed,completed}'),
('cancelled', '{cancelled}');
grant select on allowed, statuses to service_role;

-- A new booking of alice's, walked (legally) to the given status; as the current role.
create function pg_temp.booking_in(wanted text, owner uuid)
returns uuid
language plpgsql
as $$
declare
    v_id uuid;
    v_step text;
begin
    insert into public.bookings (user_id, hotel_id, check_in, check_out, amount, currency)
    values (owner, '985c87ec-1d28-4b09-ac8c-3484ea1965c4', current_date + 1, current_date + 3,
        43000, 'EUR')
    returning id into v_id;
    for v_step in select unnest(s.path) from statuses as s where s.status = wanted loop
        update public.bookings set status = v_step where id = v_id;
    end loop;
    return v_id;
end;
$$;
grant execute on function pg_temp.booking_in(text, uuid) to service_role;

-- ============================================================================
-- Every pair of statuses, as postgres: the 15 allowed transitions work, the 27 others raise
-- ============================================================================
select
    case when a.from_status is not null then
        lives_ok(
            format('update public.bookings set status = %L where id = %L', t.status,
                pg_temp.booking_in(f.status, :'alice')),
            format('postgres: %s -> %s is allowed', f.status, t.status)
        )
    else
        throws_ok(
            format('update public.bookings set status = %L where id = %L', t.status,
                pg_temp.booking_in(f.status, :'alice')),
            'PGRST', null,
            format('postgres: %s -> %s is refused', f.status, t.status)
        )
    end
from statuses as f
cross join statuses as t
left join allowed as a on a.from_status = f.status and a.to_status = t.status
where f.status <> t.status
order by f.status, t.status;

-- ============================================================================
-- The same as service_role (bypasses RLS, holds every table privilege)
-- ============================================================================
select tests.authenticate_as_service_role();
select
    case when a.from_status is not null then
        lives_ok(
            format('update public.bookings set status = %L where id = %L', t.status,
                pg_temp.booking_in(f.status, :'alice')),
            format('service_role: %s -> %s is allowed', f.status, t.status)
        )
    else
        throws_ok(
            format('update public.bookings set status = %L where id = %L', t.status,
                pg_temp.booking_in(f.status, :'alice')),
            'PGRST', null,
            format('service_role: %s -> %s is refused', f.status, t.status)
        )
    end
from statuses as f
cross join statuses as t
left join allowed as a on a.from_status = f.status and a.to_status = t.status
where f.status <> t.status
order by f.status, t.status;
select tests.clear_authentication();

-- ============================================================================
-- The refusal is INVALID_STATE (docs/errors.md); the states' times are stamped
-- ============================================================================
select pg_temp.booking_in('completed', :'alice') as done \gset
select throws_like(
    format('update public.bookings set status = %L where id = %L', 'cancelled', :'done'),
    '%"code": "INVALID_STATE"%"message": "A booking cannot go from completed to cancelled."%',
    'a refused transition raises INVALID_STATE naming both states'
);
select ok(
    (select paid_at is not null and confirmed_at is not null and completed_at is not null
        and cancelled_at is null from public.bookings where id = :'done'),
    'paid_at, confirmed_at and completed_at are stamped on the way'
);

-- ============================================================================
-- A booking starts as payment_pending; its facts and PaymentIntent never change
-- ============================================================================
select throws_ok(
    format($$ insert into public.bookings (user_id, hotel_id, check_in, check_out, amount,
        currency, status) values (%L, '985c87ec-1d28-4b09-ac8c-3484ea1965c4',
        current_date + 1, current_date + 2, 21500, 'EUR', 'paid') $$, :'alice'),
    'PGRST', null, 'a booking cannot be inserted as paid'
);
select pg_temp.booking_in('payment_pending', :'alice') as pending \gset
select throws_ok(
    format('update public.bookings set amount = 1 where id = %L', :'pending'),
    'PGRST', null, 'the amount cannot change, even for postgres'
);
select throws_ok(
    format('update public.bookings set user_id = %L where id = %L', :'bob', :'pending'),
    'PGRST', null, 'the owner cannot change'
);
select throws_ok(
    format('update public.bookings set check_out = check_out + 1 where id = %L', :'pending'),
    'PGRST', null, 'the dates cannot change'
);
select lives_ok(
    format('update public.bookings set payment_intent_id = %L where id = %L', 'pi_first',
        :'pending'),
    'the PaymentIntent is set once'
);
select throws_ok(
    format('update public.bookings set payment_intent_id = %L where id = %L', 'pi_second',
        :'pending'),
    'PGRST', null, 'and never replaced'
);
select throws_ok(
    format($$ insert into public.bookings (user_id, hotel_id, check_in, check_out, amount,
        currency) values (%L, '985c87ec-1d28-4b09-ac8c-3484ea1965c4', current_date + 1,
        current_date + 32, 21500, 'EUR') $$, :'alice'),
    '23514', null, 'more than 30 nights is refused by a check constraint'
);

-- ============================================================================
-- Users read their own bookings and write none; anon reads none
-- ============================================================================
select tests.authenticate_as(:'alice');
select results_eq(
    format('select count(*)::int from public.bookings where id = %L', :'pending'),
    array[1], 'the owner sees their booking'
);
select throws_ok(
    format('update public.bookings set status = %L where id = %L', 'paid', :'pending'),
    '42501', null, 'the owner cannot update their booking'
);
select throws_ok(
    format('delete from public.bookings where id = %L', :'pending'),
    '42501', null, 'the owner cannot delete their booking'
);
select tests.authenticate_as(:'bob');
select is_empty(
    format('select 1 from public.bookings where id = %L', :'pending'),
    'another user does not see it'
);
select tests.authenticate_as_anon();
select throws_ok('select 1 from public.bookings', '42501', null, 'anon cannot read bookings');

-- ============================================================================
-- Hotels: anon and users read the active ones
-- ============================================================================
select ok((select count(*) >= 6 from public.hotels), 'anon reads the catalogue');
select is_empty('select 1 from public.hotels where not active', 'anon sees no inactive hotel');
select tests.authenticate_as(:'alice');
select ok((select count(*) >= 6 from public.hotels), 'users read the catalogue');
select throws_ok(
    $$ update public.hotels set nightly_rate_cents = 1 $$, '42501', null,
    'users cannot change hotels'
);
select tests.clear_authentication();

-- ============================================================================
-- pg_cron's completion: confirmed stays whose check-out has passed
-- ============================================================================
select pg_temp.booking_in('confirmed', :'alice') as upcoming \gset
-- a stay that is over (dates written as they would have been at booking time)
alter table public.bookings disable trigger bookings_guard;
insert into public.bookings (id, user_id, hotel_id, check_in, check_out, amount, currency, status)
values ('00000000-0000-4000-8000-00000000a11e', :'alice', '985c87ec-1d28-4b09-ac8c-3484ea1965c4',
    current_date - 5, current_date - 1, 86000, 'EUR', 'confirmed');
alter table public.bookings enable trigger bookings_guard;
select is(private.complete_past_bookings(), 1::bigint, 'one stay is over');
select results_eq(
    $$ select status from public.bookings where id = '00000000-0000-4000-8000-00000000a11e' $$,
    array['completed'], 'it is completed'
);
select results_eq(
    format('select status from public.bookings where id = %L', :'upcoming'),
    array['confirmed'], 'an upcoming stay stays confirmed'
);

select * from finish();
rollback;
