"""Demo cases so that a newcomer (and the tests) can try a lookup straight away.

Codes and phone numbers are generated from a fixed seed, so seeding twice creates nothing new.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import NewCase, change_status, create_case, get_case
from bot.storage.models import Case
from knowledge.loader import KnowledgeBase

AGENCY_CODES = ["000.00.15.H57", "000.00.31.H29", "000.00.12.H01", "000.00.20.H79"]
NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Hoàng Cường",
    "Phạm Thị Dung",
    "Hoàng Văn Em",
    "Vũ Thị Hoa",
    "Đặng Quốc Huy",
    "Bùi Thị Lan",
    "Đỗ Minh Khang",
    "Ngô Thị Mai",
    "Dương Văn Nam",
    "Lý Thị Oanh",
]
PATHS = [
    [],
    ["in_progress"],
    ["in_progress", "need_supplement"],
    ["in_progress", "ready_for_pickup"],
    ["in_progress", "ready_for_pickup", "returned"],
    ["in_progress", "overdue"],
    ["rejected"],
    ["withdrawn"],
]


@dataclass(frozen=True)
class DemoCase:
    code: str
    status: str
    phone_last4: str
    procedure_id: str


async def case_count(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Case))).one()


async def seed(
    *, session: AsyncSession, kb: KnowledgeBase, secret: str, count: int = 36, today: dt.date | None = None
) -> list[DemoCase]:
    """Create `count` demo cases across procedures and statuses; existing codes are kept as they are."""
    rng = random.Random(20251120)
    today = today or dt.date.today()
    procs = kb.procedures
    out: list[DemoCase] = []
    for i in range(count):
        proc = procs[(i * 7) % len(procs)]
        received = dt.datetime.combine(
            today - dt.timedelta(days=rng.randint(1, 20)), dt.time(2 + i % 7, 15), tzinfo=dt.UTC
        )
        code = f"{AGENCY_CODES[i % len(AGENCY_CODES)]}-{received:%y%m%d}-{i + 1:04d}"
        phone = "09" + "".join(str(rng.randint(0, 9)) for _ in range(8))
        due = today + dt.timedelta(days=rng.randint(-2, 10))
        path = PATHS[i % len(PATHS)]
        existing = await get_case(session, code)
        if existing:
            out.append(
                DemoCase(existing.display_code, existing.status, existing.phone_last4 or "", existing.procedure_id)
            )
            continue
        case = await create_case(
            session=session,
            secret=secret,
            source="demo",
            new=NewCase(
                code=code,
                procedure_id=proc.id,
                agency=proc.agency.name,
                office=proc.agency.where,
                applicant_name=NAMES[i % len(NAMES)],
                phone=phone,
                received_at=received,
                appointment_date=due,
                birth_year=1960 + i,
            ),
        )
        for step, status in enumerate(path, 1):
            extra: dict = {}
            if status == "need_supplement":
                extra = {"missing": [proc.documents[0].name], "note": "Bổ sung tại Bộ phận Một cửa"}
            elif status == "overdue":
                extra = {"new_date": today + dt.timedelta(days=5), "note": "Cần thêm thời gian xác minh"}
            elif status == "rejected":
                extra = {"note": "Hồ sơ không thuộc thẩm quyền giải quyết"}
            await change_status(
                session=session,
                case=case,
                status=status,
                source="demo",
                at=received + dt.timedelta(hours=4 * step),
                **extra,
            )
        out.append(DemoCase(case.display_code, case.status, case.phone_last4 or "", proc.id))
    return out
