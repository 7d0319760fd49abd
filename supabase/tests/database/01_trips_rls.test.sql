begin;
select plan(16);

select tests.create_user('alice@trips.test') as alice \gset
select tests.create_user('bob@trips.test') as bob \gset

-- ============================================================================
-- The owner may select, insert, update and delete their trips
-- ============================================================================
select tests.authenticate_as(:'alice');
select lives_ok(
    $$ insert into public.trips (title) values ('Lisbon') $$,
    'owner can insert a trip'
);
select id as trip from public.trips where title = 'Lisbon' \gset
select results_eq(
    format($$ select title from public.trips where id = %L $$, :'trip'),
    array['Lisbon'], 'owner can select their trip'
);
select is(
    tests.rows_affected(format($$ update public.trips set title = 'Porto' where id = %L $$,
                                :'trip')),
    1::bigint, 'owner can update their trip'
);
select lives_ok(
    $$ insert into public.trips (title) values ('Faro') $$,
    'owner can insert a second trip'
);
select is(
    tests.rows_affected($$ delete from public.trips where title = 'Faro' $$),
    1::bigint, 'owner can delete their trip'
);

-- ============================================================================
-- Another user can do none of it
-- ============================================================================
select tests.authenticate_as(:'bob');
select is_empty(format($$ select 1 from public.trips where id = %L $$, :'trip'),
    'another user cannot see the trip');
select is(
    tests.rows_affected(format($$ update public.trips set title = 'Mine' where id = %L $$,
                                :'trip')),
    0::bigint, 'another user cannot update the trip'
);
select is(
    tests.rows_affected(format($$ delete from public.trips where id = %L $$, :'trip')),
    0::bigint, 'another user cannot delete the trip'
);
select throws_ok(
    format($$ insert into public.trips (title, user_id) values ('Sneaky', %L) $$, :'alice'),
    '42501', null, 'another user cannot insert a trip owned by the owner'
);

-- ============================================================================
-- anon can do none of it
-- ============================================================================
select tests.authenticate_as_anon();
select throws_ok($$ select 1 from public.trips $$, '42501', null, 'anon cannot select trips');
select throws_ok($$ insert into public.trips (title) values ('x') $$, '42501', null,
    'anon cannot insert trips');
select throws_ok($$ update public.trips set title = 'x' $$, '42501', null,
    'anon cannot update trips');
select throws_ok($$ delete from public.trips $$, '42501', null, 'anon cannot delete trips');

-- ============================================================================
-- Nothing changed behind the owner's back
-- ============================================================================
select tests.authenticate_as(:'alice');
select results_eq(
    $$ select title from public.trips $$, array['Porto'], 'the owner still has exactly their trip'
);
select throws_ok(
    format($$ update public.trips set user_id = %L $$, :'bob'),
    '42501', null, 'the owner cannot hand a trip to someone else'
);
select tests.clear_authentication();
select is(
    (select count(*) from public.trips where user_id = :'alice'),
    1::bigint, 'one trip remains for the owner'
);

select * from finish();
rollback;
