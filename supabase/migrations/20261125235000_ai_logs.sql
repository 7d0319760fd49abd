-- AI call logs (contract §9): one row per provider call, redacted text only and only with the
-- user's consent `redacted`, usage and timing always, 30 days, readable by no API role.
-- The worker redacts before it writes; a trigger here refuses any row whose text still holds
-- an email address or a Luhn-valid card number (the last line of defence).

-- ============================================================================
-- PII guards usable from SQL
-- ============================================================================
create or replace function private.luhn_valid(digits text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_sum int := 0;
    v_digit int;
    v_double boolean := false;
begin
    if digits !~ '^[0-9]{13,19}$' then
        return false;
    end if;
    for i in reverse pg_catalog.length(digits)..1 loop
        v_digit := pg_catalog.substr(digits, i, 1)::int;
        if v_double then
            v_digit := v_digit * 2;
            if v_digit > 9 then
                v_digit := v_digit - 9;
            end if;
        end if;
        v_sum := v_sum + v_digit;
        v_double := not v_double;
    end loop;
    return v_sum % 10 = 0;
end;
$$;

-- True when the text holds an email address or a Luhn-valid card number (13-19 digits in
-- any grouping of spaces or dashes).
create or replace function private.contains_blocked_pii(value text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_run text;
    v_digits text;
begin
    if value is null then
        return false;
    end if;
    if value ~* '[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}' then
        return true;
    end if;
    for v_run in
        select m[1] from pg_catalog.regexp_matches(value, '([0-9][0-9 -]{11,40}[0-9])', 'g') as m
    loop
        v_digits := pg_catalog.regexp_replace(v_run, '[^0-9]', '', 'g');
        -- any 13-19 digit window of the run (a card can sit beside other numbers)
        for v_length in 13..19 loop
            for v_start in 1..greatest(pg_catalog.length(v_digits) - v_length + 1, 0) loop
                if private.luhn_valid(pg_catalog.substr(v_digits, v_start, v_length)) then
                    return true;
                end if;
            end loop;
        end loop;
    end loop;
    return false;
end;
$$;

-- ============================================================================
-- The log
-- ============================================================================
create table if not exists private.ai_logs (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    job_id uuid references public.jobs (id) on delete set null,
    request_id text,
    provider text not null,
    model text not null,
    purpose text,
    prompt_redacted text,
    response_redacted text,
    structured_output jsonb,
    token_usage jsonb not null default '{}'::jsonb,
    duration_ms int constraint ai_logs_duration_non_negative check (duration_ms >= 0),
    attempts int not null default 1,
    error text,
    consent_level text not null default 'usage_only'
    constraint ai_logs_consent_level_check check (consent_level in ('usage_only', 'redacted')),
    data_classification text not null default 'internal'
    constraint ai_logs_classification_check
    check (data_classification in ('public', 'internal', 'confidential')),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null default (now() + interval '30 days'),
    -- usage_only keeps no prompt or response text at all
    constraint ai_logs_usage_only_keeps_no_text check (
        consent_level = 'redacted'
        or (prompt_redacted is null and response_redacted is null and structured_output is null)
    )
);
comment on table private.ai_logs is
'One row per AI provider call. Text only redacted, only with consent ''redacted''; 30 days.';

create index if not exists ai_logs_user_id_created_at_idx on private.ai_logs (user_id, created_at);
create index if not exists ai_logs_job_id_idx on private.ai_logs (job_id);
create index if not exists ai_logs_expires_at_idx on private.ai_logs (expires_at);

create or replace function private.refuse_unredacted_ai_log()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if private.contains_blocked_pii(new.prompt_redacted)
        or private.contains_blocked_pii(new.response_redacted)
        or private.contains_blocked_pii(new.structured_output::text)
        or private.contains_blocked_pii(new.error) then
        raise exception 'ai_logs row refused: it still holds an email address or a card number'
        using errcode = 'check_violation';
    end if;
    return new;
end;
$$;

create or replace trigger ai_logs_refuse_unredacted
before insert or update on private.ai_logs
for each row execute function private.refuse_unredacted_ai_log();

-- The worker's one way in: consent is read from the user's profile here, not trusted from
-- the caller; with usage_only the texts are dropped before the row is written.
create or replace function private.log_ai_call(
    user_id uuid,
    job_id uuid,
    request_id text,
    provider text,
    model text,
    purpose text,
    prompt_redacted text,
    response_redacted text,
    structured_output jsonb,
    token_usage jsonb,
    duration_ms int,
    attempts int,
    error text
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_consent text;
    v_id uuid;
begin
    select p.ai_consent into v_consent from public.profiles as p where p.id = log_ai_call.user_id;
    v_consent := coalesce(v_consent, 'usage_only');
    insert into private.ai_logs (
        user_id, job_id, request_id, provider, model, purpose, prompt_redacted,
        response_redacted, structured_output, token_usage, duration_ms, attempts, error,
        consent_level
    )
    values (
        log_ai_call.user_id, log_ai_call.job_id, log_ai_call.request_id, log_ai_call.provider,
        log_ai_call.model, log_ai_call.purpose,
        case when v_consent = 'redacted' then log_ai_call.prompt_redacted end,
        case when v_consent = 'redacted' then log_ai_call.response_redacted end,
        case when v_consent = 'redacted' then log_ai_call.structured_output end,
        coalesce(log_ai_call.token_usage, '{}'::jsonb), log_ai_call.duration_ms,
        coalesce(log_ai_call.attempts, 1), log_ai_call.error, v_consent
    )
    returning id into v_id;
    return v_id;
end;
$$;

create or replace function private.purge_expired_ai_logs()
returns bigint
language sql
security definer
set search_path = ''
as $$
    with gone as (
        delete from private.ai_logs as l where l.expires_at <= pg_catalog.now() returning 1
    )
    select pg_catalog.count(*) from gone
$$;

select private.schedule(
    'wayfare-purge-expired-ai-logs', '23 * * * *', 'select private.purge_expired_ai_logs()'
);

revoke all on table private.ai_logs from anon, authenticated, service_role;
grant execute on function private.log_ai_call(
    uuid, uuid, text, text, text, text, text, text, jsonb, jsonb, int, int, text
) to wayfare_worker;
