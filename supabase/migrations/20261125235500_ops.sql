-- Operations: one snapshot of the system's health for the web service's /ops page and the
-- database-derived series of /metrics (contract §12). Read-only; granted to wayfare_web.

create or replace function private.ops_snapshot(time_window interval default interval '1 hour')
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    with recent as (
        select
            j.type,
            j.status,
            pg_catalog.date_part('epoch', j.started_at - j.created_at) as pickup_s,
            pg_catalog.date_part('epoch', j.completed_at - j.created_at) as latency_s,
            pg_catalog.date_part('epoch', j.completed_at - j.started_at) as run_s,
            pg_catalog.date_trunc('minute', j.completed_at) as minute
        from public.jobs as j
        where j.completed_at >= pg_catalog.now() - time_window
    ),
    queue as (
        select
            j.type,
            pg_catalog.count(*) filter (where j.status = 'queued') as queued,
            pg_catalog.count(*) filter (where j.status = 'processing') as processing,
            pg_catalog.max(pg_catalog.now() - j.created_at) filter (
                where j.status = 'queued' and j.run_at <= pg_catalog.now()
            ) as oldest
        from public.jobs as j
        where j.status in ('queued', 'processing')
        group by j.type
    ),
    ai as (
        select
            l.model,
            pg_catalog.count(*) as calls,
            pg_catalog.count(*) filter (where l.error is not null) as errors,
            coalesce(pg_catalog.sum((l.token_usage ->> 'total_tokens')::bigint), 0) as tokens
        from private.ai_logs as l
        where l.created_at >= pg_catalog.now() - time_window
        group by l.model
    ),
    hooks as (
        select
            e.outcome,
            e.type,
            pg_catalog.date_part('epoch', e.received_at - e.created) as lag_s,
            e.received_at
        from private.stripe_events as e
        where e.received_at >= pg_catalog.now() - time_window
    )
    select pg_catalog.jsonb_build_object(
        'generated_at', pg_catalog.now(),
        'window_seconds', pg_catalog.date_part('epoch', time_window),
        'queue', pg_catalog.jsonb_build_object(
            'queued', coalesce((select pg_catalog.sum(q.queued) from queue as q), 0),
            'processing', coalesce((select pg_catalog.sum(q.processing) from queue as q), 0),
            'oldest_queued_seconds', (
                select pg_catalog.date_part('epoch', pg_catalog.max(q.oldest)) from queue as q
            ),
            'by_type', coalesce((
                select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                    'type', q.type, 'queued', q.queued, 'processing', q.processing,
                    'oldest_queued_seconds', pg_catalog.date_part('epoch', q.oldest)
                ) order by q.type)
                from queue as q
            ), '[]'::jsonb)
        ),
        'jobs', pg_catalog.jsonb_build_object(
            'completed', (select pg_catalog.count(*) from recent as r where r.status = 'completed'),
            'failed', (select pg_catalog.count(*) from recent as r where r.status = 'failed'),
            'cancelled', (select pg_catalog.count(*) from recent as r where r.status = 'cancelled'),
            'latency_seconds', (
                select pg_catalog.jsonb_build_object(
                    'p50', pg_catalog.percentile_cont(0.5) within group (order by r.latency_s),
                    'p95', pg_catalog.percentile_cont(0.95) within group (order by r.latency_s),
                    'p99', pg_catalog.percentile_cont(0.99) within group (order by r.latency_s)
                )
                from recent as r where r.status = 'completed'
            ),
            'pickup_seconds', (
                select pg_catalog.jsonb_build_object(
                    'p50', pg_catalog.percentile_cont(0.5) within group (order by r.pickup_s),
                    'p95', pg_catalog.percentile_cont(0.95) within group (order by r.pickup_s),
                    'p99', pg_catalog.percentile_cont(0.99) within group (order by r.pickup_s)
                )
                from recent as r where r.pickup_s is not null
            ),
            'by_type', coalesce((
                select pg_catalog.jsonb_agg(t.item order by t.type)
                from (
                    select r.type, pg_catalog.jsonb_build_object(
                        'type', r.type,
                        'completed', pg_catalog.count(*) filter (where r.status = 'completed'),
                        'failed', pg_catalog.count(*) filter (where r.status = 'failed'),
                        'cancelled', pg_catalog.count(*) filter (where r.status = 'cancelled'),
                        'run_seconds_p50', pg_catalog.percentile_cont(0.5)
                        within group (order by r.run_s),
                        'run_seconds_p95', pg_catalog.percentile_cont(0.95)
                        within group (order by r.run_s),
                        'run_seconds_sum', coalesce(pg_catalog.sum(r.run_s), 0)
                    ) as item
                    from recent as r group by r.type
                ) as t
            ), '[]'::jsonb),
            'per_minute', coalesce((
                select pg_catalog.jsonb_agg(m.item order by m.minute)
                from (
                    select r.minute, pg_catalog.jsonb_build_object(
                        'minute', r.minute,
                        'completed', pg_catalog.count(*) filter (where r.status = 'completed'),
                        'failed', pg_catalog.count(*) filter (where r.status = 'failed'),
                        'latency_p95', pg_catalog.percentile_cont(0.95)
                        within group (order by r.latency_s)
                    ) as item
                    from recent as r group by r.minute
                ) as m
            ), '[]'::jsonb)
        ),
        'ai', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'model', a.model, 'calls', a.calls, 'errors', a.errors, 'tokens', a.tokens
            ) order by a.model)
            from ai as a
        ), '[]'::jsonb),
        'webhooks', pg_catalog.jsonb_build_object(
            'events', (select pg_catalog.count(*) from hooks),
            'by_outcome', coalesce((
                select pg_catalog.jsonb_object_agg(o.outcome, o.n)
                from (
                    select coalesce(h.outcome, 'pending') as outcome, pg_catalog.count(*) as n
                    from hooks as h group by 1
                ) as o
            ), '{}'::jsonb),
            'lag_seconds_p50', (
                select pg_catalog.percentile_cont(0.5) within group (order by h.lag_s)
                from hooks as h
            ),
            'lag_seconds_p95', (
                select pg_catalog.percentile_cont(0.95) within group (order by h.lag_s)
                from hooks as h
            ),
            'last_received_at', (
                select pg_catalog.max(e.received_at) from private.stripe_events as e
            )
        ),
        'bookings', coalesce((
            select pg_catalog.jsonb_object_agg(b.status, b.n)
            from (
                select bk.status, pg_catalog.count(*) as n
                from public.bookings as bk group by bk.status
            ) as b
        ), '{}'::jsonb)
    )
$$;

grant execute on function private.ops_snapshot(interval) to wayfare_web;
