-- Stripe events that were signed (so they really come from Stripe) but cannot be an event we
-- apply: not JSON, nested too deep, not an object, no valid id/type, `created` out of range.
-- The web service answers 400 and keeps one row per distinct body here, so an operator can
-- see what Stripe sent (and replay it with `python -m webhook.replay` once it is understood).
-- Bad signatures are never stored (contract §10): they are logged and counted instead.

create table if not exists private.stripe_rejected_events (
    body_sha256 text primary key,
    event_id text,
    event_type text,
    reason text not null,
    body text not null,
    deliveries integer not null default 1,
    first_received_at timestamptz not null default pg_catalog.now(),
    last_received_at timestamptz not null default pg_catalog.now(),
    request_id text
);
comment on table private.stripe_rejected_events is
'Signed Stripe deliveries that are not an applicable event (answered 400): one row per distinct '
'body with the reason, how often it came and the last request id. Purged after 90 days.';

create index if not exists stripe_rejected_events_last_received_at_idx
on private.stripe_rejected_events (last_received_at);

revoke all on table private.stripe_rejected_events from public, anon, authenticated, service_role;

-- The web service's entry point for a rejected delivery. event_id and event_type are what
-- could be read from the body (or null); only short printable values are kept.
create or replace function private.record_rejected_stripe_event(
    body text, reason text, event_id text, event_type text, request_id text
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into private.stripe_rejected_events as r (
        body_sha256, event_id, event_type, reason, body, request_id
    )
    values (
        pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(body, 'UTF8')), 'hex'),
        case when event_id ~ '^[A-Za-z0-9_]{1,255}$' then event_id end,
        case when event_type ~ '^[a-z0-9_.]{1,255}$' then event_type end,
        pg_catalog.left(reason, 200),
        body,
        case when request_id ~ '^[A-Za-z0-9._-]{8,128}$' then request_id end
    )
    on conflict (body_sha256) do update
        set deliveries = r.deliveries + 1,
            last_received_at = pg_catalog.now(),
            request_id = excluded.request_id;
end;
$$;

create or replace function private.purge_stripe_rejected_events()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with gone as (
        delete from private.stripe_rejected_events as r
        where r.last_received_at < pg_catalog.now() - interval '90 days'
        returning 1
    )
    select pg_catalog.count(*) from gone
$$;

select private.schedule(
    'wayfare-purge-stripe-rejected-events', '43 3 * * *',
    'select private.purge_stripe_rejected_events()'
);

revoke all on function private.record_rejected_stripe_event(text, text, text, text, text) from public;
revoke all on function private.purge_stripe_rejected_events() from public;
grant execute on function private.record_rejected_stripe_event(text, text, text, text, text)
to wayfare_web;
