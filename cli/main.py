"""The `tthc-bot` command line: the entry point, and the outermost layer of the program.

Each command group lives in its own module; the services they use come from the composition root
(`cli/root.py`). Errors a user can fix (a bad setting, a broken YAML file, an unreachable database) are printed
as one line naming the file, field or setting; `--debug` shows the traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.settings import SettingsError
from cli import bot as bot_commands
from cli.api import api_command, apikey_app
from cli.cases import cases_app
from cli.converse import converse
from cli.database import db_app, demo_app
from cli.kb import ask, kb_app
from cli.kb_maintenance import kb_stale
from cli.national import import_national
from cli.staff import staff_app
from knowledge.loader import KnowledgeError

app = typer.Typer(help="Trợ lý thủ tục hành chính (tthc-bot).", no_args_is_help=True, add_completion=False)
kb_app.command("import-national")(import_national)
kb_app.command("stale")(kb_stale)
app.add_typer(kb_app, name="kb")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(cases_app, name="cases")
app.add_typer(apikey_app, name="apikey")
app.add_typer(staff_app, name="staff")
app.command("api")(api_command)
app.command("ask")(ask)
app.command("chat")(bot_commands.chat)
app.command("converse")(converse)
app.command("run")(bot_commands.run)
app.command("worker", hidden=True)(bot_commands.worker)
app.command("qr")(bot_commands.qr)
app.command("start")(bot_commands.start)


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    """`--debug` is read by `main()` before Typer runs; declared here so that Typer accepts it."""


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.exit(2)


def main() -> None:
    """Run a command; turn the errors an operator can fix into one line (exit 2)."""
    try:
        app()
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        _fail(_explain(exc))


def _explain(exc: Exception) -> str:
    """One line naming what to fix; anything unexpected is raised again."""
    if isinstance(exc, SettingsError | KnowledgeError):
        return str(exc)
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"setting {'.'.join(map(str, err['loc'])).upper()}: {err['msg']}"
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError):
        if exc.filename is None:  # no file named: the database's socket or file
            return f"database unreachable or unusable ({type(exc).__name__}: {exc}); check DATABASE_URL"
        return f"{exc.filename}: {exc.strerror.lower() if exc.strerror else type(exc).__name__}"
    if isinstance(exc, OperationalError | DBAPIError | OSError):
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        return f"database unreachable or unusable ({type(exc).__name__}: {first}); check DATABASE_URL"
    raise exc


if __name__ == "__main__":
    main()
