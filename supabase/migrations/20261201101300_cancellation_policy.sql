-- The cancellation policy of contract §10 in Postgres (issue 10 #2): a user cancels (with a
-- full refund when paid) while current_date < check_in; from check-in on cancel_booking
-- answers 409 INVALID_STATE. Operators can still cancel and refund: cancel_booking called
-- with the service_role key (no user) cancels any booking, whatever its dates.

-- The cancellation of one locked booking: the job that cancels or refunds it, made once (a
-- repeat while the first is queued or running answers the same job). Called only by the
-- definers below, so no API role is granted it.
create or replace function private.cancel_booking_row(booking public.bookings)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_job_id uuid;
begin
    if booking.status in ('completed', 'cancelled') then
        perform private.raise_error(
            'INVALID_STATE',
            pg_catalog.format('A %s booking cannot be cancelled.', booking.status),
            'booking_id'
        );
    end if;
    if booking.cancel_job_id is not null and exists (
        select 1 from public.jobs as j
        where j.id = booking.cancel_job_id and j.status in ('queued', 'processing')
    ) then
        v_job_id := booking.cancel_job_id;
    else
        v_job_id := private.enqueue_booking_job(
            case when booking.status in ('paid', 'confirmed') then 'payment.refund'
                else 'payment.cancel' end,
            booking
        );
        update public.bookings as b
        set cancel_requested_at = pg_catalog.now(), cancel_job_id = v_job_id
        where b.id = booking.id;
    end if;
    return pg_catalog.jsonb_build_object(
        'id', booking.id, 'status', booking.status, 'jobId', v_job_id
    );
end;
$$;

-- A user's own booking, before check-in.
create or replace function private.request_booking_cancellation(booking_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = request_booking_cancellation.booking_id and b.user_id = v_user
    for update;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Booking not found.', 'booking_id');
    end if;
    if v_booking.status not in ('completed', 'cancelled') and current_date >= v_booking.check_in then
        perform private.raise_error(
            'INVALID_STATE',
            'A booking can be cancelled only before its check-in day.',
            'booking_id',
            'From check-in on, contact support: the cancellation policy allows no refund.'
        );
    end if;
    return private.cancel_booking_row(v_booking);
end;
$$;

-- Operators (service_role): any booking, whatever its dates.
create or replace function private.cancel_booking_as_operator(booking_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = cancel_booking_as_operator.booking_id
    for update;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Booking not found.', 'booking_id');
    end if;
    return private.cancel_booking_row(v_booking);
end;
$$;

-- public.cancel_booking applies this policy;
-- its body as it stands is in 20261201101600_timeouts.sql.

revoke all on function private.cancel_booking_row(public.bookings) from anon, authenticated, service_role;
-- the execute grant is the operator check: only service_role holds it
grant execute on function private.cancel_booking_as_operator(uuid) to service_role;
