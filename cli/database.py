"""`tthc-bot db upgrade` and `tthc-bot demo seed`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.services import Services
from bot.staff import demo
from bot.storage.db import database_url, session_scope
from bot.storage.migrate import upgrade
from cli import root

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply database migrations (SQLite under ./var by default, or DATABASE_URL)."""
    upgrade(root.settings(), revision=revision)
    url = database_url(root.settings())
    typer.echo(f"database ready: {url.split('@')[-1] if '@' in url else url}")


@demo_app.command("seed")
def demo_seed(
    as_json: Annotated[bool, typer.Option("--json", help="Print created cases as JSON lines.")] = False,
    count: int = 36,
    if_empty: Annotated[bool, typer.Option(help="Only seed an empty database.")] = False,
) -> None:
    """Create realistic demo cases (idempotent: the same codes every time)."""

    async def work(services: Services) -> list[demo.DemoCase]:
        async with session_scope(services.engine) as session:
            if if_empty and await demo.case_count(session) > 0:
                return []
            return await demo.seed(session=session, kb=services.kb, secret=services.secret, count=count)

    cases = root.run(work)
    if as_json:
        for c in cases:
            row = {"code": c.code, "status": c.status, "phone_last4": c.phone_last4, "procedure_id": c.procedure_id}
            typer.echo(json.dumps(row, ensure_ascii=False))
    elif cases:
        typer.echo(f"{len(cases)} demo cases; try: {cases[0].code} (last 4 phone digits {cases[0].phone_last4})")
