-- Query times per RPC for /ops and /metrics (issue 13), from pg_stat_statements.
-- Supabase enables pg_stat_statements (schema extensions) on every project; the local cluster
-- preloads it (scripts/stack.sh). Where the extension is not available this creates nothing
-- and private.rpc_query_stats() says so instead of failing.
do $$
begin
    if exists (select 1 from pg_available_extensions where name = 'pg_stat_statements') then
        create schema if not exists extensions;
        create extension if not exists pg_stat_statements with schema extensions;
    end if;
end
$$;

-- One row per public function called at top level (PostgREST calls an RPC as
-- `... "public"."create_trip"(...) ...`): calls, mean, max and total execution time in ms,
-- summed over the statement shapes that call it, in this database. A definer because
-- pg_stat_statements shows other roles' query text only to pg_read_all_stats; the grant to
-- wayfare_web (the web service's role) is the check; the result holds no query text.
create or replace function private.rpc_query_stats()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_rows jsonb;
begin
    if to_regclass('extensions.pg_stat_statements') is null then
        return jsonb_build_object(
            'available', false, 'reason', 'pg_stat_statements is not installed',
            'rpcs', '[]'::jsonb
        );
    end if;
    begin
        execute $query$
            select coalesce(jsonb_agg(to_jsonb(r) order by r.total_ms desc), '[]'::jsonb)
            from (
                select
                    f.rpc,
                    sum(s.calls)::bigint as calls,
                    round((sum(s.total_exec_time) / nullif(sum(s.calls), 0))::numeric, 3)
                        as mean_ms,
                    round(max(s.max_exec_time)::numeric, 3) as max_ms,
                    round(sum(s.total_exec_time)::numeric, 3) as total_ms
                from extensions.pg_stat_statements as s
                cross join lateral (
                    select substring(s.query from '"public"\."([a-z0-9_]+)"\(') as rpc
                ) as f
                where
                    s.dbid = (
                        select d.oid from pg_catalog.pg_database as d
                        where d.datname = pg_catalog.current_database()
                    )
                    and f.rpc in (
                        select p.proname from pg_catalog.pg_proc as p
                        where p.pronamespace = 'public'::regnamespace
                    )
                group by f.rpc
            ) as r
        $query$ into v_rows;
    exception when object_not_in_prerequisite_state then
        return jsonb_build_object(
            'available', false,
            'reason', 'pg_stat_statements is not in shared_preload_libraries',
            'rpcs', '[]'::jsonb
        );
    end;
    return jsonb_build_object('available', true, 'rpcs', v_rows);
end
$$;

revoke all on function private.rpc_query_stats() from public;
revoke all on function private.rpc_query_stats() from anon, authenticated, service_role;
grant execute on function private.rpc_query_stats() to wayfare_web;
