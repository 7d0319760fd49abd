-- The contract's TIMEOUT (408, retryable): the request ran past its time limit and nothing was
-- changed. The web service answers it when a route's statement time limit cancels its query
-- (webhook/db.py); the catalogue here is the one Python mirrors (wayfare/errors.py, a test
-- keeps them equal). Kept if an earlier migration already added the row.

insert into private.error_codes as e (
    code, http_status, error_type, retryable, default_message, default_hint
)
values (
    'TIMEOUT', 408, 'timeout', true,
    'The request ran past its time limit; nothing was changed.', 'Try again in a moment.'
)
on conflict (code) do nothing;
