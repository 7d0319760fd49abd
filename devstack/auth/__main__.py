"""`python -m devstack.auth`: see devstack/auth/cli.py."""

from devstack.auth.cli import main

raise SystemExit(main())
