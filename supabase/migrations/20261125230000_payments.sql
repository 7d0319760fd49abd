-- Payments (issue 6): the hotel catalogue, bookings and their state machine, create_booking and
-- cancel_booking, Stripe webhook application, the functions the worker's payment handlers
-- call, and the pg_cron schedule that completes past stays. See docs/payments.md.
--
-- Amounts are integers in the currency's minor unit, as Stripe counts them: cents for EUR,
-- USD and GBP; whole yen for JPY (a zero-decimal currency). hotels.nightly_rate_cents keeps
-- its historical name but means "minor units". Currencies are ISO 4217 codes in upper case;
-- Stripe receives and sends them in lower case.

-- ============================================================================
-- The web service's role. The Flask service (webhook/) runs `set role wayfare_web` on each
-- connection, so whatever login DATABASE_URL names, it can only record Stripe events (and run
-- `select 1` for /readyz). On hosted Supabase: `create role wayfare_web_login login password
-- '...' in role wayfare_web;` and use that login in the web service's DATABASE_URL.
-- ============================================================================
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'wayfare_web') then
        create role wayfare_web nologin noinherit;
    end if;
end
$$;
grant wayfare_web to postgres;
grant wayfare_web to service_role;
grant usage on schema private to wayfare_web;

-- ============================================================================
-- Hotels: the catalogue (readable by everyone through RLS: sql/policies/hotels.sql).
-- ============================================================================
create table if not exists public.hotels (
    id uuid primary key default gen_random_uuid(),
    name text not null constraint hotels_name_length check (char_length(name) between 1 and 200),
    city text not null constraint hotels_city_length check (char_length(city) between 1 and 100),
    nightly_rate_cents integer not null
    constraint hotels_nightly_rate_range check (nightly_rate_cents between 50 and 10000000),
    currency text not null constraint hotels_currency_format check (currency ~ '^[A-Z]{3}$'),
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
comment on table public.hotels is
'The hotel catalogue. nightly_rate_cents is in the currency''s minor unit (cents; whole yen '
'for JPY, which has no minor unit). Only active hotels are visible and bookable.';
comment on column public.hotels.nightly_rate_cents is
'Price of one night in the minor unit of currency, as Stripe counts amounts (JPY: yen).';

create index if not exists hotels_active_city_idx on public.hotels (active, city);

create or replace trigger hotels_set_updated_at
before update on public.hotels
for each row execute function private.set_updated_at();

-- noqa: disable=LT02
insert into public.hotels as h (id, name, city, nightly_rate_cents, currency, active)
values
('985c87ec-1d28-4b09-ac8c-3484ea1965c4', 'Hôtel des Grands Boulevards', 'Paris', 21500, 'EUR', true),
('60e10640-ce6d-494b-8d84-e8c4fcf60c64', 'Casa do Alfama', 'Lisbon', 12900, 'EUR', true),
('3d30d944-af96-4a85-a3dd-118632506945', 'The Marlton', 'New York', 32900, 'USD', true),
('d1b0f935-d448-4aaf-ba3d-0b7c2bc4af69', 'Hotel Zetta', 'San Francisco', 24900, 'USD', true),
('9c9bf79b-f9f6-4540-89c8-a78ef2019809', 'The Hoxton, Holborn', 'London', 18900, 'GBP', true),
('3b163075-f5c1-4b7f-aff6-8a8a21c4d4d0', 'Hotel Kanra Kyoto', 'Kyoto', 38000, 'JPY', true),
('ce977c9d-ab64-4b6f-b7a2-52d241d287af', 'Park Hotel Tokyo', 'Tokyo', 26000, 'JPY', true),
('6c38523d-8145-405d-8711-310a8d448acc', 'Pensão Ribeira (closed for renovation)', 'Porto', 8900,
    'EUR', false)
on conflict (id) do nothing;
-- noqa: enable=LT02

-- ============================================================================
-- Bookings
-- ============================================================================
create table if not exists public.bookings (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    status text not null default 'payment_pending'
    constraint bookings_status_check check (status in (
        'payment_pending', 'processing', 'payment_failed', 'paid', 'confirmed', 'completed',
        'cancelled'
    )),
    amount integer not null constraint bookings_amount_positive check (amount > 0),
    currency text not null constraint bookings_currency_format check (currency ~ '^[A-Z]{3}$'),
    payment_intent_id text constraint bookings_payment_intent_id_key unique,
    payment_method text,
    client_secret text,
    hotel_id uuid not null references public.hotels (id) on delete restrict,
    check_in date not null,
    check_out date not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    paid_at timestamptz,
    confirmed_at timestamptz,
    completed_at timestamptz,
    cancelled_at timestamptz,
    refunded_at timestamptz,
    amount_refunded integer not null default 0
    constraint bookings_amount_refunded_range check (amount_refunded between 0 and amount),
    cancel_requested_at timestamptz,
    cancel_job_id uuid,
    metadata jsonb not null default '{}'::jsonb,
    error text constraint bookings_error_length check (char_length(error) <= 500),
    request_id text,
    last_event_created timestamptz,
    constraint bookings_dates_in_order check (check_out > check_in),
    constraint bookings_at_most_30_nights check (check_out - check_in <= 30)
);
comment on table public.bookings is
'A hotel booking and its payment. Owners select; nobody writes directly: public.create_booking '
'makes rows, the worker and Stripe webhooks move them (private definer functions), and the '
'trigger bookings_guard enforces the state machine of docs/payments.md for every role.';
comment on column public.bookings.amount is
'nights x hotels.nightly_rate_cents, computed in Postgres, in the currency''s minor unit.';
comment on column public.bookings.client_secret is
'The PaymentIntent''s client secret, for the owner''s Stripe.js confirmation.';
comment on column public.bookings.error is
'A user-safe reason for the last payment failure (Stripe''s card message), or null.';
comment on column public.bookings.last_event_created is
'The `created` time of the last Stripe event applied: older events change nothing.';

create index if not exists bookings_user_id_created_at_idx
on public.bookings (user_id, created_at desc);
create index if not exists bookings_hotel_id_idx on public.bookings (hotel_id);
create index if not exists bookings_confirmed_check_out_idx on public.bookings (check_out)
where status = 'confirmed';
create index if not exists bookings_unpaid_created_at_idx on public.bookings (created_at)
where status in ('payment_pending', 'payment_failed') and cancel_requested_at is null;

-- The state machine (contract §10). Same-status updates are not transitions.
create or replace function private.booking_transition_allowed(from_status text, to_status text)
returns boolean
language sql
immutable
security invoker
set search_path = ''
as $$
    select (from_status, to_status) in (
        ('payment_pending', 'processing'),
        ('payment_pending', 'paid'),
        ('payment_pending', 'payment_failed'),
        ('payment_pending', 'cancelled'),
        ('processing', 'paid'),
        ('processing', 'payment_failed'),
        ('processing', 'cancelled'),
        ('payment_failed', 'payment_pending'),
        ('payment_failed', 'processing'),
        ('payment_failed', 'paid'),
        ('payment_failed', 'cancelled'),
        ('paid', 'confirmed'),
        ('paid', 'cancelled'),
        ('confirmed', 'completed'),
        ('confirmed', 'cancelled')
    )
$$;

-- Every insert and update of a booking, whoever makes it (the worker, webhooks, service_role,
-- postgres): new rows start as payment_pending, the booking's facts never change, the
-- PaymentIntent is set once, and status moves only along the state machine. Stamps the
-- time of each state and updated_at, and drops the client secret once nothing is left to pay.
create or replace function private.guard_booking()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if tg_op = 'INSERT' then
        if new.status <> 'payment_pending' then
            perform private.raise_error(
                'INVALID_STATE', 'A booking starts as payment_pending.', 'status'
            );
        end if;
        return new;
    end if;
    if (new.id, new.user_id, new.amount, new.currency, new.hotel_id, new.check_in,
        new.check_out, new.created_at)
        is distinct from (old.id, old.user_id, old.amount, old.currency, old.hotel_id,
            old.check_in, old.check_out, old.created_at) then
        perform private.raise_error(
            'INVALID_STATE', 'A booking''s hotel, dates, owner and amount cannot change.'
        );
    end if;
    if old.payment_intent_id is not null
        and new.payment_intent_id is distinct from old.payment_intent_id then
        perform private.raise_error(
            'INVALID_STATE', 'A booking''s PaymentIntent cannot change.', 'payment_intent_id'
        );
    end if;
    if new.status is distinct from old.status then
        if not private.booking_transition_allowed(old.status, new.status) then
            perform private.raise_error(
                'INVALID_STATE',
                pg_catalog.format('A booking cannot go from %s to %s.', old.status, new.status),
                'status'
            );
        end if;
        case new.status
            when 'paid' then new.paid_at := coalesce(new.paid_at, pg_catalog.now());
            when 'confirmed' then new.confirmed_at := coalesce(new.confirmed_at, pg_catalog.now());
            when 'completed' then new.completed_at := coalesce(new.completed_at, pg_catalog.now());
            when 'cancelled' then new.cancelled_at := coalesce(new.cancelled_at, pg_catalog.now());
            else null;
        end case;
        -- nothing is left to pay: the client secret is of no more use to anyone
        if new.status in ('confirmed', 'completed', 'cancelled') then
            new.client_secret := null;
        end if;
    end if;
    new.updated_at := pg_catalog.now();
    return new;
end;
$$;

create or replace trigger bookings_guard
before insert or update on public.bookings
for each row execute function private.guard_booking();

-- ============================================================================
-- Jobs for bookings (the queue of 20261125220000_jobs.sql). Only the backend enqueues them
-- (user_startable = false); the booking's owner may read them (the jobId the RPCs answer).
-- Stripe calls retry up to 8 times with backoff; the PaymentIntent, cancel and refund calls
-- carry Stripe idempotency keys derived from the booking, so a retry never pays twice.
-- ============================================================================
create or replace function private.validate_booking_job(input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform private.job_input_keys(input, array['booking_id']);
    if pg_catalog.jsonb_typeof(input -> 'booking_id') is distinct from 'string'
        or private.try_uuid(input ->> 'booking_id') is null then
        perform private.raise_error(
            'VALIDATION_FAILED', 'input.booking_id must be a booking id.', 'input.booking_id'
        );
    end if;
    return pg_catalog.jsonb_build_object('booking_id', (input ->> 'booking_id')::uuid);
end;
$$;

-- noqa: disable=LT02
insert into private.job_types as t (
    type, description, validator, user_startable, max_attempts, lease_seconds, priority,
    retry_base, retry_cap, expires_after, retention
)
values
('payment.create_intent',
    'Creates the booking''s Stripe PaymentIntent and stores its id and client secret.',
    'private.validate_booking_job(jsonb)'::regprocedure, false, 8, 60, 10,
    interval '2 seconds', interval '5 minutes', interval '7 days', interval '30 days'),
('payment.cancel',
    'Cancels an unpaid booking: its PaymentIntent at Stripe if it has one, else locally.',
    'private.validate_booking_job(jsonb)'::regprocedure, false, 8, 60, 10,
    interval '2 seconds', interval '5 minutes', interval '7 days', interval '30 days'),
('payment.refund',
    'Refunds a paid booking''s PaymentIntent in full; the booking ends cancelled.',
    'private.validate_booking_job(jsonb)'::regprocedure, false, 8, 60, 10,
    interval '2 seconds', interval '5 minutes', interval '7 days', interval '30 days'),
('booking.confirm',
    'Confirms a paid booking (paid -> confirmed).',
    'private.validate_booking_job(jsonb)'::regprocedure, false, 8, 30, 20,
    interval '2 seconds', interval '5 minutes', interval '7 days', interval '30 days')
on conflict (type) do update set
    description = excluded.description,
    validator = excluded.validator,
    user_startable = excluded.user_startable;
-- noqa: enable=LT02

create or replace function private.enqueue_booking_job(
    job_type text, booking public.bookings
)
returns uuid
language sql
security invoker
set search_path = ''
as $$
    select private.enqueue_job(
        job_type, pg_catalog.jsonb_build_object('booking_id', booking.id), booking.user_id
    )
$$;

-- ============================================================================
-- create_booking: validation in the RPC (security invoker, RLS shows only active hotels), the
-- row and its job made by a definer (users have no insert privilege on bookings).
-- ============================================================================
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
    if insert_booking.check_in is null or insert_booking.check_in < current_date then
        perform private.raise_error(
            'VALIDATION_FAILED', 'check_in must be today or later.', 'check_in'
        );
    end if;
    if insert_booking.check_out is null or insert_booking.check_out <= insert_booking.check_in
        or insert_booking.check_out - insert_booking.check_in > 30 then
        perform private.raise_error(
            'VALIDATION_FAILED', 'check_out must be 1 to 30 nights after check_in.', 'check_out'
        );
    end if;
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

create or replace function public.create_booking(
    hotel_id uuid,
    check_in date,
    check_out date,
    idempotency_key text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_replay jsonb;
    v_state text;
    v_message text;
    v_detail text;
begin
    perform private.require_user();
    v_replay := private.idempotency_begin('create_booking', idempotency_key, pg_catalog.jsonb_build_object(
        'hotel_id', hotel_id, 'check_in', check_in, 'check_out', check_out
    ));
    if v_replay is not null then
        return v_replay;
    end if;

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
    if check_out - check_in > 30 then
        perform private.raise_error(
            'VALIDATION_FAILED', 'A booking is at most 30 nights.', 'check_out'
        );
    end if;
    -- RLS shows only active hotels: a missing and an inactive hotel look the same
    if not exists (select 1 from public.hotels as h where h.id = create_booking.hotel_id) then
        perform private.raise_error('NOT_FOUND', 'Hotel not found.', 'hotel_id');
    end if;

    return private.idempotency_finish(
        201, private.insert_booking(hotel_id, check_in, check_out)
    );
exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
    v_detail = pg_exception_detail;
    perform private.reraise(v_state, v_message, v_detail);
    return null;
end;
$$;

-- ============================================================================
-- cancel_booking: unpaid bookings get payment.cancel (cancel the PaymentIntent if there is
-- one, else cancel locally), paid and confirmed ones payment.refund. Asking again while the
-- first request's job is pending answers the same job: one booking, one cancellation.
-- ============================================================================
create or replace function private.request_booking_cancellation(booking_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := private.require_user();
    v_booking public.bookings;
    v_job_id uuid;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = request_booking_cancellation.booking_id and b.user_id = v_user
    for update;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Booking not found.', 'booking_id');
    end if;
    if v_booking.status in ('completed', 'cancelled') then
        perform private.raise_error(
            'INVALID_STATE',
            pg_catalog.format('A %s booking cannot be cancelled.', v_booking.status),
            'booking_id'
        );
    end if;
    if v_booking.cancel_job_id is not null and exists (
        select 1 from public.jobs as j
        where j.id = v_booking.cancel_job_id and j.status in ('queued', 'processing')
    ) then
        v_job_id := v_booking.cancel_job_id;
    else
        v_job_id := private.enqueue_booking_job(
            case when v_booking.status in ('paid', 'confirmed') then 'payment.refund'
                else 'payment.cancel' end,
            v_booking
        );
        update public.bookings as b
        set cancel_requested_at = pg_catalog.now(), cancel_job_id = v_job_id
        where b.id = v_booking.id;
    end if;
    return pg_catalog.jsonb_build_object(
        'id', v_booking.id, 'status', v_booking.status, 'jobId', v_job_id
    );
end;
$$;

create or replace function public.cancel_booking(
    booking_id uuid,
    idempotency_key text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_replay jsonb;
    v_state text;
    v_message text;
    v_detail text;
begin
    perform private.require_user();
    v_replay := private.idempotency_begin('cancel_booking', idempotency_key, pg_catalog.jsonb_build_object(
        'booking_id', booking_id
    ));
    if v_replay is not null then
        return v_replay;
    end if;
    if booking_id is null then
        perform private.raise_error('VALIDATION_FAILED', 'booking_id is required.', 'booking_id');
    end if;
    return private.idempotency_finish(202, private.request_booking_cancellation(booking_id));
exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
    v_detail = pg_exception_detail;
    perform private.reraise(v_state, v_message, v_detail);
    return null;
end;
$$;

-- ============================================================================
-- Stripe events: stored once by id, applied in Postgres.
-- ============================================================================
create table if not exists private.stripe_events (
    id text primary key,
    type text not null,
    created timestamptz not null,
    payload jsonb not null,
    received_at timestamptz not null default now(),
    processed_at timestamptz,
    outcome text constraint stripe_events_outcome_check check (outcome in (
        'applied', 'stale', 'ignored', 'unhandled', 'not_found'
    )),
    booking_id uuid references public.bookings (id) on delete set null,
    request_id text,
    error text
);
comment on table private.stripe_events is
'Every Stripe event received (webhooks or webhook.replay), once by its id, with what applying '
'it did: applied | stale (older than the booking''s last applied event) | ignored (the state '
'machine forbids it, or it does not match the booking) | unhandled (a type we do not act on) | '
'not_found (no booking). Payloads are purged after 90 days.';

create index if not exists stripe_events_booking_id_idx on private.stripe_events (booking_id);
create index if not exists stripe_events_received_at_idx on private.stripe_events (received_at);

create or replace function private.try_uuid(value text)
returns uuid
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
    if value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        return value::uuid;
    end if;
    return null;
end;
$$;

-- A Stripe message safe to show the booking's owner: Stripe's card messages are written for
-- customers; keep one line of at most 500 characters.
create or replace function private.user_safe_error(message text)
returns text
language sql
immutable
security invoker
set search_path = ''
as $$
    select nullif(pg_catalog.left(pg_catalog.regexp_replace(
        pg_catalog.btrim(message), '[[:cntrl:]]+', ' ', 'g'
    ), 500), '')
$$;

-- Record a refund on a booking (from charge.refunded or from the worker's refund call):
-- amount_refunded only grows, refunded_at is the first refund's time, and a full refund
-- cancels a paid or confirmed booking. Returns true when something changed.
create or replace function private.record_booking_refund(
    booking public.bookings, amount_refunded integer, fully_refunded boolean
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_amount integer := least(greatest(coalesce(amount_refunded, 0), 0), booking.amount);
    v_status text := booking.status;
begin
    if fully_refunded and private.booking_transition_allowed(booking.status, 'cancelled') then
        v_status := 'cancelled';
    end if;
    if v_amount <= booking.amount_refunded and v_status = booking.status then
        return false;
    end if;
    update public.bookings as b
    set amount_refunded = greatest(b.amount_refunded, v_amount),
        refunded_at = coalesce(b.refunded_at, pg_catalog.now()),
        status = v_status
    where b.id = booking.id;
    return true;
end;
$$;

-- Apply one event to its booking. Called by record_stripe_event only (as its owner).
-- Returns {outcome, booking_id, error}.
create or replace function private.apply_stripe_event(
    event_type text, event_created timestamptz, object jsonb
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_target text;
    v_pi_id text;
    v_booking_id uuid := private.try_uuid(object -> 'metadata' ->> 'booking_id');
    v_booking public.bookings;
    v_error text;
begin
    v_target := case event_type
        when 'payment_intent.processing' then 'processing'
        when 'payment_intent.succeeded' then 'paid'
        when 'payment_intent.payment_failed' then 'payment_failed'
        when 'payment_intent.canceled' then 'cancelled'
        when 'charge.refunded' then 'refunded'
    end;
    if v_target is null then
        return pg_catalog.jsonb_build_object('outcome', 'unhandled');
    end if;
    v_pi_id := case when v_target = 'refunded' then object ->> 'payment_intent'
        else object ->> 'id' end;

    if v_booking_id is not null then
        select b.* into v_booking from public.bookings as b where b.id = v_booking_id for update;
    end if;
    if v_booking.id is null and v_pi_id is not null then
        select b.* into v_booking from public.bookings as b
        where b.payment_intent_id = v_pi_id for update;
    end if;
    if v_booking.id is null then
        return pg_catalog.jsonb_build_object('outcome', 'not_found');
    end if;

    if v_pi_id is null or (v_booking.payment_intent_id is not null
        and v_booking.payment_intent_id <> v_pi_id) then
        return pg_catalog.jsonb_build_object(
            'outcome', 'ignored', 'booking_id', v_booking.id,
            'error', 'The PaymentIntent is not the booking''s.'
        );
    end if;
    if v_booking.last_event_created is not null
        and event_created < v_booking.last_event_created then
        return pg_catalog.jsonb_build_object('outcome', 'stale', 'booking_id', v_booking.id);
    end if;

    if v_target = 'refunded' then
        -- the PaymentIntent is the booking's own: set once, from the event if the worker has
        -- not stored it yet
        update public.bookings as b
        set payment_intent_id = v_pi_id, last_event_created = event_created
        where b.id = v_booking.id
        returning b.* into v_booking;
        perform private.record_booking_refund(
            v_booking,
            (object ->> 'amount_refunded')::integer,
            coalesce((object ->> 'refunded')::boolean, false)
        );
        return pg_catalog.jsonb_build_object('outcome', 'applied', 'booking_id', v_booking.id);
    end if;

    if v_target = 'paid' and (
        (object ->> 'amount')::bigint is distinct from v_booking.amount
        or pg_catalog.upper(object ->> 'currency') is distinct from v_booking.currency
    ) then
        return pg_catalog.jsonb_build_object(
            'outcome', 'ignored', 'booking_id', v_booking.id,
            'error', 'The amount or currency differs from the booking''s.'
        );
    end if;

    if v_booking.status <> v_target
        and not private.booking_transition_allowed(v_booking.status, v_target) then
        -- money arrived for a booking already cancelled: give it back
        if v_target = 'paid' and v_booking.status = 'cancelled' and v_booking.refunded_at is null
        then
            perform private.enqueue_booking_job('payment.refund', v_booking);
        end if;
        return pg_catalog.jsonb_build_object(
            'outcome', 'ignored', 'booking_id', v_booking.id,
            'error', pg_catalog.format(
                'A booking cannot go from %s to %s.', v_booking.status, v_target
            )
        );
    end if;

    v_error := private.user_safe_error(object -> 'last_payment_error' ->> 'message');
    if v_target = 'payment_failed' then
        v_error := coalesce(v_error, 'The payment failed.');
    end if;
    update public.bookings as b
    set status = v_target,
        payment_intent_id = v_pi_id,
        error = v_error,
        payment_method = coalesce(object ->> 'payment_method', b.payment_method),
        last_event_created = event_created
    where b.id = v_booking.id;
    if v_target = 'paid' and v_booking.status <> 'paid' then
        perform private.enqueue_booking_job('booking.confirm', v_booking);
    end if;
    return pg_catalog.jsonb_build_object('outcome', 'applied', 'booking_id', v_booking.id);
end;
$$;

-- The web service's one entry point (and webhook.replay's): store the event once by its id
-- and apply it. A duplicate changes nothing. Never raises for an event it cannot apply: that
-- is an outcome, acknowledged to Stripe. Raises VALIDATION_FAILED for a malformed event.
create or replace function private.record_stripe_event(event jsonb, request_id text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_id text := event ->> 'id';
    v_type text := event ->> 'type';
    v_created timestamptz;
    v_result jsonb;
begin
    if request_id ~ '^[A-Za-z0-9._-]{8,128}$' then
        perform pg_catalog.set_config('wayfare.request_id', request_id, true);
    end if;
    if pg_catalog.jsonb_typeof(event) is distinct from 'object' then
        perform private.raise_error('VALIDATION_FAILED', 'The event must be a JSON object.', 'event');
    end if;
    if v_id is null or v_id !~ '^[A-Za-z0-9_]{1,255}$' then
        perform private.raise_error('VALIDATION_FAILED', 'The event has no valid id.', 'id');
    end if;
    if v_type is null or v_type !~ '^[a-z0-9_.]{1,255}$' then
        perform private.raise_error('VALIDATION_FAILED', 'The event has no valid type.', 'type');
    end if;
    if pg_catalog.jsonb_typeof(event -> 'created') is distinct from 'number' then
        perform private.raise_error(
            'VALIDATION_FAILED', 'The event has no valid created time.', 'created'
        );
    end if;
    v_created := pg_catalog.to_timestamp((event ->> 'created')::double precision);

    -- one delivery of an event id at a time (a concurrent duplicate waits here, then sees
    -- the first one's row); the lock lasts until commit
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('stripe_event:' || v_id, 0)
    );
    if exists (select 1 from private.stripe_events as e where e.id = v_id) then
        return pg_catalog.jsonb_build_object('eventId', v_id, 'type', v_type, 'outcome', 'duplicate');
    end if;

    begin
        v_result := private.apply_stripe_event(
            v_type, v_created, coalesce(event -> 'data' -> 'object', '{}'::jsonb)
        );
    exception when data_exception then
        -- a field of the wrong type or out of range (amount_refunded: "abc"): retrying cannot
        -- help, so record it and acknowledge
        v_result := pg_catalog.jsonb_build_object(
            'outcome', 'ignored', 'error', 'The event''s data is malformed.'
        );
    end;
    insert into private.stripe_events as e (
        id, type, created, payload, request_id, processed_at, outcome, booking_id, error
    )
    values (
        v_id, v_type, v_created, event, private.request_id(), pg_catalog.clock_timestamp(),
        v_result ->> 'outcome', (v_result ->> 'booking_id')::uuid, v_result ->> 'error'
    );
    return pg_catalog.jsonb_build_object(
        'eventId', v_id, 'type', v_type, 'outcome', v_result ->> 'outcome',
        'bookingId', v_result ->> 'booking_id'
    );
end;
$$;

create or replace function private.purge_stripe_events()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with gone as (
        delete from private.stripe_events as e
        where e.received_at < pg_catalog.now() - interval '90 days'
        returning 1
    )
    select pg_catalog.count(*) from gone
$$;

-- ============================================================================
-- The worker's payment handlers (worker/handlers/payments.py) call these. Each locks the
-- booking, checks its state and returns what the handler needs; none trusts the caller.
-- ============================================================================

-- What a handler needs to know about a booking (null when it does not exist).
create or replace function private.booking_for_payment(booking_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    select pg_catalog.jsonb_build_object(
        'id', b.id, 'user_id', b.user_id, 'status', b.status, 'amount', b.amount,
        'currency', b.currency, 'payment_intent_id', b.payment_intent_id,
        'amount_refunded', b.amount_refunded, 'refunded_at', b.refunded_at,
        'hotel_id', b.hotel_id, 'check_in', b.check_in, 'check_out', b.check_out
    )
    from public.bookings as b
    where b.id = booking_for_payment.booking_id
$$;

-- Store the PaymentIntent made for a booking. The client secret is kept only while the
-- booking can still be paid. Returns the booking's status (the handler cancels the
-- PaymentIntent when the booking was cancelled meanwhile).
create or replace function private.attach_payment_intent(
    booking_id uuid, payment_intent_id text, client_secret text
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = attach_payment_intent.booking_id
    for update;
    if not found then
        perform private.raise_error('NOT_FOUND', 'Booking not found.', 'booking_id');
    end if;
    if v_booking.payment_intent_id is not null
        and v_booking.payment_intent_id <> attach_payment_intent.payment_intent_id then
        perform private.raise_error(
            'INVALID_STATE', 'The booking already has another PaymentIntent.', 'payment_intent_id'
        );
    end if;
    update public.bookings as b
    set payment_intent_id = attach_payment_intent.payment_intent_id,
        client_secret = case
            when b.status in ('payment_pending', 'payment_failed', 'processing')
                then attach_payment_intent.client_secret
        end
    where b.id = v_booking.id;
    return v_booking.status;
end;
$$;

-- Cancel an unpaid booking whose PaymentIntent the caller cancelled at Stripe (or that has
-- none: payment_intent_id null). Returns the status the booking ends in (a booking that was
-- paid meanwhile stays paid), or 'retry' when the booking's PaymentIntent is not the one the
-- caller cancelled (the worker attached one meanwhile): cancel that one first.
create or replace function private.cancel_unpaid_booking(
    booking_id uuid, payment_intent_id text default null
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = cancel_unpaid_booking.booking_id
    for update;
    if not found then
        return null;
    end if;
    if v_booking.status in ('payment_pending', 'processing', 'payment_failed') then
        if v_booking.payment_intent_id is distinct from cancel_unpaid_booking.payment_intent_id
        then
            return 'retry';
        end if;
        update public.bookings as b set status = 'cancelled' where b.id = v_booking.id;
        return 'cancelled';
    end if;
    return v_booking.status;
end;
$$;

-- Record the refund the worker made (the charge.refunded webhook records it as well; both
-- paths are idempotent). Returns the booking's status afterwards.
create or replace function private.record_refund(booking_id uuid, amount_refunded integer)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b
    where b.id = record_refund.booking_id
    for update;
    if not found then
        return null;
    end if;
    perform private.record_booking_refund(
        v_booking, record_refund.amount_refunded,
        record_refund.amount_refunded >= v_booking.amount
    );
    return (select b.status from public.bookings as b where b.id = v_booking.id);
end;
$$;

-- paid -> confirmed (the booking.confirm job). Any other status is left alone and returned.
create or replace function private.confirm_booking(booking_id uuid)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_status text;
begin
    select b.status into v_status from public.bookings as b
    where b.id = confirm_booking.booking_id
    for update;
    if v_status = 'paid' then
        update public.bookings as b set status = 'confirmed', client_secret = null
        where b.id = confirm_booking.booking_id;
        return 'confirmed';
    end if;
    return v_status;
end;
$$;

-- A user-safe reason on the booking (a Stripe failure in a handler). With mark_failed, a
-- booking still waiting for its PaymentIntent becomes payment_failed (it cannot be paid).
-- Returns the booking's status.
create or replace function private.record_booking_error(
    booking_id uuid, message text, mark_failed boolean default false
)
returns text
language sql
security definer
set search_path = ''
as $$
    update public.bookings as b
    set error = coalesce(private.user_safe_error(record_booking_error.message),
            'The payment could not be processed.'),
        status = case
            when record_booking_error.mark_failed and b.status = 'payment_pending'
                then 'payment_failed'
            else b.status
        end
    where b.id = record_booking_error.booking_id
    returning b.status
$$;

-- ============================================================================
-- pg_cron: confirmed stays end as completed the day after check-out; unpaid bookings expire
-- after a day; old events are purged.
-- ============================================================================
create or replace function private.complete_past_bookings()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with done as (
        update public.bookings as b
        set status = 'completed'
        where b.status = 'confirmed' and b.check_out < current_date
        returning 1
    )
    select pg_catalog.count(*) from done
$$;

-- Bookings nobody paid within a day (still payment_pending or payment_failed, no cancellation
-- asked) are cancelled through payment.cancel, which cancels their PaymentIntent too: no
-- booking waits for its money forever. Processing ones are left alone (money in flight).
create or replace function private.expire_unpaid_bookings(
    older_than interval default interval '24 hours'
)
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
    v_job_id uuid;
    v_count int := 0;
begin
    for v_booking in
        select b.* from public.bookings as b
        where
            b.status in ('payment_pending', 'payment_failed')
            and b.cancel_requested_at is null
            and b.created_at < pg_catalog.now() - expire_unpaid_bookings.older_than
        order by b.created_at
        limit 1000
        for update skip locked
    loop
        v_job_id := private.enqueue_booking_job('payment.cancel', v_booking);
        update public.bookings as b
        set cancel_requested_at = pg_catalog.now(), cancel_job_id = v_job_id
        where b.id = v_booking.id;
        v_count := v_count + 1;
    end loop;
    return v_count;
end;
$$;

select private.schedule(
    'wayfare-complete-past-bookings', '23 * * * *', 'select private.complete_past_bookings()'
);
select private.schedule(
    'wayfare-expire-unpaid-bookings', '*/15 * * * *', 'select private.expire_unpaid_bookings()'
);
select private.schedule(
    'wayfare-purge-stripe-events', '41 3 * * *', 'select private.purge_stripe_events()'
);

-- ============================================================================
-- Grants
-- ============================================================================
revoke all on table public.hotels, public.bookings from anon, authenticated;
grant all on table public.hotels, public.bookings to service_role;
grant select on table public.hotels to anon, authenticated;
grant select on table public.bookings to authenticated;
revoke all on table private.stripe_events from anon, authenticated, service_role;

-- the trigger runs as whoever writes a booking (service_role may; users have no privilege)
grant execute on function private.booking_transition_allowed(text, text) to service_role;

grant execute on function private.insert_booking(uuid, date, date) to authenticated, service_role;
grant execute on function private.request_booking_cancellation(uuid)
to authenticated, service_role;
grant execute on function public.create_booking(uuid, date, date, text)
to anon, authenticated, service_role;
grant execute on function public.cancel_booking(uuid, text) to anon, authenticated, service_role;

grant execute on function private.record_stripe_event(jsonb, text) to wayfare_web;

grant execute on function private.booking_for_payment(uuid) to wayfare_worker;
grant execute on function private.attach_payment_intent(uuid, text, text) to wayfare_worker;
grant execute on function private.cancel_unpaid_booking(uuid, text) to wayfare_worker;
grant execute on function private.record_refund(uuid, integer) to wayfare_worker;
grant execute on function private.confirm_booking(uuid) to wayfare_worker;
grant execute on function private.record_booking_error(uuid, text, boolean) to wayfare_worker;
