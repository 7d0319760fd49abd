begin;
select plan(60);
-- pgTAP itself, for the assertions made as the worker's role (rolled back with the rest)
grant usage on schema extensions to wayfare_worker;
grant execute on all functions in schema extensions to wayfare_worker;

select tests.create_user('alice@jobs.test') as alice \gset
select tests.create_user('bob@jobs.test') as bob \gset

-- ============================================================================
-- Privileges: users read, nobody writes through the API; internals are private
-- ============================================================================
select table_privs_are('public', 'jobs', 'authenticated', array['SELECT'],
    'authenticated may only select jobs');
select table_privs_are('public', 'jobs', 'anon', array[]::text[], 'anon has no privilege on jobs');
select table_privs_are('private', 'job_leases', 'authenticated', array[]::text[],
    'authenticated has no privilege on leases');
select table_privs_are('private', 'job_errors', 'authenticated', array[]::text[],
    'authenticated has no privilege on job errors');
select ok(
    not has_function_privilege('authenticated', 'private.claim_jobs(text, text[], int)', 'execute')
    and not has_function_privilege('anon', 'private.complete_job(uuid, text, int, jsonb)', 'execute')
    and not has_function_privilege('authenticated', 'private.enqueue_job(text, jsonb, uuid, text, timestamptz)', 'execute'),
    'API roles cannot call the worker functions or enqueue for anyone'
);
select ok(
    has_function_privilege('wayfare_worker', 'private.claim_jobs(text, text[], int)', 'execute')
    and has_function_privilege('wayfare_worker', 'private.complete_jobs(text, uuid[], jsonb[], int[])', 'execute')
    and pg_has_role('postgres', 'wayfare_worker', 'member')
    and pg_has_role('service_role', 'wayfare_worker', 'member'),
    'the worker role runs the worker functions; postgres and service_role are members'
);

-- ============================================================================
-- start_job through the RLS of its caller
-- ============================================================================
select tests.authenticate_as(:'alice');
select (public.start_job('demo.steps', '{"steps": 3}') ->> 'jobId') as job1 \gset
select results_eq(
    format($$ select type, status, input from public.jobs where id = %L $$, :'job1'),
    $$ values ('demo.steps'::text, 'queued'::text, '{"steps": 3, "step_ms": 0}'::jsonb) $$,
    'the owner sees the queued job with its normalised input'
);
select throws_ok(
    $$ insert into public.jobs (type, user_id) values ('demo.noop', auth.uid()) $$,
    '42501', null, 'the owner cannot insert a job directly'
);
select throws_ok(format($$ update public.jobs set status = 'completed' where id = %L $$, :'job1'),
    '42501', null, 'the owner cannot update a job');
select throws_ok(format($$ delete from public.jobs where id = %L $$, :'job1'),
    '42501', null, 'the owner cannot delete a job');
select throws_ok($$ select public.start_job('nope.nope', '{}') $$, 'PGRST', null,
    'an unknown type is refused');

select tests.authenticate_as(:'bob');
select is_empty(format($$ select 1 from public.jobs where id = %L $$, :'job1'),
    'another user cannot see the job');
select throws_ok(format($$ select public.cancel_job(%L) $$, :'job1'), 'PGRST', null,
    'another user cannot cancel the job');

select tests.authenticate_as_anon();
select throws_ok($$ select 1 from public.jobs $$, '42501', null, 'anon cannot select jobs');
select throws_ok($$ select public.start_job('demo.noop', '{}') $$, 'PGRST', null,
    'anon cannot start a job');
select tests.clear_authentication();

-- ============================================================================
-- Claiming: FOR UPDATE SKIP LOCKED, by priority, batches, leases
-- ============================================================================
update public.jobs set status = 'cancelled', completed_at = now();  -- start from an empty queue
select private.enqueue_job('demo.steps', '{"steps": 5}', :'alice') as j1 \gset
select private.enqueue_job('demo.steps', '{"steps": 5}', :'alice') as j2 \gset
select private.enqueue_job('demo.steps', '{"steps": 5}', :'alice') as j3 \gset
update public.jobs set priority = 1 where id = :'j3';
-- one transaction has one now(): order the queue by hand
update public.jobs set run_at = now() - interval '2 seconds' where id = :'j1';
update public.jobs set run_at = now() - interval '1 second' where id = :'j2';

