"""Satisfaction survey responses (six criteria, 1–5), newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, func, select

from api.deps import Limit, Offset, Reader, ServicesDep, SessionDep
from api.errors import responses
from api.schemas import SurveyPage
from api.views import survey_public
from bot.storage.models import Case, SurveyResponse

router = APIRouter(prefix="/surveys", tags=["surveys"])


@router.get("", response_model=SurveyPage, summary="List survey responses", responses=responses(401, 403, 422, 429))
async def list_surveys(
    principal: Reader,
    services: ServicesDep,
    session: SessionDep,
    procedure_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SurveyPage:
    """Satisfaction survey responses, newest first, optionally for one procedure: the six scores
    (1–5), their average and the comment. Needs `read`."""
    where = [col(SurveyResponse.procedure_id) == procedure_id] if procedure_id else []
    total = (await session.exec(select(func.count()).select_from(SurveyResponse).where(*where))).one()
    stmt = (
        select(SurveyResponse, Case.display_code)
        .outerjoin(Case, col(Case.id) == col(SurveyResponse.case_id))
        .where(*where)
        .order_by(col(SurveyResponse.created_at).desc(), col(SurveyResponse.id).desc())
        .offset(offset)
        .limit(limit)
    )
    rows = (await session.exec(stmt)).all()
    items = [survey_public(r, c, services.kb, pii=principal.pii) for r, c in rows]
    return SurveyPage(total=total, limit=limit, offset=offset, items=items)
