-- One definition per rule: the pre-request function exists once, every path that makes a
-- booking goes through the one validator, the pollUrl is built in one function, and the
-- workers are woken from one place per event (jobs inserted; jobs given back or recovered).
-- Read from pg_proc.prosrc, so a copy that drifts away from the original fails here.
begin;
select plan(6);

create function pg_temp.functions_matching(pattern text)
returns setof text
language sql
as $$
    select n.nspname || '.' || p.proname
    from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
    where n.nspname in ('public', 'private') and p.prosrc ~ pattern
    order by 1
$$;

select is(
    (select count(*)::int from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
     where n.nspname = 'private' and p.proname = 'check_request'),
    1, 'one private.check_request (the pre-request function: request ids and rate limits)'
);

select results_eq(
    $$ select * from pg_temp.functions_matching('insert\s+into\s+public\.bookings') $$,
    array['private.insert_booking'],
    'bookings are inserted in one function'
);

select results_eq(
    $$ select * from pg_temp.functions_matching('private\.check_booking_request\(') $$,
    array['private.insert_booking', 'public.create_booking'],
    'create_booking and insert_booking both apply the one booking validator'
);

select results_eq(
    $$ select * from pg_temp.functions_matching('/rest/v1/jobs') $$,
    array['private.job_accepted'],
    'the pollUrl is built only in private.job_accepted'
);

select results_eq(
    $$ select * from pg_temp.functions_matching('''wayfare_jobs''') $$,
    array['private.notify_jobs_queued', 'private.notify_requeued'],
    'workers are woken from two places: new jobs (a trigger) and jobs queued again'
);

select results_eq(
    $$ select * from pg_temp.functions_matching('private\.notify_requeued\(') $$,
    array['private.recover_expired_leases', 'private.release_jobs'],
    'release_jobs and recover_expired_leases share their tail'
);

select * from finish();
rollback;
