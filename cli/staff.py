"""`tthc-bot staff add|list|disable|enable|password`: the accounts of the staff web console (`/console`).

Passwords are read from standard input with `--password-stdin` (one line; nothing on the command line, where the
shell history and the process list would keep it), or asked twice without echo. Each change is one transaction,
written to the console's audit log with `cli` as its author. A refusal is one line on stderr and exit 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts import audit, users
from bot.accounts.roles import ROLES
from bot.storage.models import StaffAccount
from cli import root

staff_app = typer.Typer(help="Staff accounts of the web console: add, list, disable, enable.", no_args_is_help=True)
BY = audit.Actor(audit.CLI)
T = TypeVar("T")

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return root.run_in_session(work)
    except users.AccountError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@staff_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="3–50 lowercase letters, digits, '.', '_' or '-'.")],
    role: Annotated[str, typer.Option(help=f"{', '.join(ROLES)}.")] = "officer",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account (at least 10 characters of password; stored as an Argon2 hash)."""
    password = _password(password_stdin)

    async def work(session: AsyncSession) -> StaffAccount:
        return await users.add(session, username, role, password, by=BY)

    account = _run(work)
    typer.echo(f"account {account.username!r} created with role {account.role}; sign in at /console/login")


@staff_app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per account.")] = False) -> None:
    """Every account with its role, state and last sign-in."""
    tz = root.settings().tz
    accounts = root.run_in_session(users.list_accounts)
    if not accounts and not as_json:
        typer.echo("no staff accounts; create one with `tthc-bot staff add NAME --role admin --password-stdin`")
    for a in accounts:
        last = a.last_login_at.astimezone(tz) if a.last_login_at else None
        if as_json:
            seen_at = last.isoformat() if last else None
            row = {"username": a.username, "role": a.role, "active": a.active, "last_login_at": seen_at}
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            state = "active" if a.active else "disabled"
            seen = f"last sign-in {last:%d/%m/%Y %H:%M}" if last else "never signed in"
            typer.echo(f"{a.username:30s}  {a.role:8s}  {state:8s}  {seen}")


def _set_active(username: str, active: bool) -> StaffAccount:
    async def work(session: AsyncSession) -> StaffAccount:
        return await users.set_active(session, username, active, by=BY)

    return _run(work)


@staff_app.command("disable")
def disable(username: Annotated[str, typer.Argument(help="The account's username.")]) -> None:
    """Disable an account: it cannot sign in, and its open sessions end at once."""
    typer.echo(f"account {_set_active(username, False).username!r} disabled")


@staff_app.command("enable")
def enable(username: Annotated[str, typer.Argument(help="The account's username.")]) -> None:
    """Enable a disabled account again."""
    typer.echo(f"account {_set_active(username, True).username!r} enabled")


@staff_app.command("password")
def password(
    username: Annotated[str, typer.Argument(help="The account's username.")], password_stdin: PasswordStdin = False
) -> None:
    """Set a new password (its sessions end)."""
    new = _password(password_stdin)

    async def work(session: AsyncSession) -> StaffAccount:
        return await users.set_password(session, username, new, by=BY)

    typer.echo(f"password of {_run(work).username!r} changed")
