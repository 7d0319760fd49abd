-- Booking emails (issue 14), data minimisation: an outbox row needs the address and what the
-- mail shows only while it may still be sent. Once it is sent or failed, both are kept 30 days
-- (support: "which address did the confirmation go to?"), then cleared by pg_cron; the row
-- itself (kind, dedupe key, times, attempts, SMTP reason) stays as long as its booking. A row
-- without an address is never sent: an operator's resend of a scrubbed row ends skipped.

create or replace function private.scrub_sent_emails(older_than interval default interval '30 days')
returns bigint
language sql
security definer
set search_path = ''
as $$
    with scrubbed as (
        update private.email_outbox as o
        set recipient = null, details = '{}'::jsonb
        where
            o.status in ('sent', 'failed')
            and o.recipient is not null
            and coalesce(o.sent_at, o.failed_at, o.created_at)
            < pg_catalog.now() - scrub_sent_emails.older_than
        returning 1
    )
    select pg_catalog.count(*) from scrubbed
$$;

-- As in 20261201103000, plus: a pending row without an address (scrubbed, then put back by
-- hand) is skipped instead of sent.
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
    if v_row.recipient is null or not exists (
        select 1 from auth.users as u where u.id = v_row.user_id and u.deleted_at is null
    ) then
        update private.email_outbox as o
        set status = 'skipped', recipient = null, details = '{}'::jsonb,
            last_error = case when v_row.recipient is null
                then 'The address was cleared before the mail was sent.'
                else 'The user was deleted before the mail was sent.' end
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

create index if not exists email_outbox_unscrubbed_idx on private.email_outbox (created_at)
where recipient is not null and status in ('sent', 'failed');

revoke all on function private.scrub_sent_emails(interval) from public;

select private.schedule(
    'wayfare-scrub-sent-emails', '53 3 * * *', 'select private.scrub_sent_emails()'
);
