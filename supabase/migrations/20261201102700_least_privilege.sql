-- Least privilege for the API roles (issue 10 #11). The public RPCs are security invoker, so
-- anon and authenticated need USAGE on schema private and EXECUTE on the private functions an
-- RPC, a trigger on a public table or the pre-request calls *directly*; what a security
-- definer calls runs as its owner and needs no grant. Found by testing
-- (tests/test_least_privilege.py revokes each grant alone and shows a request break) and
-- explained one by one in docs/security.md; pinned by
-- supabase/tests/database/40_least_privilege.test.sql.
--
-- anon gets as far as require_user() in every RPC (then 401), so it keeps only the
-- pre-request, require_user and reraise. Neither role calls idempotency_key or
-- set_response_header directly (only definers do).

revoke execute on all functions in schema private from anon;
grant execute on function private.check_request() to anon;
grant execute on function private.require_user() to anon;
grant execute on function private.reraise(text, text, text) to anon;

revoke execute on function private.idempotency_key(text) from authenticated;
revoke execute on function private.set_response_header(text, text) from authenticated;
