-- One set of rules for the RPCs and for direct table writes (issue 10 #6): POST and PATCH on
-- /trips and /activities through PostgREST meet the same private validators as create_trip
-- and create_activity, in before insert/update triggers, and answer the contract's 400
-- VALIDATION_FAILED naming the field (never a bare 23514 from a check constraint). Dates are
-- checked as dates (a date past timestamp's range no longer fails with 500), and bookings have
-- one validator used by create_booking and private.insert_booking alike.

-- ============================================================================
-- Dates: finite and within years 1900..2200, compared as dates. create_trip's calls
-- private.check_timestamp('start_date', <date>) resolve to this overload.
-- ============================================================================
create or replace function private.check_timestamp(field text, value date)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if value is not null and (
        not pg_catalog.isfinite(value)
        or value < '1900-01-01'::date or value >= '2201-01-01'::date
    ) then
        perform private.raise_error(
            'VALIDATION_FAILED', field || ' must be a date between 1900 and 2200.', field
        );
    end if;
end;
$$;

-- ============================================================================
-- Trips and activities: the rules of create_trip and create_activity for every write. An
-- update checks only the columns it changes, so a row stored under older rules stays editable.
-- ============================================================================
create or replace function private.check_trip_write()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_insert boolean := tg_op = 'INSERT';
begin
    if v_insert or new.title is distinct from old.title then
        new.title := private.valid_text('title', new.title, 1, 200, true);
    end if;
    if v_insert or new.destination is distinct from old.destination then
        new.destination := private.valid_text('destination', new.destination, 1, 200);
    end if;
    if v_insert or new.start_date is distinct from old.start_date then
        perform private.check_timestamp('start_date', new.start_date);
    end if;
    if v_insert or new.end_date is distinct from old.end_date then
        perform private.check_timestamp('end_date', new.end_date);
    end if;
    if v_insert or (new.start_date, new.end_date) is distinct from (old.start_date, old.end_date) then
        perform private.check_order(new.start_date, 'end_date', new.end_date);
    end if;
    if v_insert or new.client_temp_id is distinct from old.client_temp_id then
        perform private.valid_client_temp_id(new.client_temp_id);
    end if;
    return new;
end;
$$;

create or replace function private.check_activity_write()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_insert boolean := tg_op = 'INSERT';
begin
    if v_insert or (new.trip_id, new.user_id) is distinct from (old.trip_id, old.user_id) then
        if new.trip_id is null then
            perform private.raise_error('VALIDATION_FAILED', 'trip_id is required.', 'trip_id');
        end if;
        -- RLS shows a user only their own trips: theirs and missing ones look the same
        if not exists (
            select 1 from public.trips as t
            where t.id = new.trip_id and t.user_id = new.user_id
        ) then
            perform private.raise_error('NOT_FOUND', 'Trip not found.', 'trip_id');
        end if;
    end if;
    if v_insert or new.title is distinct from old.title then
        new.title := private.valid_text('title', new.title, 1, 200, true);
    end if;
    if v_insert or new.location is distinct from old.location then
        new.location := private.valid_text('location', new.location, 1, 500);
    end if;
    if v_insert or new.notes is distinct from old.notes then
        new.notes := private.valid_text('notes', new.notes, 1, 5000);
    end if;
    if v_insert or new.starts_at is distinct from old.starts_at then
        perform private.check_timestamp('starts_at', new.starts_at);
    end if;
    if v_insert or new.ends_at is distinct from old.ends_at then
        perform private.check_timestamp('ends_at', new.ends_at);
    end if;
    if v_insert or (new.starts_at, new.ends_at) is distinct from (old.starts_at, old.ends_at) then
        perform private.check_order(new.starts_at, 'ends_at', new.ends_at);
    end if;
    if v_insert or new.client_temp_id is distinct from old.client_temp_id then
        perform private.valid_client_temp_id(new.client_temp_id);
    end if;
    return new;
end;
$$;

-- "a_" sorts before the other before-triggers (set_updated_at), so they see checked values.
create or replace trigger a_trips_check_write
before insert or update on public.trips
for each row execute function private.check_trip_write();

create or replace trigger a_activities_check_write
before insert or update on public.activities
for each row execute function private.check_activity_write();

-- ============================================================================
-- Bookings: the one validator of a booking request (contract §10), used by create_booking
-- (before its idempotency record is written) and by private.insert_booking (which trusts no
-- caller). Infinite dates are refused before any date arithmetic.
-- ============================================================================
create or replace function private.check_booking_request(hotel_id uuid, check_in date, check_out date)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if hotel_id is null then
        perform private.raise_error('VALIDATION_FAILED', 'hotel_id is required.', 'hotel_id');
    end if;
    if check_in is null then
        perform private.raise_error('VALIDATION_FAILED', 'check_in is required.', 'check_in');
    end if;
    if check_out is null then
        perform private.raise_error('VALIDATION_FAILED', 'check_out is required.', 'check_out');
    end if;
    if check_in < current_date then
        perform private.raise_error(
            'VALIDATION_FAILED', 'check_in must be today or later.', 'check_in'
        );
    end if;
    if check_in > current_date + 730 then
        perform private.raise_error(
            'VALIDATION_FAILED', 'check_in must be within the next two years.', 'check_in'
        );
    end if;
    if check_out <= check_in then
        perform private.raise_error(
            'VALIDATION_FAILED', 'check_out must be after check_in.', 'check_out'
        );
    end if;
    if not pg_catalog.isfinite(check_out) or check_out - check_in > 30 then
        perform private.raise_error(
            'VALIDATION_FAILED', 'A booking is at most 30 nights.', 'check_out'
        );
    end if;
end;
$$;

create or replace function private.insert_booking(hotel_id uuid, check_in date, check_out date)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_hotel public.hotels;
    v_booking public.bookings;
    v_job_id uuid;
begin
    -- the same rules as public.create_booking: this function trusts no caller
    perform private.check_booking_request(
        insert_booking.hotel_id, insert_booking.check_in, insert_booking.check_out
    );
    select h.* into v_hotel from public.hotels as h
    where h.id = insert_booking.hotel_id and h.active
    for share;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Hotel not found.', 'hotel_id');
    end if;

    insert into public.bookings as b (
        user_id, hotel_id, check_in, check_out, amount, currency, request_id
    )
    values (
        v_user, v_hotel.id, insert_booking.check_in, insert_booking.check_out,
        (insert_booking.check_out - insert_booking.check_in) * v_hotel.nightly_rate_cents,
        v_hotel.currency, private.request_id()
    )
    returning b.* into v_booking;
    v_job_id := private.enqueue_booking_job('payment.create_intent', v_booking);
    return pg_catalog.jsonb_build_object(
        'id', v_booking.id,
        'status', v_booking.status,
        'amount', v_booking.amount,
        'currency', v_booking.currency,
        'jobId', v_job_id
    );
end;
$$;

-- public.create_booking calls private.check_booking_request;
-- its body as it stands is in 20261201101600_timeouts.sql.

-- The RPCs (security invoker) call these as the API roles.
grant execute on function private.check_timestamp(text, date) to anon, authenticated, service_role;
grant execute on function private.check_booking_request(uuid, date, date)
to anon, authenticated, service_role;
