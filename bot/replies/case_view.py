"""How a case reads to its owner: status in plain Vietnamese, what to do next, history.

Shared by the lookup reply and the pushed notifications so both say the same thing.
"""

from __future__ import annotations

import datetime as dt
import html

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import STATUSES, history
from bot.privacy.hashing import mask_name
from bot.replies.dates import vn_date
from bot.settings import Settings
from bot.storage.models import Case
from knowledge.loader import KnowledgeBase

NEXT_STEP = {
    "received": "Hồ sơ đã được tiếp nhận và chuyển đến bộ phận giải quyết.",
    "in_progress": "Hồ sơ đang được giải quyết; Anh/Chị chưa cần làm gì thêm.",
    "need_supplement": "Anh/Chị cần bổ sung giấy tờ: {missing}. Nộp bổ sung tại: {office} ({hours}).",
    "ready_for_pickup": ("Đã có kết quả. Anh/Chị mang giấy biên nhận và thẻ căn cước đến {office} để nhận ({hours})."),
    "returned": "Kết quả đã được trả. Cảm ơn Anh/Chị đã sử dụng dịch vụ.",
    "overdue": "Cơ quan giải quyết thành thật xin lỗi Anh/Chị vì hồ sơ bị chậm; ngày hẹn trả mới là {new_date}.",
    "rejected": "Hồ sơ không được giải quyết. Lý do: {note}.",
    "withdrawn": "Hồ sơ đã được rút theo yêu cầu.",
}


def due_date(case: Case) -> dt.date:
    return case.new_appointment_date or case.appointment_date


def next_step(case: Case, settings: Settings) -> str:
    e = html.escape
    return NEXT_STEP[case.status].format(
        missing=e(", ".join(case.missing_documents) or (case.status_note or "")),
        office=e(case.office or case.agency),
        hours=e(settings.office_hours),
        new_date=vn_date(due_date(case)),
        note=e(case.status_note or ""),
    )


def procedure_name(case: Case, kb: KnowledgeBase) -> str:
    proc = kb.get(case.procedure_id)
    return proc.name if proc else case.procedure_id


async def case_card(session: AsyncSession, case: Case, kb: KnowledgeBase, settings: Settings) -> str:
    e = html.escape
    tz = settings.tz
    lines = [
        f"📄 <b>Hồ sơ {e(case.display_code)}</b>",
        f"Người nộp: {e(mask_name(case.applicant_name))}",
        f"Thủ tục: {e(procedure_name(case, kb))}",
        f"Ngày nhận: {vn_date(case.received_at.astimezone(tz).date())}",
        f"Ngày hẹn trả: {vn_date(due_date(case))}",
        f"Trạng thái: <b>{STATUSES[case.status]}</b>",
        next_step(case, settings),
        "",
        "<b>Quá trình xử lý</b>",
    ]
    for evt in await history(session, case):
        lines.append(f"• {evt.at.astimezone(tz):%d/%m/%Y %H:%M}: {STATUSES.get(evt.status, evt.status)}")
    return "\n".join(lines)
