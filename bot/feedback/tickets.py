"""Feedback (phản ánh, kiến nghị): stored with a tracking number the citizen can look up later.

The masked copy staff read without the `pii` scope (`Feedback.text_masked`: phone numbers, long digit runs and
e-mail addresses replaced) is stored with the row, by the listeners of bot/privacy/masking.py, in the same flush.
"""

from __future__ import annotations

import base64
import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Feedback

CATEGORIES = {
    "thu-tuc": "Phản ánh về thủ tục hành chính",
    "can-bo": "Phản ánh về thái độ, cách phục vụ của cán bộ",
    "kien-nghi": "Kiến nghị, góp ý",
    "khac": "Nội dung khác",
}
STATES = {"received": "Đã tiếp nhận", "processing": "Đang xử lý", "answered": "Đã trả lời", "closed": "Đã đóng"}
MAX_TEXT = 2000


def new_number() -> str:
    """Ten base32 characters (50 bits): not to be guessed. Older numbers (six hex digits) are still looked up."""
    return base64.b32encode(secrets.token_bytes(10)).decode()[:10]


def tracking_code(raw: str) -> str:
    return raw.strip().upper().replace(" ", "")


async def create(
    session: AsyncSession, *, chat_id: int | None, category: str, text: str, case_code: str | None = None
) -> Feedback:
    if category not in CATEGORIES:
        raise ValueError(f"unknown feedback category {category!r}")
    for _ in range(5):
        fb = Feedback(
            tracking_no=f"GY-{new_number()}",
            chat_id=chat_id,
            category=category,
            text=text[:MAX_TEXT],
            case_code=case_code,
        )
        try:
            async with session.begin_nested():
                session.add(fb)
            return fb
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a feedback tracking number")


async def find(session: AsyncSession, tracking_no: str) -> Feedback | None:
    return (await session.exec(select(Feedback).where(Feedback.tracking_no == tracking_code(tracking_no)))).first()
