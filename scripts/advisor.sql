-- The project's security and performance advisor: Supabase's database advisor lints
-- (splinter), written for this schema and run by `make lint` (scripts/advisor.py).
-- One row per finding: (lint, object, detail). Zero rows is a pass.
--
-- Exposed schema: public (what PostgREST serves). Project schemas: public and private.
-- An exception is written next to its check, with the reason; nothing else is skipped.

with
api_roles (role_name) as (values ('anon'), ('authenticated')),

project_functions as (
    select
        p.oid,
        n.nspname as schema_name,
        p.oid::regprocedure::text as signature,
        p.prosecdef as definer,
        p.proconfig as config
    from pg_catalog.pg_proc as p
    inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
    where
        n.nspname in ('public', 'private')
        -- functions an extension installed are the extension's business
        and not exists (
            select 1 from pg_catalog.pg_depend as d
            where d.objid = p.oid and d.classid = 'pg_catalog.pg_proc'::regclass and d.deptype = 'e'
        )
),

project_tables as (
    select
        c.oid,
        n.nspname as schema_name,
        c.relname,
        c.relkind,
        c.relrowsecurity
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where
        n.nspname in ('public', 'private')
        and c.relkind in ('r', 'p', 'v', 'm')
        and not exists (
            select 1 from pg_catalog.pg_depend as d
            where d.objid = c.oid and d.classid = 'pg_catalog.pg_class'::regclass and d.deptype = 'e'
        )
),

-- 0013 rls_disabled_in_public: a table the API serves without row level security
rls_disabled_in_public as (
    select
        'rls_disabled_in_public' as lint,
        t.oid::regclass::text as object_name,
        'RLS is disabled: every API role with a grant reads and writes all rows' as detail
    from project_tables as t
    where t.schema_name = 'public' and t.relkind in ('r', 'p') and not t.relrowsecurity
),

-- 0007 policy_exists_rls_disabled: policies written but not enforced
policy_exists_rls_disabled as (
    select distinct
        'policy_exists_rls_disabled' as lint,
        t.oid::regclass::text as object_name,
        'the table has policies but RLS is disabled, so none of them applies' as detail
    from project_tables as t
    inner join pg_catalog.pg_policy as pol on t.oid = pol.polrelid
    where not t.relrowsecurity
),

-- 0010 security_definer_view: a view in public that runs as its owner (bypassing RLS)
security_definer_view as (
    select
        'security_definer_view' as lint,
        t.oid::regclass::text as object_name,
        'the view runs with its owner''s rights: set (security_invoker = true)' as detail
    from project_tables as t
    inner join pg_catalog.pg_class as c on t.oid = c.oid
    where
        t.schema_name = 'public' and t.relkind in ('v', 'm')
        and not coalesce(
            (pg_catalog.array_position(c.reloptions, 'security_invoker=true') is not null)
            or (pg_catalog.array_position(c.reloptions, 'security_invoker=on') is not null),
            false
        )
),

-- 0002 auth_users_exposed: a view in public over auth.users that an API role can read
auth_users_exposed as (
    select distinct
        'auth_users_exposed' as lint,
        t.oid::regclass::text as object_name,
        'the view reads auth.users and ' || r.role_name || ' may select it' as detail
    from project_tables as t
    inner join pg_catalog.pg_rewrite as rw on t.oid = rw.ev_class
    inner join pg_catalog.pg_depend as d on rw.oid = d.objid
    cross join api_roles as r
    where
        t.schema_name = 'public' and t.relkind in ('v', 'm')
        and d.refobjid = 'auth.users'::regclass
        and pg_catalog.has_table_privilege(r.role_name, t.oid, 'select')
),

