begin;
select plan(2);

-- ============================================================================
-- Every table in public has row level security, and none is left without a policy.
-- ============================================================================
select is_empty(
    $$ select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity $$,
    'every table in public has RLS enabled'
);

select is_empty(
    $$ select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p')
         and not exists (select 1 from pg_policy p where p.polrelid = c.oid) $$,
    'every table in public has at least one policy'
);

select * from finish();
rollback;
