-- The last line of defence on private.ai_logs (contract §9), widened: besides email addresses
-- and Luhn-valid card numbers the trigger now refuses phone numbers, US social security
-- numbers and IBANs, the structured types the redactor (wayfare/redact) finds with recall 1.0.
-- It is deliberately narrower than the redactor (no names, addresses or passports without
-- context, no national phone formats without a cue) so that travel data is never refused:
-- flight numbers, prices, dates, booking references, room numbers and coordinates pass.
-- A refused row makes the worker keep usage only (worker/handlers/research.py).

-- ============================================================================
-- Detectors (immutable, security invoker: they read nothing but their argument)
-- ============================================================================

-- IBAN checksum (ISO 13616): move the first four characters to the end, letters as 10..35,
-- the number mod 97 must be 1. `compact` is upper-case letters and digits only.
create or replace function private.iban_valid(compact text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_rearranged text;
    v_remainder int := 0;
    v_char text;
    v_value int;
begin
    if compact !~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$' then
        return false;
    end if;
    v_rearranged := pg_catalog.substr(compact, 5) || pg_catalog.substr(compact, 1, 4);
    for i in 1..pg_catalog.length(v_rearranged) loop
        v_char := pg_catalog.substr(v_rearranged, i, 1);
        if v_char ~ '[0-9]' then
            v_remainder := (v_remainder * 10 + v_char::int) % 97;
        else
            v_value := pg_catalog.ascii(v_char) - 55;  -- 'A' = 10 ... 'Z' = 35
            v_remainder := (v_remainder * 100 + v_value) % 97;
        end if;
    end loop;
    return v_remainder = 1;
end;
$$;

-- An IBAN written compact or in groups of spaces/dashes. Upper case only, unless the text says
-- "iban". A greedy candidate may swallow the next word ("... 0130 00 BIC"), so every prefix of
-- 15 or more characters that ends on a whole group is tried.
create or replace function private.contains_iban(value text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_text text := value;
    v_candidate text;
    v_compact text;
begin
    if value is null then
        return false;
    end if;
    if pg_catalog.strpos(pg_catalog.lower(value), 'iban') > 0 then
        v_text := pg_catalog.upper(value);
    end if;
    for v_candidate in
        select m[1] from pg_catalog.regexp_matches(
            v_text, '(?:^|[^A-Za-z0-9])([A-Z]{2}[0-9]{2}(?:[ -]?[A-Z0-9]){11,32})', 'g'
        ) as m
    loop
        v_compact := pg_catalog.regexp_replace(v_candidate, '[^A-Z0-9]', '', 'g');
        for v_length in reverse least(pg_catalog.length(v_compact), 34)..15 loop
            if private.iban_valid(pg_catalog.substr(v_compact, 1, v_length)) then
                return true;
            end if;
        end loop;
    end loop;
    return false;
end;
$$;

-- US social security numbers: 123-45-6789 anywhere (area not 000, 666 or 9xx; group not 00;
-- serial not 0000), or nine digits within 20 characters after "SSN" / "social security".
create or replace function private.contains_ssn(value text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_match text[];
begin
    if value is null then
        return false;
    end if;
    for v_match in
        select m from pg_catalog.regexp_matches(
            value, '(?:^|[^0-9A-Za-z_-])([0-8][0-9]{2})-([0-9]{2})-([0-9]{4})(?![0-9A-Za-z_]|-[0-9])', 'g'
        ) as m
    loop
        if v_match[1] not in ('000', '666') and v_match[2] <> '00' and v_match[3] <> '0000' then
            return true;
        end if;
    end loop;
    return value
    ~* '(\mssn|\msocial security|\msoc\.? sec)[^0-9]{0,20}[0-9]{3}[ .-]?[0-9]{2}[ .-]?[0-9]{4}(?![0-9])';
end;
$$;

-- Phone numbers: international (+ then 8-15 digits in groups), the North American shape
-- ((415) 555-2671, 415-555-2671, 415.555.2671), or 7-15 digits right after a phone cue
-- ("call", "phone", "tel", "mobile", "whatsapp", ...), unless that run is a date.
create or replace function private.contains_phone(value text)
returns boolean
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_run text;
    v_digits int;
begin
    if value is null then
        return false;
    end if;
    for v_run in
        select m[1] from pg_catalog.regexp_matches(
            value, '(?:^|[^0-9A-Za-z+])(\+[ ]?[1-9](?:[ ./-]?\(?[0-9]\)?){6,16})', 'g'
        ) as m
    loop
        v_digits := pg_catalog.length(pg_catalog.regexp_replace(v_run, '[^0-9]', '', 'g'));
        if v_digits between 8 and 15 then
            return true;
        end if;
    end loop;
    if value ~ '(?:^|[^0-9A-Za-z_.,-])(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[-. ])[0-9]{3}[-. ][0-9]{4}(?![0-9A-Za-z_]|[.,-][0-9])'
        then
        return true;
    end if;
    for v_run in
        select m[1] from pg_catalog.regexp_matches(
            value,
            '(?:\mphone|\mtel|\mtelephone|\mmobile|\mcell|\mcall|\mwhatsapp|\msms|\mfax)'
            || '[^0-9+]{0,15}(\(?[0-9][0-9 ().-]{5,22}[0-9])',
            'gi'
        ) as m
    loop
        v_digits := pg_catalog.length(pg_catalog.regexp_replace(v_run, '[^0-9]', '', 'g'));
        if v_digits between 7 and 15
            and v_run !~ '[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}'
            and v_run !~ '[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{2,4}' then
            return true;
        end if;
    end loop;
    return false;
end;
$$;

-- Which kind of PII a text still holds (null: none it can recognise). The kind, never the
-- value, goes into the refusal's message.
create or replace function private.blocked_pii_kind(value text)
returns text
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
        return null;
    end if;
    if value ~* '[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}' then
        return 'an email address';
    end if;
    if private.contains_iban(value) then
        return 'an IBAN';
    end if;
    for v_run in
        select m[1] from pg_catalog.regexp_matches(value, '([0-9][0-9 -]{11,40}[0-9])', 'g') as m
    loop
        v_digits := pg_catalog.regexp_replace(v_run, '[^0-9]', '', 'g');
        -- any 13-19 digit window of the run (a card can sit beside other numbers)
        for v_length in 13..19 loop
            for v_start in 1..greatest(pg_catalog.length(v_digits) - v_length + 1, 0) loop
                if private.luhn_valid(pg_catalog.substr(v_digits, v_start, v_length)) then
                    return 'a card number';
                end if;
            end loop;
        end loop;
    end loop;
    if private.contains_ssn(value) then
        return 'a social security number';
    end if;
    if private.contains_phone(value) then
        return 'a phone number';
    end if;
    return null;
end;
$$;

-- Kept for its callers: true when blocked_pii_kind finds anything.
create or replace function private.contains_blocked_pii(value text)
returns boolean
language sql
immutable
security invoker
set search_path = ''
as $$
    select private.blocked_pii_kind(value) is not null
$$;

create or replace function private.refuse_unredacted_ai_log()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_kind text := coalesce(
        private.blocked_pii_kind(new.prompt_redacted),
        private.blocked_pii_kind(new.response_redacted),
        private.blocked_pii_kind(new.structured_output::text),
        private.blocked_pii_kind(new.error)
    );
begin
    if v_kind is not null then
        raise exception 'ai_logs row refused: it still holds %', v_kind
        using errcode = 'check_violation',
        hint = 'Redact the text first (wayfare.redact); the row was not written.';
    end if;
    return new;
end;
$$;

revoke all on function private.iban_valid(text) from public;
revoke all on function private.contains_iban(text) from public;
revoke all on function private.contains_ssn(text) from public;
revoke all on function private.contains_phone(text) from public;
revoke all on function private.blocked_pii_kind(text) from public;
