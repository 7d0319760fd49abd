-- Every argument of every RPC has a default, so PostgREST always finds the function and the
-- function itself answers 400 VALIDATION_FAILED for a missing one (docs/api.md).
begin;
select plan(2);

select is_empty(
    $$ select p.oid::regprocedure::text
       from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.prokind = 'f' and p.pronargs > p.pronargdefaults
         and p.prorettype <> 'trigger'::regtype $$,
    'no public function has an argument without a default'
);

select tests.create_user('alice@args.test') as alice \gset
select tests.authenticate_as(:'alice');
select throws_like('select public.create_booking()', '%hotel_id is required%',
    'create_booking() names hotel_id');

select * from finish();
rollback;
