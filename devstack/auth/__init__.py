"""A local stand-in for Supabase Auth (GoTrue), for DEVELOPMENT AND TESTS ONLY.

It answers the part of GoTrue's HTTP API that supabase-js (@supabase/auth-js) and supabase-py
(supabase_auth) call for email and password users, with GoTrue's request and response shapes,
and writes GoTrue's own tables in the `auth` schema that scripts/supabase_compat.sql creates on
plain Postgres (auth.users, auth.sessions, auth.refresh_tokens). It never touches a migration
and must never run against a hosted project: a hosted project has the real Supabase Auth.

    python -m devstack.auth --host 127.0.0.1 --port 9999 \
        --database-url "$DATABASE_URL" --jwt-secret "$SUPABASE_JWT_SECRET" \
        --site-url http://127.0.0.1:54321

It serves its paths both bare (`POST /signup`, as behind the gateway, which strips
`/auth/v1`) and under `/auth/v1` (to be called directly).

Endpoints: POST /signup; POST /token?grant_type=password|refresh_token; GET and PUT /user;
POST /logout?scope=global|local|others; GET/POST /admin/users; GET/PUT/DELETE
/admin/users/<id> (service_role key as Bearer); GET /health, /settings, /.well-known/jwks.json.

What it does as GoTrue does: bcrypt password hashes (cost 10); sessions in auth.sessions and
refresh tokens in auth.refresh_tokens, rotated on every refresh (the old token is revoked; a
revoked token reused after the reuse interval, 10 s by default as in `supabase start`, revokes
the session's tokens and answers 400 refresh_token_already_used; within the interval it answers
the session's current token again); HS256 access tokens signed with the local JWT secret with
GoTrue's claims (iss `<site url>/auth/v1`, sub, aud, role, email, phone, session_id, aal, amr,
app_metadata, user_metadata, is_anonymous, exp, iat); errors in GoTrue's two shapes (API version
2024-01-01: {"code": "<error_code>", "message": ...}; older clients: {"code": <status>,
"error_code": ..., "msg": ...}); deleting a user deletes its sessions and so its refresh tokens.

What differs from GoTrue (deliberately, it is a development tool):
- email confirmation is off (sign-up confirms at once, like `supabase start` with
  enable_confirmations = false), and no email or SMS is ever sent: no magic links, OTP,
  recovery, invites, reauthentication or secure email change (PUT /user changes an email at once);
- no OAuth or SSO/SAML providers, no PKCE flow, no anonymous sign-ins, no phone sign-ups;
- no MFA (aal is always aal1, amr always "password"), no auth.identities or auth.mfa_* tables
  (the user's single email identity is derived, not stored), no audit log, no webhooks or hooks;
- no rate limits and no CAPTCHA; no ban_duration; no asymmetric signing keys (the JWKS is empty);
- passwords: only a minimum length (6 by default) and bcrypt's 72-byte maximum are checked.

The user's guide, with every endpoint and error: docs/local-api.md, "Auth stand-in".
"""
