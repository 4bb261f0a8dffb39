"""The `tthc-bot` command line: a thin layer over the core.

Errors a user can fix (a bad setting, a broken YAML file, an unreachable database) are
printed as one line naming the file, field or setting; `--debug` shows the traceback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.settings import Settings, SettingsError, get_settings
from knowledge.loader import KnowledgeError, load_knowledge, require_knowledge

app = typer.Typer(help="Trợ lý thủ tục hành chính (tthc-bot).", no_args_is_help=True, add_completion=False)
kb_app = typer.Typer(help="Knowledge base: validate, export, show, gaps.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
from cli.cases import cases_app  # noqa: E402

app.add_typer(cases_app, name="cases")
from cli.api import api_command, apikey_app  # noqa: E402

app.command("api")(api_command)
app.add_typer(apikey_app, name="apikey")

STATE = {"debug": False}


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    STATE["debug"] = debug


def settings() -> Settings:
    return get_settings()


def knowledge():  # type: ignore[no-untyped-def]
    return require_knowledge(settings().knowledge_path)


def run_async(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


# --- kb -------------------------------------------------------------------------------------


@kb_app.command("validate")
def kb_validate(
    catalog: Annotated[Path | None, typer.Option(help="Also check coverage of this catalog.yaml.")] = None,
) -> None:
    """Check every procedure file; print problems as `file: field: message`."""
    root = settings().knowledge_path
    kb = load_knowledge(root)
    problems = [str(p) for p in kb.problems]
    if catalog:
        slugs = {row["slug"] for row in yaml.safe_load(catalog.read_text(encoding="utf-8"))}
        have = {p.id for p in kb.procedures}
        problems += [f"{catalog}: slug: {s} has no procedure file" for s in sorted(slugs - have)]
        problems += [f"{catalog}: slug: {s} is not in the catalog" for s in sorted(have - slugs)]
    for line in problems:
        typer.echo(line)
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {root}", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {len(kb.procedures)} procedures in {root}")


@kb_app.command("export")
def kb_export(as_json: Annotated[bool, typer.Option("--json", help="JSON output (the only format).")] = True) -> None:
    """The whole knowledge base as one JSON document {"procedures": [...]}."""
    kb = knowledge()
    data = {"procedures": [p.model_dump(mode="json") for p in kb.procedures]}
    typer.echo(json.dumps(data, ensure_ascii=False, indent=1))


@kb_app.command("show")
def kb_show(procedure_id: str) -> None:
    """A procedure as a citizen reads it in the bot."""
    from bot.replies.cards import full_card, to_plain

    kb = knowledge()
    proc = kb.get(procedure_id)
    if proc is None:
        typer.echo(f"unknown procedure id {procedure_id!r}; see `tthc-bot kb export`", err=True)
        raise typer.Exit(1)
    typer.echo(to_plain(full_card(proc)))


# --- db and demo ----------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply database migrations (SQLite under ./var by default, or DATABASE_URL)."""
    from bot.storage.db import database_url
    from bot.storage.migrate import upgrade

    upgrade(settings(), revision=revision)
    url = database_url(settings())
    typer.echo(f"database ready: {url.split('@')[-1] if '@' in url else url}")


@demo_app.command("seed")
def demo_seed(
    as_json: Annotated[bool, typer.Option("--json", help="Print created cases as JSON lines.")] = False,
    count: int = 36,
    if_empty: Annotated[bool, typer.Option(help="Only seed an empty database.")] = False,
) -> None:
    """Create realistic demo cases (idempotent: the same codes every time)."""
    from bot.staff import demo
    from bot.storage.db import make_engine, session_scope

    kb = knowledge()
    s = settings()

    async def go() -> list[demo.DemoCase]:
        engine = make_engine(s)
        try:
            async with session_scope(engine) as session:
                if if_empty and await demo.case_count(session) > 0:
                    return []
                return await demo.seed(session=session, kb=kb, secret=s.secret_key.get_secret_value(), count=count)
        finally:
            await engine.dispose()

    cases = run_async(go())
    if as_json:
        for c in cases:
            typer.echo(
                json.dumps(
                    {"code": c.code, "status": c.status, "phone_last4": c.phone_last4, "procedure_id": c.procedure_id},
                    ensure_ascii=False,
                )
            )
    elif cases:
        typer.echo(f"{len(cases)} demo cases; try: {cases[0].code} (last 4 phone digits {cases[0].phone_last4})")


# --- questions ------------------------------------------------------------------------------


@app.command("ask")
def ask(
    question: Annotated[str | None, typer.Argument(help="The question, in any spelling.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per question.")] = False,
    batch: Annotated[Path | None, typer.Option(help="File with one question per line.")] = None,
    record: Annotated[bool, typer.Option(help="Record unanswered questions as knowledge-base gaps.")] = True,
) -> None:
    """Understand a question as the bot would: intent, facet, best procedures."""
    from bot.insights import gaps
    from bot.services import build_services
    from bot.storage.db import session_scope

    if batch is None and question is None:
        raise typer.BadParameter("give a question or --batch FILE")
    lines = batch.read_text(encoding="utf-8-sig").splitlines() if batch else [question or ""]
    services = build_services(settings())
    results = [services.matcher.understand(line) for line in lines]
    for q, u in zip(lines, results, strict=False):
        if as_json:
            typer.echo(json.dumps(u.to_dict() | {"query": q}, ensure_ascii=False))
        else:
            best = ", ".join(f"{m.id} ({m.score:.2f})" for m in u.matches[:3]) or "-"
            typer.echo(f"{u.intent} | facet={u.facet} | confident={u.confident} | {best}")

    async def save() -> None:
        try:
            async with session_scope(services.engine) as session:
                for u in results:
                    await gaps.record(session, u, source="ask")
        except (OperationalError, DBAPIError) as exc:
            typer.echo(f"warning: gaps not recorded ({type(exc).__name__}); run `tthc-bot db upgrade`", err=True)
        finally:
            await services.close()

    if record:
        run_async(save())


