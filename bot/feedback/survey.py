"""The satisfaction survey: the six criteria of the national satisfaction index, 1–5 each.

The masked copy of the comment (`SurveyResponse.comment_masked`) is stored with the row, by the listeners of
bot/privacy/masking.py, in the same flush.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Case, SurveyResponse

CRITERIA = [
    ("access", "Tiếp cận dịch vụ (dễ tìm nơi nộp, dễ nộp trực tuyến)"),
    ("reception", "Điều kiện đón tiếp, phục vụ tại Bộ phận Một cửa"),
    ("information", "Thông tin về thủ tục hành chính (rõ ràng, đầy đủ)"),
    ("staff", "Sự phục vụ của công chức (thái độ, hướng dẫn)"),
    ("result", "Kết quả giải quyết và thời gian trả kết quả"),
    ("feedback", "Việc tiếp nhận, xử lý ý kiến góp ý, phản ánh"),
]
KEYS = [k for k, _ in CRITERIA]


async def save(
    session: AsyncSession, *, scores: dict[str, int], comment: str | None, case: Case | None
) -> SurveyResponse:
    if set(scores) != set(KEYS) or not all(1 <= v <= 5 for v in scores.values()):
        raise ValueError("a survey needs a 1–5 score for each of the six criteria")
    resp = SurveyResponse(
        procedure_id=case.procedure_id if case else None,
        agency=case.agency if case else None,
        case_id=case.id if case else None,
        scores=scores,
        comment=(comment or None),
    )
    session.add(resp)
    return resp
