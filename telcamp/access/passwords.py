"""Password hashing with argon2id (argon2-cffi).

Parameters follow the OWASP minimum for argon2id (19 MiB, 2 passes, 1 lane): strong
against offline guessing yet cheap enough for a 2-core server handling logins.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from telcamp.core.errors import ValidationFailed

HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
MIN_LENGTH = 8
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY = HASHER.hash("telcamp-dummy-password")


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(
            f"the password must have at least {MIN_LENGTH} characters", field="password"
        )


def hash_password(password: str) -> str:
    check_policy(password)
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
