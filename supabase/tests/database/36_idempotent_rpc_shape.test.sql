-- Every idempotent RPC has the shape docs/api.md describes: private.idempotency_begin, then the
-- work, then private.idempotency_finish, and the shared exception tail (query_canceled ->
-- private.raise_timeout(), others -> private.reraise). Read from pg_proc.prosrc, so a new or
-- redefined RPC that drops a piece fails here, and so does a new RPC that calls
-- idempotency_begin without being listed here, or any RPC without the exception tail.
begin;
select plan(5);

create function pg_temp.lacks_shape(p_names text [])
returns setof text
language sql
as $$
    select p.proname::text
    from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.proname = any(p_names)
      and p.prosrc !~ (
          'private\.idempotency_begin\(.*private\.idempotency_finish\(.*'
          || 'exception\s+when query_canceled then.*perform private\.raise_timeout\(\);.*'
          || 'when others then.*perform private\.reraise\(v_state, v_message, v_detail\);'
      )
    order by 1
$$;

select is(
    (select count(*)::int from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
     where n.nspname = 'public' and p.proname in (
         'create_trip', 'create_activity', 'start_job', 'start_research', 'create_booking',
         'cancel_booking')),
    6, 'the six idempotent RPCs exist (one overload each)'
);

select is_empty(
    $$ select * from pg_temp.lacks_shape(array['create_trip', 'create_activity', 'start_job',
       'start_research', 'create_booking', 'cancel_booking']) $$,
    'every idempotent RPC calls idempotency_begin and _finish and has the shared exception tail'
);

select is_empty(
    $$ select p.proname::text from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.prosrc ~ 'private\.idempotency_begin\('
         and p.proname <> all(array['create_trip', 'create_activity', 'start_job',
                                    'start_research', 'create_booking', 'cancel_booking']) $$,
    'no other RPC calls idempotency_begin (a new idempotent RPC is added to the list above)'
);

-- cancel_job is not idempotent (cancelling twice is harmless) but answers errors the same way
select is_empty(
    $$ select p.proname::text from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
       where n.nspname = 'public'
         and p.prosrc !~ (
             'exception\s+when query_canceled then.*perform private\.raise_timeout\(\);.*'
             || 'when others then.*perform private\.reraise\(v_state, v_message, v_detail\);'
         ) $$,
    'every RPC in public has the shared exception tail'
);

-- the check can fail: a planted RPC without the timeout branch is named
create function public.zz_planted_rpc()
returns void
language plpgsql
as $$
begin
    perform private.idempotency_begin(null, null, null);
    perform private.idempotency_finish(null, null, null);
exception
    when others then
        perform private.reraise(null, null, null);
end;
$$;
select results_eq(
    $$ select * from pg_temp.lacks_shape(array['zz_planted_rpc']) $$,
    array['zz_planted_rpc'],
    'an RPC without the query_canceled branch is caught'
);

select * from finish();
rollback;
