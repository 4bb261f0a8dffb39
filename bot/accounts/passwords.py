"""Password hashes: Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile), salted per hash.

`verify` takes as long for an unknown account as for a known one (it checks a dummy hash), so a login's timing does
not tell whether a username exists.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 200

_hasher = PasswordHasher()


class PasswordError(ValueError):
    """A password refused by the policy; the message says why, in Vietnamese."""


def check_policy(password: str) -> str:
    """The password when it is long enough and not blank; PasswordError otherwise."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"mật khẩu cần ít nhất {MIN_LENGTH} ký tự")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"mật khẩu dài quá {MAX_LENGTH} ký tự")
    if not password.strip():
        raise PasswordError("mật khẩu không được chỉ có khoảng trắng")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy() -> str:
    return _hasher.hash("not-a-password-of-anyone")


def verify(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored`; with `stored` None a dummy hash is checked, so it takes as long."""
    try:
        return _hasher.verify(stored or _dummy(), password[:MAX_LENGTH]) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with other parameters than today's (then it is replaced at the next login)."""
    return _hasher.check_needs_rehash(stored)
