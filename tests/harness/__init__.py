"""Test harness: databases cloned from a migrated template, Supabase users and tokens, and
PostgREST's request transaction run exactly as PostgREST runs it. See tests/README.md."""
