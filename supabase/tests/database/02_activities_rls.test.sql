begin;
select plan(15);

select tests.create_user('alice@activities.test') as alice \gset
select tests.create_user('bob@activities.test') as bob \gset
insert into public.trips (id, user_id, title)
values ('22222222-0000-0000-0000-00000000000a', :'alice', 'Alice in Rome'),
       ('22222222-0000-0000-0000-00000000000b', :'bob', 'Bob in Oslo');

-- ============================================================================
-- The owner may select, insert, update and delete activities on their own trips
-- ============================================================================
select tests.authenticate_as(:'alice');
select lives_ok(
    $$ insert into public.activities (trip_id, title)
       values ('22222222-0000-0000-0000-00000000000a', 'Colosseum') $$,
    'owner can add an activity to their trip'
);
select results_eq(
    $$ select title from public.activities $$, array['Colosseum'], 'owner can select it'
);
select is(
    tests.rows_affected($$ update public.activities set notes = 'book ahead'
                           where title = 'Colosseum' $$),
    1::bigint, 'owner can update it'
);
select lives_ok(
    $$ insert into public.activities (trip_id, title)
       values ('22222222-0000-0000-0000-00000000000a', 'Pantheon') $$,
    'owner can add a second activity'
);
select is(
    tests.rows_affected($$ delete from public.activities where title = 'Pantheon' $$),
    1::bigint, 'owner can delete it'
);

-- ============================================================================
-- An activity cannot be attached to another user's trip (the write rules' trigger answers
-- NOT_FOUND (docs/errors.md) before RLS would: another user's trip looks like a missing one)
-- ============================================================================
select throws_ok(
    $$ insert into public.activities (trip_id, title)
       values ('22222222-0000-0000-0000-00000000000b', 'Gatecrash') $$,
    'PGRST', null, 'owner cannot add an activity to another user''s trip'
);
select throws_ok(
    format($$ insert into public.activities (trip_id, user_id, title)
              values ('22222222-0000-0000-0000-00000000000b', %L, 'Gatecrash') $$, :'bob'),
    'PGRST', null, 'not even by naming the other user as owner'
);
select throws_ok(
    $$ update public.activities set trip_id = '22222222-0000-0000-0000-00000000000b' $$,
    '42501', null, 'owner cannot move an activity to another user''s trip'
);

-- ============================================================================
-- Another user and anon can do none of it
-- ============================================================================
select tests.authenticate_as(:'bob');
select is_empty($$ select 1 from public.activities $$, 'another user sees no activity');
select is(tests.rows_affected($$ update public.activities set title = 'x' $$), 0::bigint,
    'another user cannot update it');
select is(tests.rows_affected($$ delete from public.activities $$), 0::bigint,
    'another user cannot delete it');

select tests.authenticate_as_anon();
select throws_ok($$ select 1 from public.activities $$, '42501', null, 'anon cannot select');
select throws_ok(
    $$ insert into public.activities (trip_id, title)
       values ('22222222-0000-0000-0000-00000000000a', 'x') $$,
    '42501', null, 'anon cannot insert'
);
select throws_ok($$ delete from public.activities $$, '42501', null, 'anon cannot delete');

select tests.clear_authentication();
select results_eq(
    $$ select title, notes from public.activities $$,
    $$ values ('Colosseum'::text, 'book ahead'::text) $$,
    'the owner''s activity is intact'
);

select * from finish();
rollback;