set local role wayfare_worker;
select results_eq(
    $$ select id, attempt, lease_seconds from private.claim_jobs('worker-a', array['demo.steps'], 2) $$::text,
    format($$ values (%L::uuid, 1, 30), (%L::uuid, 1, 30) $$, :'j3', :'j1'),
    'a claim takes the highest priority first, then the oldest, up to the batch size'
);
select is(
    (select count(*) from private.claim_jobs('worker-b', array['demo.noop'], 10)), 0::bigint,
    'a claim takes only the types it names'
);
select results_eq(
    $$ select id from private.claim_jobs('worker-b', array['demo.steps'], 10) $$::text,
    format($$ values (%L::uuid) $$, :'j2'),
    'another worker gets what is left'
);
select is_empty($$ select 1 from private.claim_jobs('worker-c', array['demo.steps'], 10) $$,
    'nothing is claimed twice');
reset role;

select results_eq(
    format($$ select status, attempts, started_at is not null from public.jobs where id = %L $$, :'j1'),
    $$ values ('processing'::text, 1, true) $$,
    'a claimed job is processing, attempts 1, started'
);
select results_eq(
    $$ select job_id, worker_id, attempt from private.job_leases order by worker_id, job_id $$::text,
    format($$ select * from (values (%L::uuid, 'worker-a', 1), (%L::uuid, 'worker-a', 1),
                                     (%L::uuid, 'worker-b', 1)) as v order by 2, 1 $$,
           :'j1', :'j3', :'j2'),
    'each claimed job has one lease naming its worker'
);

-- ============================================================================
-- Heartbeats: extend the lease, store progress and checkpoints, report cancel and loss
-- ============================================================================
update private.job_leases set locked_until = now() + interval '1 second' where job_id = :'j1';
select is(private.heartbeat_job(:'j1', 'worker-a', 1, 40, '{"done": 2}'), 'continue',
    'a heartbeat by the holder continues');
select ok(
    (select locked_until = now() + interval '30 seconds' from private.job_leases where job_id = :'j1'),
    'a heartbeat extends the lease by the type''s lease_seconds'
);
select is(private.heartbeat_job(:'j1', 'worker-a', 1, null, '{"note": "x"}'), 'continue',
    'a checkpoint with the right attempt is stored');
select results_eq(
    format($$ select progress, checkpoints from public.jobs where id = %L $$, :'j1'),
    $$ values (40, '{"done": 2, "note": "x"}'::jsonb) $$,
    'progress is stored and checkpoints are merged'
);
select is(private.heartbeat_job(:'j1', 'worker-b', 1, 90, '{"done": 99}'), 'lost',
    'another worker''s heartbeat is refused');
select is(private.heartbeat_job(:'j1', 'worker-a', 7, 90, null), 'lost',
    'a heartbeat for another attempt is refused');
select is((select progress from public.jobs where id = :'j1'), 40, 'and stores nothing');
select results_eq(
    format($$ select job_id, state from private.heartbeat_jobs('worker-a', array[%L, %L]::uuid[],
                                                                 array[1, 1]) order by 2 $$,
           :'j1', :'j2'),
    format($$ values (%L::uuid, 'continue'), (%L::uuid, 'lost') $$, :'j1', :'j2'),
    'a batch heartbeat reports each job'
);

-- cancel requested by the owner while processing
select tests.authenticate_as(:'alice');
select is(public.cancel_job(:'j2') ->> 'status', 'processing', 'cancelling a processing job asks');
select tests.clear_authentication();
select is(private.heartbeat_job(:'j2', 'worker-b', 1), 'cancel', 'the next heartbeat says cancel');
select ok(private.cancel_confirmed(:'j2', 'worker-b', 1), 'the worker confirms');
select results_eq(
    format($$ select status, completed_at is not null from public.jobs where id = %L $$, :'j2'),
    $$ values ('cancelled'::text, true) $$, 'the job is cancelled'
);

-- ============================================================================
-- Completing: only the holder, only once
-- ============================================================================
select is(private.complete_job(:'j1', 'worker-b', 1, '{"r": 1}'), false,
    'another worker cannot complete the job');
select is(private.complete_job(:'j1', 'worker-a', 2, '{"r": 1}'), false,
    'another attempt cannot complete the job');
select is(private.complete_job(:'j1', 'worker-a', 1, '{"r": 1}'), true, 'the holder completes it');
select results_eq(
    format($$ select status, progress, result from public.jobs where id = %L $$, :'j1'),
    $$ values ('completed'::text, 100, '{"r": 1}'::jsonb) $$, 'completed with its result'
);
select is(private.complete_job(:'j1', 'worker-a', 1, '{"r": 2}'), false, 'it completes only once');
select is((select count(*) from private.job_leases where job_id = :'j1'), 0::bigint,
    'a completed job has no lease');