-- 0023 sensitive_columns_exposed: credentials or PII columns the API can read without RLS
sensitive_columns_exposed as (
    select distinct
        'sensitive_columns_exposed' as lint,
        t.oid::regclass::text || '.' || a.attname as object_name,
        'a sensitive column readable by ' || r.role_name || ' without row level security' as detail
    from project_tables as t
    inner join pg_catalog.pg_attribute as a on t.oid = a.attrelid
    cross join api_roles as r
    where
        t.schema_name = 'public'
        and (t.relkind in ('v', 'm') or not t.relrowsecurity)
        and a.attnum > 0 and not a.attisdropped
        and a.attname ~* (
            '(password|passwd|secret|token|api_?key|private_?key|ssn|social_security|passport'
            || '|card_?number|cvv|cvc|iban|account_number|tax_id|national_id|date_of_birth|dob$)'
        )
        and pg_catalog.has_column_privilege(r.role_name, t.oid, a.attnum, 'select')
),

-- 0015 rls_references_user_metadata: user_metadata is editable by the user, never an authority
rls_references_user_metadata as (
    select
        'rls_references_user_metadata' as lint,
        pol.schemaname || '.' || pol.tablename || ' policy "' || pol.policyname || '"' as object_name,
        'the policy reads user_metadata, which every user can change about themselves' as detail
    from pg_catalog.pg_policies as pol
    where
        pol.schemaname in ('public', 'private')
        and (coalesce(pol.qual, '') || ' ' || coalesce(pol.with_check, ''))
        ~* '(user_metadata|raw_user_meta_data)'
),

-- 0011 function_search_path_mutable: a function resolving names through the caller's path
function_search_path_mutable as (
    select
        'function_search_path_mutable' as lint,
        f.signature as object_name,
        'no `set search_path`: names resolve through the caller''s search_path' as detail
    from project_functions as f
    where not exists (
        select 1 from pg_catalog.unnest(f.config) as c (setting)
        where c.setting like 'search_path=%'
    )
),

-- 0028/0029 {anon,authenticated}_security_definer_function_executable. A definer runs as its
-- owner; an API role that can call it directly reaches whatever it does. Exceptions: the
-- definers the public RPCs (security invoker) and the pre-request call directly, each one
-- checking auth.uid() itself; why each is needed: docs/security.md (tests/
-- test_least_privilege.py shows each grant is needed, pgTAP 40_least_privilege pins them).
definer_exceptions (role_name, signature) as (
    values
    ('anon', 'private.check_request()'),
    ('anon', 'private.require_user()'),
    ('authenticated', 'private.check_request()'),
    ('authenticated', 'private.require_user()'),
    ('authenticated', 'private.raise_error(text,text,text,text,jsonb)'),
    ('authenticated', 'private.idempotency_begin(text,text,jsonb)'),
    ('authenticated', 'private.idempotency_finish(integer,jsonb)'),
    ('authenticated', 'private.start_user_job(text,jsonb)'),
    ('authenticated', 'private.cancel_user_job(uuid)'),
    ('authenticated', 'private.insert_booking(uuid,date,date)'),
    ('authenticated', 'private.request_booking_cancellation(uuid)')
),

security_definer_function_executable as (
    select
        r.role_name || '_security_definer_function_executable' as lint,
        f.signature as object_name,
        r.role_name || ' may execute this security definer function directly' as detail
    from project_functions as f
    cross join api_roles as r
    where
        f.definer
        and pg_catalog.has_function_privilege(r.role_name, f.oid, 'execute')
        and not exists (
            select 1 from definer_exceptions as e
            where e.role_name = r.role_name and e.signature = f.signature
        )
),

-- 0003 auth_rls_initplan: auth.uid() (or auth.jwt(), current_setting()) called per row in a
-- policy; `(select auth.uid())` is evaluated once per statement
auth_rls_initplan as (
    select
        'auth_rls_initplan' as lint,
        pol.schemaname || '.' || pol.tablename || ' policy "' || pol.policyname || '"' as object_name,
        'a per-row call of auth.<fn>() or current_setting(): wrap it as (select auth.uid())' as detail
    from pg_catalog.pg_policies as pol
    where
        pol.schemaname in ('public', 'private')
        and pg_catalog.regexp_replace(
            coalesce(pol.qual, '') || ' ' || coalesce(pol.with_check, ''),
            'select\s+(auth\.(uid|jwt|role|email)\(\)|current_setting\([^)]*\))', '', 'gi'
        ) ~* '(auth\.(uid|jwt|role|email)\(\)|current_setting\()'
),

