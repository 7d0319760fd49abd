-- The cancellation policy (docs/payments.md): users cancel only before check-in; operators
-- (service_role, and only they) cancel whatever the dates.
begin;
select plan(6);

select tests.create_user('alice@policy.test') as alice \gset

create function pg_temp.booking(owner uuid, starts_in int, status text)
returns uuid
language plpgsql
as $$
declare
    v_id uuid;
begin
    insert into public.bookings (user_id, hotel_id, check_in, check_out, amount, currency)
    values (owner, '985c87ec-1d28-4b09-ac8c-3484ea1965c4', current_date + starts_in,
        current_date + starts_in + 2, 43000, 'EUR')
    returning id into v_id;
    if status <> 'payment_pending' then
        update public.bookings set status = 'paid' where id = v_id;
    end if;
    if status = 'confirmed' then
        update public.bookings set status = 'confirmed' where id = v_id;
    end if;
    return v_id;
end;
$$;

select pg_temp.booking(:'alice', 1, 'paid') as tomorrow \gset
select pg_temp.booking(:'alice', 0, 'paid') as today \gset
select pg_temp.booking(:'alice', -1, 'confirmed') as staying \gset

select tests.authenticate_as(:'alice');
select lives_ok(format('select private.request_booking_cancellation(%L)', :'tomorrow'),
    'the day before check-in: cancelled (refund)');
select throws_like(format('select private.request_booking_cancellation(%L)', :'today'),
    '%INVALID_STATE%', 'on the check-in day: INVALID_STATE');
select throws_like(format('select private.request_booking_cancellation(%L)', :'staying'),
    '%INVALID_STATE%', 'during the stay: INVALID_STATE');
select throws_ok(format('select private.cancel_booking_as_operator(%L)', :'staying'),
    '42501', null, 'users cannot call the operators'' function');

select tests.authenticate_as_service_role();
select is((public.cancel_booking(:'staying') ->> 'status'), 'confirmed',
    'service_role cancels during the stay');
select tests.clear_authentication();
select results_eq(
    format($$select j.type from public.jobs as j where j.input ->> 'booking_id' in (%L, %L)
        order by j.type$$, :'tomorrow', :'staying'),
    array['payment.refund', 'payment.refund'],
    'both are refunded'
);

select * from finish();
rollback;
