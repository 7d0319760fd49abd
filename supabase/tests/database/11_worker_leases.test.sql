-- Stale leases (docs/jobs.md): a holder whose lease expired, and whose job was claimed again,
-- can change nothing through any worker function, even under the same worker id; the attempt
-- is required (no signature without it, a null is refused).
begin;
select plan(32);
grant usage on schema extensions to wayfare_worker;
grant execute on all functions in schema extensions to wayfare_worker;

select tests.create_user('carol@leases.test') as carol \gset

-- The old signatures (attempt default null) are gone.
select hasnt_function('private', 'complete_job', array['uuid', 'text', 'jsonb', 'integer'],
    'complete_job without a required attempt is gone');
select hasnt_function('private', 'heartbeat_job', array['uuid', 'text', 'integer', 'jsonb', 'integer'],
    'heartbeat_job with a trailing optional attempt is gone');
select hasnt_function('private', 'fail_job', array['uuid', 'text', 'text', 'boolean', 'text', 'integer'],
    'fail_job with a trailing optional attempt is gone');
select is(
    (select count(*)::int from pg_catalog.pg_proc as p
     join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
     where n.nspname = 'private'
       and p.proname in ('heartbeat_jobs', 'heartbeat_job', 'complete_jobs', 'complete_job',
                         'fail_job', 'cancel_confirmed', 'release_jobs', 'release_job')
       and p.pronargdefaults > 0
       and exists (
           select 1 from pg_catalog.unnest(p.proargnames) with ordinality as a (name, i)
           where a.name in ('attempt', 'attempts') and a.i > p.pronargs - p.pronargdefaults
       )),
    0, 'no worker function has a default for its attempt');

-- j: claimed by worker-a (attempt 1), its lease expired, recovered, claimed again by worker-a
-- itself (attempt 2): the same worker id, a new attempt. The stale holder is (worker-a, 1).
update public.jobs set status = 'cancelled', completed_at = now() where status in ('queued', 'processing');
delete from private.job_leases;
select private.enqueue_job('demo.steps', '{"steps": 5}', :'carol') as j \gset
set local role wayfare_worker;
select is((select attempt from private.claim_jobs('worker-a', array['demo.steps'], 1)), 1, 'claimed, attempt 1');
reset role;
update private.job_leases set locked_until = now() - interval '1 second' where job_id = :'j';
select is(private.recover_expired_leases(), 1, 'the lease expired and was recovered');
set local role wayfare_worker;
select is((select attempt from private.claim_jobs('worker-a', array['demo.steps'], 1)), 2, 'claimed again, attempt 2');
select is(private.heartbeat_job(:'j', 'worker-a', 2, 30, '{"done": 1}'), 'continue', 'the holder checkpoints');
reset role;

-- the state a stale call must leave alone
create temporary table before_state on commit drop as
select j.status, j.progress, j.checkpoints, j.result, j.attempts, j.run_at, j.error, j.completed_at,
       l.worker_id, l.attempt, l.locked_until, l.heartbeat_at,
       (select count(*) from private.job_errors as e where e.job_id = j.id) as errors
from public.jobs as j join private.job_leases as l on l.job_id = j.id
where j.id = :'j';
update private.job_leases set locked_until = now() + interval '5 seconds', heartbeat_at = now() - interval '1 minute'
where job_id = :'j';
update before_state set locked_until = now() + interval '5 seconds', heartbeat_at = now() - interval '1 minute';
grant select on before_state to wayfare_worker;

create function pg_temp.changes(job uuid) returns setof text language sql as $$
    select 'changed'::text
    from (
        select j.status, j.progress, j.checkpoints, j.result, j.attempts, j.run_at, j.error, j.completed_at,
               l.worker_id, l.attempt, l.locked_until, l.heartbeat_at,
               (select count(*) from private.job_errors as e where e.job_id = j.id) as errors
        from public.jobs as j left join private.job_leases as l on l.job_id = j.id
        where j.id = job
        except
        select * from before_state
    ) as d
$$;