-- 0001 unindexed_foreign_keys: deleting or updating the referenced row scans this table
unindexed_foreign_keys as (
    select
        'unindexed_foreign_keys' as lint,
        con.conrelid::regclass::text || ' ' || con.conname as object_name,
        'no index starts with the foreign key''s columns' as detail
    from pg_catalog.pg_constraint as con
    inner join project_tables as t on con.conrelid = t.oid
    where
        con.contype = 'f'
        and not exists (
            select 1 from pg_catalog.pg_index as i
            where
                i.indrelid = con.conrelid
                and (i.indkey::int2[])[0:pg_catalog.cardinality(con.conkey) - 1]
                @> con.conkey
                and pg_catalog.cardinality(con.conkey) <= i.indnkeyatts
                and (i.indkey::int2[])[0:pg_catalog.cardinality(con.conkey) - 1]
                <@ con.conkey
        )
),

-- 0009 duplicate_index: two indexes doing the same work (every write pays for both)
duplicate_index as (
    select
        'duplicate_index' as lint,
        pg_catalog.min(i.indexrelid::regclass::text) || ' = '
        || pg_catalog.max(i.indexrelid::regclass::text) as object_name,
        'identical indexes on ' || i.indrelid::regclass::text as detail
    from pg_catalog.pg_index as i
    inner join project_tables as t on i.indrelid = t.oid
    inner join pg_catalog.pg_class as ic on i.indexrelid = ic.oid
    group by
        i.indrelid, ic.relam, i.indkey::text, i.indclass::text, i.indcollation::text,
        coalesce(pg_catalog.pg_get_expr(i.indexprs, i.indrelid), ''),
        coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '')
    having pg_catalog.count(*) > 1
),

-- 0006 multiple_permissive_policies: each permissive policy of a role and action is evaluated
-- for every row; merge them into one
multiple_permissive_policies as (
    select
        'multiple_permissive_policies' as lint,
        pol.schemaname || '.' || pol.tablename || ' ' || r.role_name || ' ' || a.action as object_name,
        pg_catalog.count(*)::text || ' permissive policies: '
        || pg_catalog.string_agg(pol.policyname, ', ' order by pol.policyname) as detail
    from pg_catalog.pg_policies as pol
    cross join api_roles as r
    cross join (values ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE')) as a (action)
    where
        pol.schemaname in ('public', 'private')
        and pol.permissive = 'PERMISSIVE'
        and (pol.cmd = a.action or pol.cmd = 'ALL')
        and (r.role_name = any(pol.roles) or 'public' = any(pol.roles))
    group by pol.schemaname, pol.tablename, r.role_name, a.action
    having pg_catalog.count(*) > 1
),

-- pg_upgrade refuses a cluster whose user tables store these OID-referencing types (their
-- OIDs change across major versions); store text and resolve with to_regprocedure() & co
reg_type_columns as (
    select
        'reg_type_column_blocks_pg_upgrade' as lint,
        t.oid::regclass::text || '.' || a.attname as object_name,
        'column of type ' || a.atttypid::regtype::text || ': pg_upgrade cannot carry it' as detail
    from project_tables as t
    inner join pg_catalog.pg_attribute as a on t.oid = a.attrelid
    where
        t.relkind in ('r', 'p', 'm')
        and a.attnum > 0 and not a.attisdropped
        and a.atttypid in (
            'regproc'::regtype, 'regprocedure'::regtype, 'regoper'::regtype,
            'regoperator'::regtype, 'regconfig'::regtype, 'regdictionary'::regtype,
            'regnamespace'::regtype, 'regcollation'::regtype
        )
)

select
    f.lint,
    f.object_name,
    f.detail
from rls_disabled_in_public as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from policy_exists_rls_disabled as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from security_definer_view as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from auth_users_exposed as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from sensitive_columns_exposed as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from rls_references_user_metadata as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from function_search_path_mutable as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from security_definer_function_executable as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from auth_rls_initplan as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from unindexed_foreign_keys as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from duplicate_index as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from multiple_permissive_policies as f
union all
select
    f.lint,
    f.object_name,
    f.detail
from reg_type_columns as f
order by lint, object_name;
