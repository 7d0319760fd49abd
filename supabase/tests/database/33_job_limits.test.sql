-- Demo job types are development-only for users; unfinished jobs per user are capped
-- (private.job_caps); booking and payment jobs are not counted.
begin;
select plan(7);

select tests.create_user('alice@caps.test') as alice \gset

delete from private.settings where key = 'environment';
select is(private.environment(), 'production', 'no row: production');

select tests.authenticate_as(:'alice');
select throws_like($$select private.start_user_job('demo.noop', '{}')$$, '%FORBIDDEN%',
    'production: a user cannot start a demo type');
select tests.clear_authentication();

insert into private.settings (key, value) values ('environment', 'development');
select is(private.environment(), 'development', 'the seed''s marker: development');
select throws_ok($$update private.settings set value = 'staging' where key = 'environment'$$,
    '23514', null, 'development or production, nothing else');

-- a booking's payment job is not counted
select private.enqueue_job('payment.create_intent',
    jsonb_build_object('booking_id', gen_random_uuid()), :'alice');

select tests.authenticate_as(:'alice');
select lives_ok($$select private.start_user_job('demo.noop', '{}') from generate_series(1, 5)$$,
    'development: five demo jobs');
select throws_like($$select private.start_user_job('demo.noop', '{}')$$, '%RATE_LIMITED%',
    'the sixth unfinished job is over the cap');
select tests.clear_authentication();

update private.job_caps set max_unfinished = 6 where job_type = '*';
select tests.authenticate_as(:'alice');
select lives_ok($$select private.start_user_job('demo.noop', '{}')$$, 'operators raise the cap');

select * from finish();
rollback;
