-- private.job_types.validator becomes text naming the function ('private.validate_x(jsonb)')
-- instead of a regprocedure: pg_upgrade refuses a cluster whose tables store reg* OID types
-- (a function's OID changes across a major upgrade), so a hosted project could not be
-- upgraded. A trigger keeps the old guarantee (the function must exist when the row is
-- written) and stores the name schema-qualified; private.job_input resolves it with
-- to_regprocedure() at call time. Found by the advisor (scripts/advisor.sql).

set local search_path = '';  -- regprocedure::text is schema-qualified under an empty path

alter table private.job_types alter column validator type text using validator::text;

alter table private.job_types drop constraint if exists job_types_validator_format;
alter table private.job_types add constraint job_types_validator_format
check (validator ~ '^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\(jsonb\)$');

comment on column private.job_types.validator is
'private.<fn>(jsonb), as text: the function that returns the normalised input or raises '
'VALIDATION_FAILED naming input.<key>. Must exist when the row is written.';

create or replace function private.check_job_type_validator()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_function regprocedure := pg_catalog.to_regprocedure(new.validator);
begin
    if v_function is null then
        raise exception 'job type %: validator % does not exist', new.type, new.validator
        using errcode = 'undefined_function';
    end if;
    new.validator := v_function::text;  -- schema-qualified: the search_path is empty here
    return new;
end;
$$;

create or replace trigger job_types_validator_exists
before insert or update of validator on private.job_types
for each row execute function private.check_job_type_validator();

-- As in 20261125220000_jobs.sql, but the validator is resolved by name at call time.
create or replace function private.job_input(job_type private.job_types, input jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_input jsonb := coalesce(input, '{}'::jsonb);
    v_validator regprocedure := pg_catalog.to_regprocedure(job_type.validator);
    v_result jsonb;
begin
    if pg_catalog.octet_length(v_input::text) > job_type.max_input_bytes then
        perform private.raise_error(
            'VALIDATION_FAILED',
            pg_catalog.format('input must be at most %s bytes of JSON.', job_type.max_input_bytes),
            'input'
        );
    end if;
    if pg_catalog.jsonb_typeof(v_input) <> 'object' then
        perform private.raise_error('VALIDATION_FAILED', 'input must be a JSON object.', 'input');
    end if;
    if v_validator is null then
        raise exception 'job type %: validator % does not exist', job_type.type, job_type.validator
        using errcode = 'undefined_function';
    end if;
    execute pg_catalog.format('select %s($1)', v_validator::oid::regproc)
    into v_result using v_input;
    return v_result;
end;
$$;

revoke all on function private.check_job_type_validator() from public;
