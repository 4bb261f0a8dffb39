"""`tthc-bot api` (the staff HTTP API under uvicorn) and `tthc-bot apikey create|list|revoke`.

Imported by cli/main.py at start-up, so FastAPI and uvicorn are imported only inside the commands. The services and
the database sessions come from the composition root (`cli/root.py`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from bot.staff import apikeys
from bot.storage.models import ApiKey, utcnow
from cli import root

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

apikey_app = typer.Typer(help="API keys for the staff HTTP API: create, list, revoke.", no_args_is_help=True)


def server_config(app: FastAPI, settings: Settings, host: str | None = None, port: int | None = None) -> uvicorn.Config:
    """uvicorn's settings for the API. uvicorn's own X-Forwarded-For handling is off: it would believe the header
    from 127.0.0.1 by default (and from FORWARDED_ALLOW_IPS), so a client on the same machine could pick a new
    address for every failed key; the API reads the header itself, from TRUSTED_PROXIES only (`api/deps.py`).
    API keys are scrubbed from the access log (`api.guards.AccessLogScrub`)."""
    import uvicorn

    from api.guards import AccessLogScrub

    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogScrub) for f in access.filters):
        access.addFilter(AccessLogScrub())
    return uvicorn.Config(
        app,
        host=host or settings.api_host,
        port=settings.api_port if port is None else port,
        log_config=None,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
        server_header=False,
    )


def api_command(
    host: Annotated[str | None, typer.Option(help="Listen address (default: API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: API_PORT).")] = None,
) -> None:
    """Run the staff HTTP API (docs at /openapi.json; /docs with API_DOCS=true); keys from `tthc-bot apikey create`."""
    import uvicorn

    from api.app import create_app
    from bot.privacy.logs import setup_logging

    services = root.serving_services()  # refuses the development SECRET_KEY, like the bot
    settings = services.settings
    setup_logging(settings.log_level)  # JSON lines, phone numbers and receipt codes scrubbed (access log too)
    config = server_config(create_app(services), settings, host, port)

    async def serve() -> None:
        try:
            await uvicorn.Server(config).serve()
        finally:
            await services.close()

    asyncio.run(serve())


def _refused(exc: apikeys.ApiKeyError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="A name for the key's holder, e.g. mot-cua-phu-thuong.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read, write or pii; repeat for several (default: read).")
    ] = None,
    expires_in_days: Annotated[
        int,
        typer.Option("--expires-in-days", help=f"Days the key works (1–{apikeys.MAX_EXPIRY_DAYS}); then 401."),
    ] = apikeys.DEFAULT_EXPIRY_DAYS,
) -> None:
    """Create a key and print it once (stdout: the key alone); only its hash is stored. It expires."""
    scopes = scope or ["read"]

    async def work(session: AsyncSession) -> tuple[ApiKey, str]:
        return await apikeys.create(session, name, scopes, expires_in_days=expires_in_days)

    try:
        key, token = root.run_in_session(work)
    except apikeys.ApiKeyError as exc:
        raise _refused(exc) from None
    expires = f"{key.expires_at.astimezone(root.settings().tz):%d/%m/%Y %H:%M}"
    typer.echo(
        f"API key {key.name!r} created with scope(s) {', '.join(key.scopes)}, valid until {expires}. "
        "Copy it now: it is stored only as a hash and cannot be shown again.",
        err=True,
    )
    typer.echo(token)


@apikey_app.command("list")
def apikey_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per key.")] = False) -> None:
    """Every key with its scopes, creation, expiry and revocation dates (never the key itself)."""
    tz = root.settings().tz
    keys = root.run_in_session(apikeys.list_keys)
    if not keys:
        typer.echo("no API keys; create one with `tthc-bot apikey create NAME --scope read`")
    now = utcnow()
    for k in keys:
        if as_json:
            row = {
                "name": k.name,
                "scopes": k.scopes,
                "created_at": k.created_at.isoformat(),
                "expires_at": k.expires_at.isoformat(),
                "expired": apikeys.expired(k, now),
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            }
            typer.echo(json.dumps(row, ensure_ascii=False))
            continue
        if k.revoked_at:
            state = f"revoked {k.revoked_at.astimezone(tz):%d/%m/%Y %H:%M}"
        else:
            state = "expired" if apikeys.expired(k, now) else "active"
        typer.echo(
            f"{k.name:30s}  {','.join(k.scopes):16s}  created {k.created_at.astimezone(tz):%d/%m/%Y %H:%M}  "
            f"expires {k.expires_at.astimezone(tz):%d/%m/%Y %H:%M}  {state}"
        )


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Argument(help="The key's name (see `tthc-bot apikey list`).")]) -> None:
    """Revoke a key: requests with it get 401 from now on. The name stays taken."""

    async def work(session: AsyncSession) -> ApiKey:
        return await apikeys.revoke(session, name)

    try:
        key = root.run_in_session(work)
    except apikeys.ApiKeyError as exc:
        raise _refused(exc) from None
    typer.echo(f"API key {key.name!r} revoked")
