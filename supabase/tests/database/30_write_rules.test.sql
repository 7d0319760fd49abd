-- One set of rules for RPCs and direct writes (docs/api.md): the triggers on trips and
-- activities raise VALIDATION_FAILED (docs/errors.md) naming the field for every role (so no
-- check constraint ever answers first), trim titles, and leave unchanged columns of old rows
-- alone; the booking validator refuses infinite dates before any date arithmetic.
begin;
select plan(26);

select tests.create_user('alice@rules.test') as alice \gset

-- The API error (docs/errors.md) a statement raises: its body's field, code and status; null if none.
create function pg_temp.error_of(statement text)
returns jsonb
language plpgsql
as $$
declare
    v_message text;
    v_detail text;
begin
    execute statement;
    return null;
exception when sqlstate 'PGRST' then
    get stacked diagnostics v_message = message_text, v_detail = pg_exception_detail;
    return pg_catalog.jsonb_build_object(
        'code', v_message::jsonb ->> 'code',
        'field', (v_message::jsonb ->> 'details')::jsonb ->> 'field',
        'status', (v_detail::jsonb ->> 'status')::int
    );
end;
$$;
grant execute on function pg_temp.error_of(text) to authenticated;

create temporary table bad_trips (sql_values text, field text) on commit drop;
insert into bad_trips values
(format('(%L, %L, null, null, null, null)', :'alice', E'bell\x07'), 'title'),
(format('(%L, %L, null, null, null, null)', :'alice', '  '), 'title'),
(format('(%L, %L, null, null, null, null)', :'alice', repeat('x', 201)), 'title'),
(format('(%L, %L, %L, null, null, null)', :'alice', 'ok', repeat('d', 201)), 'destination'),
(format('(%L, %L, null, %L::date, null, null)', :'alice', 'ok', '-infinity'), 'start_date'),
(format('(%L, %L, null, %L::date, null, null)', :'alice', 'ok', '5874897-01-01'), 'start_date'),
(format('(%L, %L, null, null, %L::date, null)', :'alice', 'ok', '1899-12-31'), 'end_date'),
(format('(%L, %L, null, %L::date, %L::date, null)', :'alice', 'ok', '2027-05-04', '2027-05-01'),
    'end_date'),
(format('(%L, %L, null, null, null, %L)', :'alice', 'ok', 'temp_'), 'client_temp_id');
grant select on bad_trips to authenticated;

-- As postgres (no RLS, no API): the trigger still answers before any constraint.
select is(
    pg_temp.error_of(
        'insert into public.trips (user_id, title, destination, start_date, end_date, '
        || 'client_temp_id) values ' || b.sql_values
    ),
    jsonb_build_object('code', 'VALIDATION_FAILED', 'field', b.field, 'status', 400),
    'postgres: ' || b.field || ' ' || b.sql_values
)
from bad_trips as b;

-- As a signed-in user, as PostgREST runs a POST /trips.
select tests.authenticate_as(:'alice');
select is(
    pg_temp.error_of(
        'insert into public.trips (user_id, title, destination, start_date, end_date, '
        || 'client_temp_id) values ' || b.sql_values
    ) ->> 'field',
    b.field,
    'authenticated: ' || b.field
)
from bad_trips as b;

insert into public.trips (user_id, title, start_date, end_date)
values (:'alice', E'  Porto\t ', '2027-05-01', '2027-05-04') returning id as trip \gset
select is((select title from public.trips where id = :'trip'), 'Porto', 'titles are trimmed');
select is(
    pg_temp.error_of(format('update public.trips set start_date = %L where id = %L',
        '2027-06-01', :'trip')) ->> 'field',
    'end_date', 'an update meets the order rule'
);
select is(
    pg_temp.error_of(format(
        'insert into public.activities (trip_id, user_id, title, notes) values (%L, %L, %L, %L)',
        :'trip', :'alice', 'ok', repeat('n', 5001)
    )) ->> 'field',
    'notes', 'activities: notes at most 5000'
);
select is(
    pg_temp.error_of(format(
        'insert into public.activities (trip_id, user_id, title) values (%L, %L, %L)',
        gen_random_uuid(), :'alice', 'ok'
    )),
    '{"code": "NOT_FOUND", "field": "trip_id", "status": 404}'::jsonb,
    'activities: a trip that is not yours is not found'
);
select tests.clear_authentication();

-- A row stored under older rules stays editable in its other columns.
alter table public.trips disable trigger a_trips_check_write;
update public.trips set start_date = '1800-01-01' where id = :'trip';
alter table public.trips enable trigger a_trips_check_write;
select lives_ok(
    format('update public.trips set destination = %L where id = %L', 'Porto', :'trip'),
    'an update checks only what it changes'
);

-- The booking validator: infinite dates are 400, never an error from date arithmetic.
select is(
    pg_temp.error_of(format('select private.check_booking_request(%L, current_date + 1, %L)',
        gen_random_uuid(), 'infinity')),
    '{"code": "VALIDATION_FAILED", "field": "check_out", "status": 400}'::jsonb,
    'check_out infinity'
);
select is(
    pg_temp.error_of(format('select private.check_booking_request(%L, %L, %L)',
        gen_random_uuid(), 'infinity', 'infinity')) ->> 'field',
    'check_in', 'check_in infinity is beyond two years'
);
select is(
    pg_temp.error_of(format('select private.check_booking_request(%L, current_date + 731, '
        || 'current_date + 733)', gen_random_uuid())) ->> 'field',
    'check_in', 'the two-year rule'
);

select * from finish();
rollback;
