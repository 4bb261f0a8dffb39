"""Statistics: cases by status, on-time rates, satisfaction per criterion, feedback by status (docs/api.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Reader, ServicesDep, SessionDep
from api.errors import field_error, responses
from api.schemas import ApiDate, Stats
from bot.insights import stats as stats_mod

router = APIRouter(prefix="/stats", tags=["statistics"])


@router.get("", response_model=Stats, summary="Statistics", responses=responses(401, 403, 422, 429))
async def statistics(
    principal: Reader,
    services: ServicesDep,
    session: SessionDep,
    since: Annotated[ApiDate | None, Query(description="First day (local), inclusive")] = None,
    until: Annotated[ApiDate | None, Query(description="Last day (local), inclusive")] = None,
) -> Stats:
    """Cases by status (received in the period); on-time rate overall, per procedure and per
    agency (cases closed with a result in the period: ready on or before the due date, which is
    the new appointment date when one was set; `rate_original` against the original date);
    satisfaction average per criterion; feedback by status. Needs `read`."""
    if since and until and since > until:
        raise field_error("since", "is after until", where="query")
    data = await stats_mod.compute(session, kb=services.kb, tz=services.settings.tz, since=since, until=until)
    return Stats.model_validate(data)
