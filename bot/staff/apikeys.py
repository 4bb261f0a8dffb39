"""API keys for the staff HTTP API: random tokens shown once, stored only as a SHA-256 hash.

A key is `tthc_` followed by 43 URL-safe characters (256 random bits), so a plain SHA-256 is
enough (nothing to brute-force) and lets a key be found by an indexed lookup on its hash: the
time a check takes does not depend on how much of a guessed key is right. Keys carry scopes
(`read`, `write`, `pii`), expire (`expires_in_days`, a year by default: a key forgotten in an old script or
a departed employee's notes stops working by itself) and are revoked, never deleted, so history keeps its meaning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import ApiKey, utcnow

PREFIX = "tthc_"
SCOPES: dict[str, str] = {
    "read": "read cases, history, feedback, surveys and statistics (personal data masked)",
    "write": "create and update cases, change their status, answer feedback",
    "pii": "see full personal data (applicant name, phone last digits, birth year, chat ids, unmasked texts)",
}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_TOKEN_LENGTH = 200
DEFAULT_EXPIRY_DAYS = 365
MAX_EXPIRY_DAYS = 5 * 365


class ApiKeyError(ValueError):
    """A key operation was refused; the message says why."""


def generate_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ApiKeyError(f"unknown scope(s) {', '.join(unknown)}; use {', '.join(SCOPES)}")
    return [s for s in SCOPES if s in set(scopes)]  # canonical order, no duplicates


async def create(
    session: AsyncSession,
    name: str,
    scopes: list[str] | tuple[str, ...],
    *,
    expires_in_days: int = DEFAULT_EXPIRY_DAYS,
) -> tuple[ApiKey, str]:
    """A new key valid for `expires_in_days`; returns the row and the token, which is not stored and cannot be
    shown again."""
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ApiKeyError(f"expiry: give 1 to {MAX_EXPIRY_DAYS} days (a key that never expires is not offered)")
    if not NAME_RE.match(name):
        raise ApiKeyError(f"key name {name!r}: use 1–100 letters, digits, '.', '_' or '-'")
    wanted = check_scopes(scopes)
    if not wanted:
        raise ApiKeyError("give at least one scope")
    if await find(session, name) is not None:
        raise ApiKeyError(f"a key named {name!r} already exists (revoked keys keep their name)")
    token = generate_token()
    now = utcnow()
    key = ApiKey(
        name=name,
        key_hash=hash_token(token),
        scopes=wanted,
        created_at=now,
        expires_at=now + dt.timedelta(days=expires_in_days),
    )
    try:
        async with session.begin_nested():
            session.add(key)
    except IntegrityError:
        raise ApiKeyError(f"a key named {name!r} already exists") from None
    return key, token


async def find(session: AsyncSession, name: str) -> ApiKey | None:
    return (await session.exec(select(ApiKey).where(ApiKey.name == name))).first()


Problem = Literal["unknown", "revoked", "expired"]


@dataclass(frozen=True)
class KeyCheck:
    """What a token is: its key (None when unknown or malformed), and why it may not be used (None: it may)."""

    key: ApiKey | None
    problem: Problem | None


def expired(key: ApiKey, now: dt.datetime | None = None) -> bool:
    return key.expires_at <= (now or utcnow())


async def check(session: AsyncSession, token: str, now: dt.datetime | None = None) -> KeyCheck:
    """The key for `token` and whether it may be used: unknown, malformed, revoked and expired keys may not."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(PREFIX):
        return KeyCheck(None, "unknown")
    digest = hash_token(token)
    key = (await session.exec(select(ApiKey).where(ApiKey.key_hash == digest))).first()
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return KeyCheck(None, "unknown")
    if key.revoked_at is not None:
        return KeyCheck(key, "revoked")
    if expired(key, now):
        return KeyCheck(key, "expired")
    return KeyCheck(key, None)


async def verify(session: AsyncSession, token: str) -> ApiKey | None:
    """The usable key for `token`, or None (unknown, malformed, revoked or expired)."""
    found = await check(session, token)
    return found.key if found.problem is None else None


async def revoke(session: AsyncSession, name: str) -> ApiKey:
    """Revoke the key called `name` (idempotent); ApiKeyError when there is none."""
    key = await find(session, name)
    if key is None:
        raise ApiKeyError(f"no key named {name!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        await session.flush()
    return key


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.exec(select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id)))).all())
