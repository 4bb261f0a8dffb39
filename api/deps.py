"""What the routes are handed: the services, one database session per request, and the caller's identity.

Every request but /api/v1/health needs an API key (`tthc-bot apikey create NAME --scope ...`), sent as
`Authorization: Bearer <key>` or `X-API-Key: <key>` (never in the URL: `api/guards.py` refuses that before any
route); keys are stored in `bot/staff/apikeys.py` and expire. A key's requests are rate-limited per key, failed
authentication per client address, before any route runs. The client address is the connection's peer; an
`X-Forwarded-For` header is read only when that peer is one of TRUSTED_PROXIES (`client_address`), so a client
cannot pick a new address for every failed attempt.

The session is one transaction for the whole request, authentication included: committed when the route returns
and before the answer is sent (so a client that reads right after a write sees it), rolled back when the route
raises, so a refused request writes nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
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
    def read(self) -> bool:
        return "read" in self.scopes

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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """Who is calling: the connection's peer, unless the peer is a trusted proxy. Then `X-Forwarded-For` is read from
    the right (each proxy appends the address it received from), skipping the trusted proxies, and the first other
    address is the client; a header a client wrote itself sits to the left of it and is never reached."""
    here = _address(peer) if peer else None
    if here is None or not any(here in net for net in trusted):
        return peer or "unknown"
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        addr = _address(hop)
        if addr is None:
            return peer or "unknown"  # a malformed hop: keep the proxy's address rather than trust what follows
        if not any(addr in net for net in trusted):
            return str(addr)
    return peer or "unknown"


def _client(request: Request) -> str:
    trusted = cast(tuple[Network, ...], request.app.state.trusted_proxies)
    forwarded = request.headers.getlist("x-forwarded-for") if trusted else []
    return client_address(request.client.host if request.client else None, forwarded, trusted)


async def authenticate(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header)],
) -> Principal:
    token = bearer.credentials if bearer else header_key
    challenge = {"WWW-Authenticate": "Bearer"}
    if not token:
        await _limit(request, f"ip:{_client(request)}")
        raise ApiError(
            401,
            "missing_api_key",
            "An API key is needed: send `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
            headers=challenge,
        )
    found = await apikeys.check(session, token.strip())
    if found.key is None or found.problem is not None:
        await _limit(request, f"ip:{_client(request)}")
        if found.problem == "expired" and found.key is not None:
            day = f"{found.key.expires_at:%Y-%m-%d}"
            message = f"API key expired on {day}; ask for a new one (`tthc-bot apikey create`)."
            vi = f"Khóa API đã hết hạn ngày {day}."
            raise ApiError(401, "expired_api_key", message, message_vi=vi, headers=challenge)
        raise ApiError(401, "invalid_api_key", "Unknown or revoked API key.", headers=challenge)
    key = found.key
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


def requires_scope(scope: str, what: str) -> ApiError:
    """403 for an operation of a route that needs one more scope than the route itself (e.g. pii to change the
    phone number that proves a case is the citizen's)."""
    return ApiError(
        403,
        "insufficient_scope",
        f"{what} needs the {scope!r} scope.",
        message_vi=f"Thao tác này cần quyền {scope!r}.",
    )


Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("write"))]
CodePath = Annotated[str, Path(description=f"Receipt code, any separators, e.g. {EXAMPLE_CODE}", max_length=100)]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip")]
