"""What the routes are handed: the services, one database session per request, and the caller's identity.

Every request but /api/v1/health needs an API key (`tthc-bot apikey create NAME --scope ...`), sent as
`Authorization: Bearer <key>` or `X-API-Key: <key>`; keys are stored in `bot/staff/apikeys.py`. A key's requests
are rate-limited per key, failed authentication per client address, before any route runs.

The session is one transaction for the whole request, authentication included: committed when the route returns
and before the answer is sent (so a client that reads right after a write sees it), rolled back when the route
raises, so a refused request writes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Path, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import ApiError
from api.guards import RateLimiter
from bot.services import Services
from bot.staff import apikeys
from bot.storage.db import session_scope

EXAMPLE_CODE = "000.00.15.H57-261114-0001"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key's id, name and scopes."""

    id: int
    name: str
    scopes: frozenset[str]

    @property
    def pii(self) -> bool:
        return "pii" in self.scopes

    @property
    def source(self) -> str:
        """How the history of a case names this caller's changes."""
        return f"api:{self.name}"[:40]


def get_services(request: Request) -> Services:
    """The services `create_app` was given: routes take them from the app, never from globals."""
    return cast(Services, request.app.state.services)


async def open_session(services: Annotated[Services, Depends(get_services)]) -> AsyncIterator[AsyncSession]:
    """The request's transaction; used with scope "function" so it ends before the answer is sent."""
    async with session_scope(services.engine) as session:
        yield session


ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[AsyncSession, Depends(open_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, scheme_name="bearer", description="`Authorization: Bearer <key>`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKeyHeader", description="`X-API-Key: <key>`")


async def _limit(request: Request, key: str) -> None:
    limiter = cast(RateLimiter, request.app.state.limiter)
    seconds = await limiter.check(key)
    if seconds:
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests; retry in {seconds} s.",
            message_vi=f"Quá nhiều yêu cầu; thử lại sau {seconds} giây.",
            headers={"Retry-After": str(seconds)},
        )


async def authenticate(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header)],
) -> Principal:
    token = bearer.credentials if bearer else header_key
    client = request.client.host if request.client else "unknown"
    challenge = {"WWW-Authenticate": "Bearer"}
    if not token:
        await _limit(request, f"ip:{client}")
        raise ApiError(
            401,
            "missing_api_key",
            "An API key is needed: send `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
            headers=challenge,
        )
    key = await apikeys.verify(session, token.strip())
    if key is None:
        await _limit(request, f"ip:{client}")
        raise ApiError(401, "invalid_api_key", "Unknown or revoked API key.", headers=challenge)
    await _limit(request, f"key:{key.id}")
    return Principal(id=key.id or 0, name=key.name, scopes=frozenset(key.scopes or []))


def require(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only keys with `scope`."""

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if scope not in principal.scopes:
            raise ApiError(
                403,
                "insufficient_scope",
                f"This API key lacks the {scope!r} scope.",
                message_vi=f"Khóa API này không có quyền {scope!r}.",
            )
        return principal

    return check


Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("write"))]
CodePath = Annotated[str, Path(description=f"Receipt code, any separators, e.g. {EXAMPLE_CODE}", max_length=100)]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip")]
