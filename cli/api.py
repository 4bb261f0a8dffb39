"""`tthc-bot api` (the staff HTTP API under uvicorn) and `tthc-bot apikey create|list|revoke`.

Imported by cli/main.py at start-up, so FastAPI and uvicorn are imported only inside the commands. The services and
the database sessions come from the composition root (`cli/root.py`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.staff import apikeys
from bot.storage.models import ApiKey
from cli import root

apikey_app = typer.Typer(help="API keys for the staff HTTP API: create, list, revoke.", no_args_is_help=True)


def api_command(
    host: Annotated[str | None, typer.Option(help="Listen address (default: API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: API_PORT).")] = None,
) -> None:
    """Run the staff HTTP API (OpenAPI docs at /docs); keys come from `tthc-bot apikey create`."""
    import uvicorn

    from api.app import create_app
    from bot.privacy.logs import setup_logging

    services = root.serving_services()  # refuses the development SECRET_KEY, like the bot
    settings = services.settings
    setup_logging(settings.log_level)  # JSON lines, phone numbers and receipt codes scrubbed (access log too)
    config = uvicorn.Config(
        create_app(services),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        server_header=False,
    )

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
) -> None:
    """Create a key and print it once (stdout: the key alone); only its hash is stored."""
    scopes = scope or ["read"]

    async def work(session: AsyncSession) -> tuple[ApiKey, str]:
        return await apikeys.create(session, name, scopes)

    try:
        key, token = root.run_in_session(work)
    except apikeys.ApiKeyError as exc:
        raise _refused(exc) from None
    typer.echo(
        f"API key {key.name!r} created with scope(s) {', '.join(key.scopes)}. "
        "Copy it now: it is stored only as a hash and cannot be shown again.",
        err=True,
    )
    typer.echo(token)


@apikey_app.command("list")
def apikey_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per key.")] = False) -> None:
    """Every key with its scopes, creation and revocation dates (never the key itself)."""
    tz = root.settings().tz
    keys = root.run_in_session(apikeys.list_keys)
    if not keys:
        typer.echo("no API keys; create one with `tthc-bot apikey create NAME --scope read`")
    for k in keys:
        if as_json:
            revoked = k.revoked_at.isoformat() if k.revoked_at else None
            row = {"name": k.name, "scopes": k.scopes, "created_at": k.created_at.isoformat(), "revoked_at": revoked}
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            state = f"revoked {k.revoked_at.astimezone(tz):%d/%m/%Y %H:%M}" if k.revoked_at else "active"
            typer.echo(
                f"{k.name:30s}  {','.join(k.scopes):16s}  created {k.created_at.astimezone(tz):%d/%m/%Y %H:%M}  {state}"
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
