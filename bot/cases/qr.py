"""Deep links printed as QR codes on the appointment slip: scanning opens the bot on that case.

The link carries a token signed with SECRET_KEY, so the slip itself proves the case is the citizen's: the bot opens
the case without asking for the phone digits, and strangers' failed guesses of the digits (which can lock the digits
path of a code, `bot/cases/verification.py`) never lock the owner out. The payload is
`hs1-<normalized code>-<tag>`: `1` the token's version, the tag the first 22 characters (132 bits) of the URL-safe
base64 of HMAC-SHA256(SECRET_KEY, "slip:1:<normalized code>"); at most 48 characters of [A-Za-z0-9_-], within
Telegram's 64 for a /start payload. Changing SECRET_KEY invalidates every printed token; such a payload, like any
token whose tag does not match, is read as the plain code, which the digits still open.

The first payloads, `hs-<code>` (`knowledge.codes.encode_payload`), still work, as a lookup that asks for the digits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.codes import decode_payload, display_code, normalize_code

VERSION = "1"
PREFIX = f"hs{VERSION}-"
TAG_CHARS = 22
_SIGNED = re.compile(rf"{PREFIX}([0-9A-Z]{{17,22}})-([A-Za-z0-9_-]{{{TAG_CHARS}}})")


def _tag(key: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"slip:{VERSION}:{key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:TAG_CHARS]


def slip_payload(code: str, secret: str) -> str:
    """The signed /start payload for a receipt code (ValueError when it is not one)."""
    key = normalize_code(code)
    if key is None:
        raise ValueError(f"not a receipt code: {code!r}")
    return f"{PREFIX}{key}-{_tag(key, secret)}"


@dataclass(frozen=True)
class Payload:
    """What a /start payload says: the receipt code it names (None: none), and whether its signature proves that
    whoever holds it holds the slip."""

    code: str | None
    signed: bool


def read_payload(payload: str, secret: str) -> Payload:
    """A signed payload with a valid tag opens the case; with a wrong tag, or an old `hs-` payload, it is the plain
    code (the digits are asked); anything else names no code."""
    m = _SIGNED.fullmatch(payload.strip())
    if m is None:
        return Payload(decode_payload(payload.strip()), False)
    key, tag = m.groups()
    if normalize_code(key) != key:
        return Payload(None, False)
    return Payload(display_code(key), hmac.compare_digest(tag, _tag(key, secret)))


def deep_link(code: str, bot_username: str, secret: str) -> str:
    """The link for the slip's QR code: it opens the case in the bot without the digits."""
    return f"https://t.me/{bot_username}?start={slip_payload(code, secret)}"


def write_qr(code: str, bot_username: str, secret: str, path: Path) -> str:
    import qrcode  # only the command that writes the image needs it (PIL)

    link = deep_link(code, bot_username, secret)
    img = qrcode.make(link, box_size=8, border=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(str(path))
    return link
