"""Deep links printed as QR codes on the appointment slip: scanning opens the bot on that case's lookup."""

from __future__ import annotations

from pathlib import Path

import qrcode

from knowledge.codes import encode_payload


def deep_link(code: str, bot_username: str) -> str:
    payload = encode_payload(code)
    if payload is None:
        raise ValueError(f"not a receipt code: {code!r}")
    return f"https://t.me/{bot_username}?start={payload}"


def write_qr(code: str, bot_username: str, path: Path) -> str:
    link = deep_link(code, bot_username)
    img = qrcode.make(link, box_size=8, border=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(str(path))
    return link
