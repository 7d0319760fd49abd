"""Password hashes as GoTrue keeps them: bcrypt, cost 10, in auth.users.encrypted_password."""

from __future__ import annotations

import bcrypt

COST = 10
MAX_BYTES = 72  # bcrypt reads no further; GoTrue refuses longer passwords
# Compared against when the user does not exist, so both paths cost one bcrypt check.
_DUMMY = bcrypt.hashpw(b"no such user", bcrypt.gensalt(COST))


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(COST)).decode()


def check_password(password: str, hashed: str | None) -> bool:
    encoded = password.encode()
    if len(encoded) > MAX_BYTES:
        return False
    if not hashed:
        bcrypt.checkpw(encoded, _DUMMY)
        return False
    try:
        return bcrypt.checkpw(encoded, hashed.encode())
    except ValueError:  # not a bcrypt hash
        return False
