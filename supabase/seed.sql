-- Local development only: the local stack (scripts/stack.sh) loads this file after each
-- `supabase db push`, and so into every test database. Never a migration: a hosted project
-- never runs it and stays 'production' (no row in private.settings).
insert into private.settings (key, value) values ('environment', 'development')
on conflict (key) do update set value = excluded.value, updated_at = now();

-- Demo hotels: development data, so never in a migration (a hosted project starts with an
-- empty catalogue). Invented prices; the Porto one is closed.
-- noqa: disable=LT02
insert into public.hotels as h (id, name, city, nightly_rate_cents, currency, active)
values
('985c87ec-1d28-4b09-ac8c-3484ea1965c4', 'Hôtel des Grands Boulevards', 'Paris', 21500, 'EUR', true),
('60e10640-ce6d-494b-8d84-e8c4fcf60c64', 'Casa do Alfama', 'Lisbon', 12900, 'EUR', true),
('3d30d944-af96-4a85-a3dd-118632506945', 'The Marlton', 'New York', 32900, 'USD', true),
('d1b0f935-d448-4aaf-ba3d-0b7c2bc4af69', 'Hotel Zetta', 'San Francisco', 24900, 'USD', true),
('9c9bf79b-f9f6-4540-89c8-a78ef2019809', 'The Hoxton, Holborn', 'London', 18900, 'GBP', true),
('3b163075-f5c1-4b7f-aff6-8a8a21c4d4d0', 'Hotel Kanra Kyoto', 'Kyoto', 38000, 'JPY', true),
('ce977c9d-ab64-4b6f-b7a2-52d241d287af', 'Park Hotel Tokyo', 'Tokyo', 26000, 'JPY', true),
('6c38523d-8145-405d-8711-310a8d448acc', 'Pensão Ribeira (closed for renovation)', 'Porto', 8900,
    'EUR', false)
on conflict (id) do nothing;
-- noqa: enable=LT02