set local role wayfare_worker;
select is(private.heartbeat_job(:'j', 'worker-a', 1), 'lost', 'stale heartbeat_job: lost');
select is(private.heartbeat_job(:'j', 'worker-a', 1, 99, '{"done": 5, "stale": true}'), 'lost',
    'stale heartbeat_job with progress and a checkpoint: lost');
select is(
    (select state from private.heartbeat_jobs('worker-a', array[:'j']::uuid[], array[1])), 'lost',
    'stale heartbeat_jobs: lost');
select is(private.complete_job(:'j', 'worker-a', 1, '{"stale": true}'), false, 'stale complete_job: false');
select is_empty(
    format($$ select * from private.complete_jobs('worker-a', array[%L]::uuid[], array['{"stale": 1}']::jsonb[], array[1]) $$, :'j'),
    'stale complete_jobs: nothing completed');
select is(private.fail_job(:'j', 'worker-a', 1, 'stale failure', true), 'lost', 'stale fail_job (retryable): lost');
select is(private.fail_job(:'j', 'worker-a', 1, 'stale failure', false, 'Stale.'), 'lost', 'stale fail_job (permanent): lost');
select is(private.cancel_confirmed(:'j', 'worker-a', 1), false, 'stale cancel_confirmed: false');
select is(private.release_job(:'j', 'worker-a', 1), false, 'stale release_job: false');
select is(private.release_jobs('worker-a', array[:'j']::uuid[], array[1]), 0, 'stale release_jobs: 0');
-- another worker with the current attempt number is just as stale
select is(private.complete_job(:'j', 'worker-b', 2, '{"stale": true}'), false, 'another worker, same attempt: false');
select is(private.heartbeat_job(:'j', 'worker-b', 2, 99, '{"stale": true}'), 'lost', 'another worker''s checkpoint: lost');
reset role;
select is_empty(format($$ select * from pg_temp.changes(%L) $$, :'j'),
    'none of the stale calls changed the job, its lease or its errors');

-- a null attempt is refused, never treated as "any attempt"
set local role wayfare_worker;
select throws_ok(format($$ select private.complete_job(%L, 'worker-a', null, '{}') $$, :'j'),
    'PGRST', null, 'complete_job refuses a null attempt');
select throws_ok(format($$ select private.heartbeat_job(%L, 'worker-a', null) $$, :'j'),
    'PGRST', null, 'heartbeat_job refuses a null attempt');
select throws_ok(format($$ select private.fail_job(%L, 'worker-a', null, 'x', true) $$, :'j'),
    'PGRST', null, 'fail_job refuses a null attempt');
select throws_ok(format($$ select private.cancel_confirmed(%L, 'worker-a', null) $$, :'j'),
    'PGRST', null, 'cancel_confirmed refuses a null attempt');
select throws_ok(format($$ select private.release_job(%L, 'worker-a', null) $$, :'j'),
    'PGRST', null, 'release_job refuses a null attempt');
select throws_ok(format($$ select * from private.heartbeat_jobs('worker-a', array[%L]::uuid[], array[null]::int[]) $$, :'j'),
    'PGRST', null, 'heartbeat_jobs refuses a null attempt');
select throws_ok(format($$ select * from private.complete_jobs('worker-a', array[%L]::uuid[], array['{}']::jsonb[], null) $$, :'j'),
    'PGRST', null, 'complete_jobs refuses missing attempts');
select throws_ok(format($$ select private.release_jobs('worker-a', array[%L, %L]::uuid[], array[2]) $$, :'j', :'j'),
    'PGRST', null, 'release_jobs refuses attempts that do not pair up with the jobs');
reset role;
select is_empty(format($$ select * from pg_temp.changes(%L) $$, :'j'), 'and the refused calls changed nothing');

-- the holder (worker-a, attempt 2) still owns the job
set local role wayfare_worker;
select is(private.complete_job(:'j', 'worker-a', 2, '{"ok": true}'), true, 'the current holder completes it');
reset role;
select results_eq(
    format($$ select status, result, checkpoints from public.jobs where id = %L $$, :'j'),
    $$ values ('completed'::text, '{"ok": true}'::jsonb, '{"done": 1}'::jsonb) $$,
    'with its own result and checkpoint, none of the stale ones'
);

select * from finish();
rollback;
