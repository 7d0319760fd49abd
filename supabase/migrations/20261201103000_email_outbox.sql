-- Booking emails through an outbox (issue 14): a confirmation when a booking becomes
-- confirmed, a notice when a payment fails, a receipt when a refund is recorded. The
-- transaction that changes the booking writes one outbox row (an AFTER UPDATE trigger on
-- public.bookings), with the recipient read from auth.users at that moment, and enqueues an
-- `email.send` job; the worker (worker/handlers/email.py) renders and sends it over SMTP and
-- records the outcome here. See docs/payments.md, "Emails".
--
-- Exactly once: a unique dedupe key per (booking, kind, attempt) means a replayed webhook or a
-- retried job writes nothing more (and transitions happen once anyway: the state machine of
-- bookings_guard). The Message-ID is derived from the dedupe key, so a resend after a worker
-- crashed between sending and recording is recognisable as the same message.
--
-- Privacy: the row keeps the address and what the mail shows (to resend it), nothing else;
-- it goes with its booking (on delete cascade, the booking's retention) and with its user.
-- Only the definer functions below touch it; no API role has any privilege on it.

-- ============================================================================
-- The outbox
-- ============================================================================
create table if not exists private.email_outbox (
    id uuid primary key default gen_random_uuid(),
    booking_id uuid not null references public.bookings (id) on delete cascade,
    user_id uuid not null references auth.users (id) on delete cascade,
    kind text not null
    constraint email_outbox_kind_check check (kind in (
        'booking_confirmed', 'payment_failed', 'booking_refunded'
    )),
    -- <booking id>-<kind>-<attempt>: one mail per event, whoever replays it
    dedupe_key text not null constraint email_outbox_dedupe_key_key unique,
    -- the address in auth.users when the row was written; null once skipped
    recipient text,
    -- what the mail shows (hotel, dates, amounts), as it was when the booking changed
    details jsonb not null default '{}'::jsonb,
    status text not null default 'pending'
    constraint email_outbox_status_check check (status in ('pending', 'sent', 'failed', 'skipped')),
    attempts int not null default 0,
    -- the SMTP reply or connection error of the last failed attempt (addresses removed)
    last_error text constraint email_outbox_last_error_length check (char_length(last_error) <= 500),
    job_id uuid,
    created_at timestamptz not null default now(),
    last_attempt_at timestamptz,
    sent_at timestamptz,
    failed_at timestamptz
);
comment on table private.email_outbox is
'Transactional booking emails (docs/payments.md, Emails): one row per booking event, written by '
'the trigger bookings_email_outbox in the transaction that changed the booking; sent by the '
'email.send job. status pending | sent | failed (permanent SMTP error, or attempts exhausted) | '
'skipped (the user was deleted first). Rows go with their booking.';

create index if not exists email_outbox_booking_id_idx on private.email_outbox (booking_id);
create index if not exists email_outbox_user_id_idx on private.email_outbox (user_id);
create index if not exists email_outbox_created_at_idx on private.email_outbox (created_at);
create index if not exists email_outbox_failed_idx on private.email_outbox (failed_at)
where status = 'failed';

revoke all on table private.email_outbox from public, anon, authenticated, service_role;

-- ============================================================================
-- The job type
-- ============================================================================
create or replace function private.validate_email_job(input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform private.job_input_keys(input, array['outbox_id']);
    if pg_catalog.jsonb_typeof(input -> 'outbox_id') is distinct from 'string'
        or private.try_uuid(input ->> 'outbox_id') is null then
        perform private.raise_error(
            'VALIDATION_FAILED', 'input.outbox_id must be an outbox id.', 'input.outbox_id'
        );
    end if;
    return pg_catalog.jsonb_build_object('outbox_id', (input ->> 'outbox_id')::uuid);
end;
$$;

-- Temporary SMTP failures retry for about three hours (10 s doubling up to 30 min).
-- noqa: disable=LT02
insert into private.job_types as t (
    type, description, validator, user_startable, max_attempts, lease_seconds, priority,
    retry_base, retry_cap, expires_after, retention
)
values
('email.send',
    'Sends one booking email of private.email_outbox over SMTP and records the outcome.',
    'private.validate_email_job(jsonb)'::regprocedure, false, 12, 90, 30,
    interval '10 seconds', interval '30 minutes', interval '3 days', interval '30 days')
on conflict (type) do update set
    description = excluded.description,
    validator = excluded.validator,
    user_startable = excluded.user_startable;
-- noqa: enable=LT02

-- Lane: general (the default). The payments lane's few slots are kept for jobs that move
-- money (contract §8: a payment starts within a second); an SMTP server that hangs until its
-- timeout must not hold them. A mail waits behind other general jobs at worst.

-- ============================================================================
-- Writing the row: the trigger on bookings
-- ============================================================================

-- One outbox row (and its email.send job) for a booking event, unless its dedupe key exists or
-- the user has no address. Returns the row's id, or null when nothing was written.
create or replace function private.enqueue_booking_email(
    booking public.bookings, kind text, attempt text
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_recipient text;
    v_hotel public.hotels;
    v_id uuid;
begin
    select nullif(pg_catalog.btrim(u.email), '') into v_recipient
    from auth.users as u
    where u.id = booking.user_id and u.deleted_at is null;
    if v_recipient is null then
        return null;  -- no address (a phone-only user) or no user: nobody to write to
    end if;
    select h.* into v_hotel from public.hotels as h where h.id = booking.hotel_id;

    insert into private.email_outbox as o (
        booking_id, user_id, kind, dedupe_key, recipient, details
    )
    values (
        booking.id, booking.user_id, enqueue_booking_email.kind,
        pg_catalog.format('%s-%s-%s', booking.id, enqueue_booking_email.kind,
            enqueue_booking_email.attempt),
        v_recipient,
        pg_catalog.jsonb_build_object(
            'booking_id', booking.id,
            'status', booking.status,
            'hotel', v_hotel.name,
            'city', v_hotel.city,
            'check_in', booking.check_in,
            'check_out', booking.check_out,
            'nights', booking.check_out - booking.check_in,
            'amount', booking.amount,
            'currency', booking.currency,
            'amount_refunded', booking.amount_refunded,
            'error', booking.error
        )
    )
    on conflict (dedupe_key) do nothing
    returning o.id into v_id;
    if v_id is null then
        return null;  -- this event's mail exists already
    end if;
    update private.email_outbox as o
    set job_id = private.enqueue_job('email.send', pg_catalog.jsonb_build_object('outbox_id', v_id), null)
    where o.id = v_id;
    return v_id;
end;
$$;

-- AFTER UPDATE of a booking: confirmed (once: the state machine never returns to it), a
-- payment failure (each transition into payment_failed is a new attempt), a refund recorded
-- (amount_refunded grew: the worker's record_refund and the charge.refunded webhook record the
-- same amount, so the second finds the key taken).
create or replace function private.booking_email_outbox()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_failures bigint;
begin
    if new.amount_refunded > old.amount_refunded then
        perform private.enqueue_booking_email(new, 'booking_refunded', new.amount_refunded::text);
    elsif new.status = 'confirmed' and old.status <> 'confirmed' then
        perform private.enqueue_booking_email(new, 'booking_confirmed', '1');
    elsif new.status = 'payment_failed' and old.status <> 'payment_failed' then
        -- the booking's row lock (this update holds it) serialises its transitions
        select pg_catalog.count(*) into v_failures
        from private.email_outbox as o
        where o.booking_id = new.id and o.kind = 'payment_failed';
        perform private.enqueue_booking_email(new, 'payment_failed', (v_failures + 1)::text);
    end if;
    return null;
end;
$$;

create or replace trigger bookings_email_outbox
after update on public.bookings
for each row
when (
    new.status is distinct from old.status
    or new.amount_refunded is distinct from old.amount_refunded
)
execute function private.booking_email_outbox();

-- ============================================================================
-- The worker's side (worker/handlers/email.py, role wayfare_worker)
-- ============================================================================

-- Start an attempt: the row (locked, attempts + 1) with what the mail needs, or
-- {"status": ...} when there is nothing to send (sent, failed, skipped), or null when the row
-- is gone (its booking or user was deleted). A user deleted since (soft-deleted in auth.users)
-- gets nothing: the row is skipped and its address forgotten.
create or replace function private.email_to_send(outbox_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_row private.email_outbox;
begin
    select o.* into v_row from private.email_outbox as o
    where o.id = email_to_send.outbox_id
    for update;
    if not found then
        return null;
    end if;
    if v_row.status <> 'pending' then
        return pg_catalog.jsonb_build_object('id', v_row.id, 'status', v_row.status);
    end if;
    if not exists (
        select 1 from auth.users as u where u.id = v_row.user_id and u.deleted_at is null
    ) then
        update private.email_outbox as o
        set status = 'skipped', recipient = null, details = '{}'::jsonb,
            last_error = 'The user was deleted before the mail was sent.'
        where o.id = v_row.id;
        return pg_catalog.jsonb_build_object('id', v_row.id, 'status', 'skipped');
    end if;
    update private.email_outbox as o
    set attempts = o.attempts + 1, last_attempt_at = pg_catalog.now()
    where o.id = v_row.id;
    return pg_catalog.jsonb_build_object(
        'id', v_row.id,
        'status', v_row.status,
        'kind', v_row.kind,
        'dedupe_key', v_row.dedupe_key,
        'recipient', v_row.recipient,
        'details', v_row.details,
        'attempts', v_row.attempts + 1
    );
end;
$$;

-- The server accepted the mail. Returns the row's status afterwards (null: the row is gone).
create or replace function private.email_sent(outbox_id uuid)
returns text
language sql
security definer
set search_path = ''
as $$
    update private.email_outbox as o
    set status = case when o.status = 'pending' then 'sent' else o.status end,
        sent_at = coalesce(o.sent_at, pg_catalog.now()),
        last_error = null
    where o.id = email_sent.outbox_id
    returning o.status
$$;

-- An attempt failed: keep the reason (one line, at most 500 characters); a permanent failure
-- (5xx, or the last attempt) marks the row failed, which /ops shows.
create or replace function private.email_failed(outbox_id uuid, error text, permanent boolean)
returns text
language sql
security definer
set search_path = ''
as $$
    update private.email_outbox as o
    set last_error = coalesce(
            private.user_safe_error(email_failed.error), 'The mail could not be sent.'
        ),
        status = case when email_failed.permanent and o.status = 'pending' then 'failed'
            else o.status end,
        failed_at = case when email_failed.permanent and o.status = 'pending'
            then pg_catalog.now() else o.failed_at end
    where o.id = email_failed.outbox_id
    returning o.status
$$;

-- ============================================================================
-- Operators: /ops (webhook/ops.py) reads this beside private.ops_snapshot. No addresses.
-- ============================================================================
create or replace function private.email_outbox_snapshot(
    time_window interval default interval '24 hours'
)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    select pg_catalog.jsonb_build_object(
        'window_seconds', pg_catalog.date_part('epoch', time_window),
        'by_status', coalesce((
            select pg_catalog.jsonb_object_agg(s.status, s.n)
            from (
                select o.status, pg_catalog.count(*) as n
                from private.email_outbox as o
                where o.created_at >= pg_catalog.now() - time_window
                group by o.status
            ) as s
        ), '{}'::jsonb),
        'pending', (
            select pg_catalog.count(*) from private.email_outbox as o where o.status = 'pending'
        ),
        'oldest_pending_seconds', (
            select pg_catalog.date_part('epoch', pg_catalog.now() - pg_catalog.min(o.created_at))
            from private.email_outbox as o where o.status = 'pending'
        ),
        'failed', coalesce((
            select pg_catalog.jsonb_agg(f.item order by f.failed_at desc)
            from (
                select o.failed_at, pg_catalog.jsonb_build_object(
                    'id', o.id, 'booking_id', o.booking_id, 'kind', o.kind,
                    'attempts', o.attempts, 'error', o.last_error, 'failed_at', o.failed_at
                ) as item
                from private.email_outbox as o
                where o.status = 'failed' and o.failed_at >= pg_catalog.now() - time_window
                order by o.failed_at desc
                limit 20
            ) as f
        ), '[]'::jsonb)
    )
$$;

-- ============================================================================
-- Grants
-- ============================================================================
revoke all on function private.enqueue_booking_email(public.bookings, text, text) from public;
revoke all on function private.booking_email_outbox() from public;
revoke all on function private.email_to_send(uuid) from public;
revoke all on function private.email_sent(uuid) from public;
revoke all on function private.email_failed(uuid, text, boolean) from public;
revoke all on function private.email_outbox_snapshot(interval) from public;

grant execute on function private.email_to_send(uuid) to wayfare_worker;
grant execute on function private.email_sent(uuid) to wayfare_worker;
grant execute on function private.email_failed(uuid, text, boolean) to wayfare_worker;
grant execute on function private.email_outbox_snapshot(interval) to wayfare_web;
