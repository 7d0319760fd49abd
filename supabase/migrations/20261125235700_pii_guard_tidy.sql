-- The PII guard's functions again, without the loop variables they declared but never used
-- (FOR loops declare their own): plpgsql_check warned. Same behaviour.

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
