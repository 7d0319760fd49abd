-- Local development only: the local stack (scripts/stack.sh) loads this file after each
-- `supabase db push`, and so into every test database. Never a migration: a hosted project
-- never runs it and stays 'production' (no row in private.settings).
insert into private.settings (key, value) values ('environment', 'development')
on conflict (key) do update set value = excluded.value, updated_at = now();
