-- Timeouts (docs/errors.md, TIMEOUT): the roles' limits are Supabase's, every RPC's exception tail answers a
-- cancelled statement through private.raise_timeout (408 TIMEOUT, Retry-After), and a
-- cancelled RPC leaves nothing behind.
begin;
select plan(6);

select is(
    (select s.setconfig from pg_db_role_setting as s
        where s.setrole = 'anon'::regrole and s.setdatabase = 0),
    array['statement_timeout=3s'], 'anon: 3 s'
);
select is(
    (select s.setconfig from pg_db_role_setting as s
        where s.setrole = 'authenticated'::regrole and s.setdatabase = 0),
    array['statement_timeout=8s'], 'authenticated: 8 s'
);

select is_empty(
    $$ select p.proname from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.prolang = (select oid from pg_language where lanname = 'plpgsql')
         and p.prorettype <> 'trigger'::regtype
         and p.prosrc not like '%when query_canceled then%perform private.raise_timeout();%' $$,
    'every plpgsql RPC answers a cancelled statement through private.raise_timeout'
);

create function pg_temp.error_of(statement text)
returns jsonb
language plpgsql
as $$
declare
    v_message text;
    v_detail text;
begin
    execute statement;
    return null;
exception when sqlstate 'PGRST' then
    get stacked diagnostics v_message = message_text, v_detail = pg_exception_detail;
    return v_message::jsonb || jsonb_build_object('http', v_detail::jsonb);
end;
$$;
grant execute on function pg_temp.error_of(text) to authenticated;

select is(
    (select e ->> 'code' || ' ' || (e -> 'http' ->> 'status') || ' '
        || (e -> 'http' -> 'headers' ->> 'Retry-After') || ' '
        || ((e ->> 'details')::jsonb ->> 'type') || ' ' || ((e ->> 'details')::jsonb ->> 'retryable')
     from pg_temp.error_of('select private.raise_timeout()') as e),
    'TIMEOUT 408 1 timeout true', 'raise_timeout: 408 TIMEOUT, Retry-After 1, retryable'
);

-- A cancellation inside an RPC (here: a trigger of this test only that sleeps past the limit)
-- is answered by the RPC's tail and rolls back its work.
select tests.create_user('alice@timeouts.test') as alice \gset
create function pg_temp.slow() returns trigger language plpgsql as $$
begin
    perform pg_sleep(1);
    return new;
end;
$$;
create trigger zz_slow before insert on public.trips for each row execute function pg_temp.slow();
select tests.authenticate_as(:'alice');
set local statement_timeout = '200ms';
select is(
    pg_temp.error_of($$select public.create_trip('Lisbon', idempotency_key => 'k1')$$) ->> 'code',
    'TIMEOUT', 'create_trip past its limit: TIMEOUT'
);
set local statement_timeout = 0;
select tests.clear_authentication();
select is(
    (select count(*) from private.idempotency_keys as k where k.user_id = :'alice'),
    0::bigint, 'no idempotency record remains'
);

select * from finish();
rollback;
