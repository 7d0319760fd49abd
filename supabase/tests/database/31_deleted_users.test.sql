-- A token whose user was deleted is no identity (docs/api.md#conventions): require_user, and
-- with it every RPC and every direct write to trips and activities, raises UNAUTHORIZED (401).
begin;
select plan(5);

select tests.create_user('ghost@deleted.test') as ghost \gset
select tests.create_user('alive@deleted.test') as alive \gset
delete from auth.users where id = :'ghost';

create function pg_temp.code_of(statement text)
returns text
language plpgsql
as $$
declare
    v_message text;
    v_detail text;
begin
    execute statement;
    return null;
exception when sqlstate 'PGRST' then
    get stacked diagnostics v_message = message_text, v_detail = pg_exception_detail;
    return (v_message::jsonb ->> 'code') || ' ' || (v_detail::jsonb ->> 'status');
end;
$$;
grant execute on function pg_temp.code_of(text) to authenticated;

select tests.authenticate_as(:'ghost');
select is(pg_temp.code_of('select private.require_user()'), 'UNAUTHORIZED 401', 'require_user');
select is(pg_temp.code_of($$select public.create_trip('Lisbon')$$), 'UNAUTHORIZED 401',
    'create_trip');
select is(pg_temp.code_of(format('insert into public.trips (user_id, title) values (%L, %L)',
    :'ghost', 'Lisbon')), 'UNAUTHORIZED 401', 'a direct insert into trips');

select tests.authenticate_as(:'alive');
select is(private.require_user(), :'alive'::uuid, 'a user who exists is who they are');
select tests.clear_authentication();
update auth.users set deleted_at = now() where id = :'alive';
select tests.authenticate_as(:'alive');
select is(pg_temp.code_of('select private.require_user()'), 'UNAUTHORIZED 401',
    'soft-deleted by Supabase Auth');

select * from finish();
rollback;
