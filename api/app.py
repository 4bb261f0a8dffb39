"""The staff HTTP API (`tthc-bot api`): cases, their status, feedback, surveys and statistics. See docs/api.md.

`create_app(services)` builds the application from the services the composition root made (`cli/root.py`);
nothing happens at import time and the caller owns the database engine. What runs before a route, outermost first:
`BodyGuard` (500 with an error id for the unexpected, 401 for a key in the URL, 413 for a body too large, 422 for
undecodable JSON), then authentication and the per-key rate limit (`api/deps.py`, `api/guards.py`; the client address
from `X-Forwarded-For` only behind TRUSTED_PROXIES), then pydantic (`api/schemas.py`). Each request is one
transaction. /docs only with API_DOCS=true, from local files (`api/docs.py`); /openapi.json always.
"""

from __future__ import annotations

import ipaddress

from fastapi import FastAPI

from api.console import router as console_router
from api.deps import EXAMPLE_CODE
from api.docs import assets_dir, mount_docs
from api.errors import install_handlers
from api.guards import BodyGuard, RateLimiter
from api.routes import PREFIX, cases, feedback, stats, surveys, system
from bot.services import Services

DESCRIPTION = f"""
Staff API of tthc-bot: receive cases, change their status (the citizens following a case are
notified by the bot), read feedback and survey results, statistics.

**Authentication**: every endpoint but `/api/v1/health` needs an API key, created with
`tthc-bot apikey create NAME --scope read [--scope write] [--scope pii] [--expires-in-days N]` and sent as
`Authorization: Bearer <key>` or `X-API-Key: <key>` (never in the URL: 401). Scopes: `read` (read, personal data
masked), `write` (create, update, change status, answer feedback, the slip's link, unlock), `pii` (full personal
data; with `write`, changing a case's phone or birth year). Keys expire (401 `expired_api_key`).

**Limits**: request bodies up to API_MAX_BODY_BYTES (default 64 KiB, else 413); per key
API_RATE_LIMIT requests a minute with bursts of API_RATE_BURST (else 429 with Retry-After).

**Errors**: `{{"error": code, "message": English, "message_vi": Vietnamese?, "detail": [{{loc, msg, type}}]?}}`.
Receipt codes in paths accept any separators (`{EXAMPLE_CODE}`, `0000015H572611140001`).
"""

TAGS = [
    {"name": "cases", "description": "Cases (hồ sơ) by receipt code: create, update, status changes, history."},
    {"name": "feedback", "description": "Feedback (góp ý, phản ánh) sent through the bot, and staff replies."},
    {"name": "surveys", "description": "Satisfaction survey responses (six criteria, 1–5)."},
    {"name": "statistics", "description": "Cases by status, on-time rates, satisfaction per criterion."},
    {"name": "system", "description": "Health check (no authentication)."},
]


def create_app(services: Services) -> FastAPI:
    """The API application on `services`; the routes reach them through `app.state` (see `api/deps.py`)."""
    settings = services.settings
    app = FastAPI(
        title="tthc-bot staff API",
        version="1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,  # FastAPI's pages load Swagger UI and ReDoc from a CDN: see api/docs.py
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    if settings.api_docs:
        mount_docs(app, assets_dir())
    app.state.services = services
    app.state.limiter = RateLimiter(settings.api_rate_limit, settings.api_rate_burst)
    app.state.trusted_proxies = tuple(ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies)
    app.add_middleware(BodyGuard, max_body=settings.api_max_body_bytes)
    install_handlers(app)
    for module in (cases, feedback, surveys, stats, system):
        app.include_router(module.router, prefix=PREFIX)
    app.include_router(console_router)  # the staff web console under /console (api/console, docs/console.md)
    return app
