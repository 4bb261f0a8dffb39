"""Button data: short, within Telegram's 64 bytes, and signed so forged presses do nothing.

A button carries `action:arg1:arg2…` plus an 8-character HMAC tag bound to the chat, so
data copied from another chat or edited by hand fails verification.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MAX_BYTES = 64


def proc_key(procedure_id: str) -> str:
    """A 6-character stable key for a procedure id (ids are too long for button data)."""
    return hashlib.sha1(procedure_id.encode()).hexdigest()[:6]


def _tag(payload: str, chat_id: int, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"{chat_id}|{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:6]).decode()


def pack(chat_id: int, secret: str, *parts: object) -> str:
    payload = ":".join(str(p) for p in parts)
    data = f"{payload}|{_tag(payload, chat_id, secret)}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data too long: {data!r}")
    return data


def unpack(data: str, chat_id: int, secret: str) -> list[str] | None:
    """The parts of a genuine button of this chat, or None for anything else."""
    payload, sep, tag = data.rpartition("|")
    if not sep or not hmac.compare_digest(tag.encode(), _tag(payload, chat_id, secret).encode()):
        return None
    return payload.split(":")
