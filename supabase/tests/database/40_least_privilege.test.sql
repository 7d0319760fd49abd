begin;
select plan(6);

-- ============================================================================
-- Least privilege for the API roles (why each grant exists: docs/security.md).
-- The exact list: a new grant to anon or authenticated in schema private must be added here
-- and explained there.
-- ============================================================================
select results_eq(
    $$ select p.oid::regprocedure::text from pg_proc as p
       join pg_namespace as n on n.oid = p.pronamespace
       where n.nspname = 'private' and has_function_privilege('anon', p.oid, 'execute')
       order by 1 $$,
    $$ values
       ('private.check_request()'),
       ('private.require_user()'),
       ('private.reraise(text,text,text)') $$,
    'anon executes only the pre-request, require_user and reraise in private'
);

select results_eq(
    $$ select p.oid::regprocedure::text from pg_proc as p
       join pg_namespace as n on n.oid = p.pronamespace
       where n.nspname = 'private' and has_function_privilege('authenticated', p.oid, 'execute')
       order by 1 $$,
    $$ values
       ('private.cancel_user_job(uuid)'),
       ('private.check_booking_request(uuid,date,date)'),
       ('private.check_order(timestamp with time zone,text,timestamp with time zone)'),
       ('private.check_request()'),
       ('private.check_timestamp(text,date)'),
       ('private.check_timestamp(text,timestamp with time zone)'),
       ('private.idempotency_begin(text,text,jsonb)'),
       ('private.idempotency_finish(integer,jsonb)'),
       ('private.insert_booking(uuid,date,date)'),
       ('private.job_accepted(uuid)'),
       ('private.raise_error(text,text,text,text,jsonb)'),
       ('private.raise_timeout()'),
       ('private.request_booking_cancellation(uuid)'),
       ('private.request_id()'),
       ('private.require_user()'),
       ('private.reraise(text,text,text)'),
       ('private.start_user_job(text,jsonb)'),
       ('private.valid_client_temp_id(text)'),
       ('private.valid_text(text,text,integer,integer,boolean)') $$,
    'authenticated executes exactly the private functions the public RPCs call directly'
);

select results_eq(
    $$ select r from unnest(array['anon', 'authenticated']) as r
       where has_schema_privilege(r, 'private', 'usage') order by 1 $$,
    $$ values ('anon'), ('authenticated') $$,
    'both API roles keep USAGE on private (invoker RPCs call private helpers)'
);

select is_empty(
    $$ select r || ' ' || c.oid::regclass::text from pg_class as c
       join pg_namespace as n on n.oid = c.relnamespace
       cross join unnest(array['anon', 'authenticated']) as r
       where n.nspname = 'private' and c.relkind in ('r', 'p', 'v', 'm', 'S')
         and (has_table_privilege(r, c.oid, 'select, insert, update, delete, truncate')
              or (c.relkind = 'S' and has_sequence_privilege(r, c.oid, 'usage, select, update'))) $$,
    'no API role holds any privilege on a table, view or sequence in private'
);

select is_empty(
    $$ select r || ' ' || n.nspname from pg_namespace as n
       cross join unnest(array['anon', 'authenticated']) as r
       where has_schema_privilege(r, n.oid, 'create') and n.nspname not like 'pg_temp%' $$,
    'no API role may create objects in any schema'
);

-- a definer in private that anon could call directly would be reachable without any RPC
select throws_ok(
    $$ set local role anon; select private.start_user_job('demo.noop', '{}'::jsonb) $$,
    '42501', null, 'anon cannot call private.start_user_job directly'
);

select * from finish();
rollback;