@kb_app.command("gaps")
def kb_gaps(
    since: Annotated[str | None, typer.Option(help="Only questions from this date (dd/mm/yyyy or yyyy-mm-dd).")] = None,
    limit: int = 20,
) -> None:
    """The most frequent questions the bot could not answer, with counts."""
    from bot.insights import gaps
    from bot.replies.dates import parse_date
    from bot.storage.db import make_engine, session_scope

    s = settings()
    start = None
    if since:
        day = parse_date(since)
        if day is None:
            raise typer.BadParameter(f"--since: cannot read date {since!r}; use dd/mm/yyyy")
        start = dt.datetime.combine(day, dt.time(), tzinfo=s.tz)

    async def go() -> list[gaps.Gap]:
        engine = make_engine(s)
        try:
            async with session_scope(engine) as session:
                return await gaps.top_gaps(session, since=start, limit=limit)
        finally:
            await engine.dispose()

    rows = run_async(go())
    if not rows:
        typer.echo("no unanswered questions recorded")
    for g in rows:
        typer.echo(f"{g.count:5d}  {g.intent:12s}  {g.last_seen.astimezone(s.tz):%d/%m/%Y}  {g.text}")


# --- running the bot ------------------------------------------------------------------------


@app.command("chat")
def chat() -> None:
    """Talk to the bot in the terminal (the same answers as on Telegram)."""
    from bot.conversation.core import Conversation
    from bot.services import build_services
    from cli.chat import chat as terminal_chat

    async def go() -> None:
        services = build_services(settings())
        conversation = Conversation(services)
        try:
            await terminal_chat(conversation)
        finally:
            await conversation.close()
            await services.close()

    run_async(go())


@app.command("run")
def run(
    webhook: Annotated[bool, typer.Option("--webhook", help="Receive updates by webhook.")] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, max=32, help="Processes answering (default BOT_WORKERS, 1).")
    ] = None,
) -> None:
    """Run the Telegram bot (long polling by default)."""
    from handlers.telegram import run_bot

    run_bot(settings(), webhook=webhook, workers=workers)


@app.command("worker", hidden=True)
def worker(fd: Annotated[int, typer.Option("--fd")]) -> None:
    """A worker of `run --workers N`, started by it: answers the updates read from file descriptor FD."""
    from handlers.workers import run_worker

    run_worker(settings(), fd)


@app.command("qr")
def qr(
    code: str,
    out: Annotated[Path | None, typer.Option("--out", help="PNG file (default qr-<code>.png).")] = None,
) -> None:
    """Print the deep link that opens a case's lookup in the bot, and write it as a PNG QR code."""
    from bot.cases.qr import write_qr
    from knowledge.codes import find_code

    printed = find_code(code)
    if printed is None:
        typer.echo(f"not a receipt code: {code!r} (expected e.g. 000.00.15.H57-251120-0001)", err=True)
        raise typer.Exit(1)
    path = out or Path(f"qr-{printed.replace('.', '').replace('-', '')}.png")
    link = write_qr(printed, settings().bot_username, path)
    typer.echo(link)
    typer.echo(f"QR code written to {path}", err=True)


@app.command("start")
def start() -> None:
    """The Telegram bot when TELEGRAM_BOT_TOKEN is set, otherwise the terminal chat."""
    if settings().telegram_bot_token:
        run(webhook=False)
        return
    typer.echo(
        "Chưa có TELEGRAM_BOT_TOKEN trong .env: mở trò chuyện trên terminal. "
        "Để chạy trên Telegram, đặt TELEGRAM_BOT_TOKEN trong .env rồi chạy lại `make run`.\n"
        "(Gõ /quit để thoát.)\n"
    )
    chat()


# --- entry point ----------------------------------------------------------------------------


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    sys.exit(2)


def main() -> None:
    debug = "--debug" in sys.argv
    try:
        app()
    except (SettingsError, KnowledgeError) as exc:
        if debug:
            raise
        _fail(str(exc))
    except ValidationError as exc:
        if debug:
            raise
        err = exc.errors()[0]
        _fail(f"setting {'.'.join(map(str, err['loc'])).upper()}: {err['msg']}")
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        if debug:
            raise
        if exc.filename is None:  # no file named: the database's socket or file
            _fail(f"database unreachable or unusable ({type(exc).__name__}: {exc}); check DATABASE_URL")
        _fail(f"{exc.filename}: {exc.strerror.lower() if exc.strerror else type(exc).__name__}")
    except (OperationalError, DBAPIError, OSError) as exc:
        if debug:
            raise
        _fail(
            f"database unreachable or unusable ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
            "check DATABASE_URL"
        )


if __name__ == "__main__":
    main()