-- ============================================================================
-- Lease recovery: a lost lease can never complete
-- ============================================================================
update private.job_leases set locked_until = now() - interval '1 second' where job_id = :'j3';
update public.jobs set checkpoints = '{"done": 3}' where id = :'j3';
select is(private.recover_expired_leases(), 1, 'an expired lease is recovered');
select results_eq(
    format($$ select status, attempts, checkpoints from public.jobs where id = %L $$, :'j3'),
    $$ values ('queued'::text, 1, '{"done": 3}'::jsonb) $$,
    'the job is queued again with its checkpoints'
);
select is(
    (select error from private.job_errors where job_id = :'j3'),
    'lease expired: the worker stopped heartbeating', 'the lost attempt is recorded'
);
select results_eq(
    $$ select attempt, checkpoints from private.claim_jobs('worker-b', array['demo.steps'], 1) $$,
    $$ values (2, '{"done": 3}'::jsonb) $$,
    'another worker claims it again, attempt 2, from the checkpoint'
);
select is(private.complete_job(:'j3', 'worker-a', 1, '{"stale": true}'), false,
    'the old holder cannot complete it');
select is(private.heartbeat_job(:'j3', 'worker-a', 1), 'lost', 'the old holder learns it lost it');
select is(private.complete_job(:'j3', 'worker-b', 2, '{"ok": true}'), true,
    'the new holder completes it');
select is((select result from public.jobs where id = :'j3'), '{"ok": true}'::jsonb,
    'with the new holder''s result');

-- recovery with no attempts left fails the job
select private.enqueue_job('demo.steps', '{"steps": 1}', :'alice') as j4 \gset
update public.jobs set max_attempts = 1 where id = :'j4';
select is((select count(*) from private.claim_jobs('worker-a', array['demo.steps'], 1)), 1::bigint,
    'claimed');
update private.job_leases set locked_until = now() - interval '1 second' where job_id = :'j4';
select private.recover_expired_leases();
select results_eq(
    format($$ select status, error from public.jobs where id = %L $$, :'j4'),
    $$ values ('failed'::text, 'The job failed after 1 attempts.'::text) $$,
    'with no attempt left a recovered job fails'
);

-- ============================================================================
-- Failing and retrying, releasing
-- ============================================================================
select private.enqueue_job('demo.steps', '{"steps": 1}', :'alice') as j5 \gset
select private.claim_jobs('worker-a', array['demo.steps'], 1);
select is(private.fail_job(:'j5', 'worker-a', 1, 'boom', true), 'queued', 'a retryable failure retries');
select ok(
    (select run_at between now() + interval '2.5 seconds' and now() + interval '5 seconds'
     from public.jobs where id = :'j5'),
    'after the first backoff: 5 s with jitter (0.5-1x)'
);
update public.jobs set run_at = now() where id = :'j5';
select private.claim_jobs('worker-a', array['demo.steps'], 1);
select is(private.fail_job(:'j5', 'worker-a', 2, 'bad', false, 'Nothing to research.'), 'failed',
    'a permanent failure fails at once');
select results_eq(
    format($$ select status, attempts, error from public.jobs where id = %L $$, :'j5'),
    $$ values ('failed'::text, 2, 'Nothing to research.'::text) $$,
    'with the user-safe message'
);

select private.enqueue_job('demo.steps', '{"steps": 1}', :'alice') as j6 \gset
select private.claim_jobs('worker-a', array['demo.steps'], 1);
select is(private.release_jobs('worker-a', array[:'j6']::uuid[], array[1]), 1, 'released');
select results_eq(
    format($$ select status, attempts from public.jobs where id = %L $$, :'j6'),
    $$ values ('queued'::text, 0) $$,
    'a released job is queued and the claim does not count'
);

-- ============================================================================
-- Expiry and retention
-- ============================================================================
update public.jobs set expires_at = now() - interval '1 second' where id = :'j6';
select is(private.expire_queued_jobs(), 1, 'one queued job expired');
select results_eq(
    format($$ select status, error from public.jobs where id = %L $$, :'j6'),
    $$ values ('cancelled'::text, 'expired'::text) $$, 'expired jobs are cancelled'
);
select private.enqueue_job('demo.noop', '{}', :'alice') as j7 \gset
update public.jobs set completed_at = now() - interval '2 days' where id in (:'j1', :'j5');
update public.jobs set created_at = now() - interval '2 days' where id = :'j7';
select is(private.purge_finished_jobs(), 2, 'finished jobs past their retention are purged');
select is(
    (select count(*) from public.jobs where id in (:'j1', :'j5')), 0::bigint, 'they are gone'
);
select is(
    (select count(*) from public.jobs where id in (:'j3', :'j7')), 2::bigint,
    'recent and unfinished jobs stay'
);

select * from finish();
rollback;
