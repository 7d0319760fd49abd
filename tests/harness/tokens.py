"""Token minting lives in devstack (make run's demo uses it too)."""

from devstack.tokens import TEST_ISSUER, TEST_JWT_SECRET, mint, service_role_token, verify

__all__ = ["TEST_ISSUER", "TEST_JWT_SECRET", "mint", "service_role_token", "verify"]
