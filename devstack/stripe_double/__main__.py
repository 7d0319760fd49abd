"""`python -m devstack.stripe_double --port 12111 ...`: see devstack/stripe_double/__init__.py."""

from devstack.stripe_double import main

main()
