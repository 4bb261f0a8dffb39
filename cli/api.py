"""`tthc-bot api` (the staff HTTP API under uvicorn) and `tthc-bot apikey create|list|revoke`.

Imported by bot/cli.py at start-up, so FastAPI and uvicorn are imported only inside the commands.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from bot.settings import get_settings

apikey_app = typer.Typer(help="API keys for the staff HTTP API: create, list, revoke.", no_args_is_help=True)


def api_command(
    host: Annotated[str | None, typer.Option(help="Listen address (default: API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: API_PORT).")] = None,
) -> None:
    """Run the staff HTTP API (OpenAPI docs at /docs); keys come from `tthc-bot apikey create`."""
    import uvicorn

    from api.app import create_app
    from bot.privacy.logs import setup_logging
    from bot.storage.db import make_engine
    from knowledge.loader import require_knowledge

    settings = get_settings()
    setup_logging(settings.log_level)  # JSON lines, phone numbers and receipt codes scrubbed (access log too)
    kb = require_knowledge(settings.knowledge_path)

    async def serve() -> None:
        engine = make_engine(settings)
        try:
            app = create_app(settings, kb, engine)
            config = uvicorn.Config(
                app,
                host=host or settings.api_host,
                port=port or settings.api_port,
                log_config=None,
                log_level=settings.log_level.lower(),
                proxy_headers=True,
                server_header=False,
            )
            await uvicorn.Server(config).serve()
        finally:
            await engine.dispose()

    asyncio.run(serve())


def _run(work):  # type: ignore[no-untyped-def]
    """Run `work(session)` in one transaction on the configured database."""
    from bot.storage.db import make_engine, session_scope

    async def go():  # type: ignore[no-untyped-def]
        engine = make_engine(get_settings())
        try:
            async with session_scope(engine) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="A name for the key's holder, e.g. mot-cua-phu-thuong.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read, write or pii; repeat for several (default: read).")
    ] = None,
) -> None:
    """Create a key and print it once (stdout: the key alone); only its hash is stored."""
    from bot.staff import apikeys

    scopes = scope or ["read"]

    async def work(session):  # type: ignore[no-untyped-def]
        return await apikeys.create(session, name, scopes)

    try:
        key, token = _run(work)
    except apikeys.ApiKeyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"API key {key.name!r} created with scope(s) {', '.join(key.scopes)}. "
        "Copy it now: it is stored only as a hash and cannot be shown again.",
        err=True,
    )
    typer.echo(token)


@apikey_app.command("list")
def apikey_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per key.")] = False) -> None:
    """Every key with its scopes, creation and revocation dates (never the key itself)."""
    from bot.staff import apikeys

    s = get_settings()
    keys = _run(apikeys.list_keys)
    if not keys:
        typer.echo("no API keys; create one with `tthc-bot apikey create NAME --scope read`")
    for k in keys:
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "name": k.name,
                        "scopes": k.scopes,
                        "created_at": k.created_at.isoformat(),
                        "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            state = f"revoked {k.revoked_at.astimezone(s.tz):%d/%m/%Y %H:%M}" if k.revoked_at else "active"
            typer.echo(
                f"{k.name:30s}  {','.join(k.scopes):16s}  "
                f"created {k.created_at.astimezone(s.tz):%d/%m/%Y %H:%M}  {state}"
            )


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Argument(help="The key's name (see `tthc-bot apikey list`).")]) -> None:
    """Revoke a key: requests with it get 401 from now on. The name stays taken."""
    from bot.staff import apikeys

    async def work(session):  # type: ignore[no-untyped-def]
        return await apikeys.revoke(session, name)

    try:
        key = _run(work)
    except apikeys.ApiKeyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"API key {key.name!r} revoked")
