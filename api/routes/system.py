"""The health check: no authentication, no session, so it answers even when the key table cannot be read."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import ServicesDep
from api.schemas import Health

router = APIRouter(tags=["system"])
log = logging.getLogger("api.health")


@router.get(
    "/health",
    response_model=Health,
    summary="Health check",
    responses={503: {"model": Health, "description": "The database is unreachable"}},
)
async def health(services: ServicesDep) -> JSONResponse:
    """`ok` when the database answers. No authentication."""
    try:
        async with services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # a health check reports the failure instead of failing
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "database": "error"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
