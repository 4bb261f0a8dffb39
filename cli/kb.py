"""`tthc-bot kb …` and `tthc-bot ask`: the knowledge base and how the bot understands a question."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

from bot.insights import gaps
from bot.replies.cards import full_card, to_plain
from bot.replies.dates import parse_date
from bot.services import Services
from cli import root
from knowledge.loader import KnowledgeBase, load_knowledge, require_knowledge
from knowledge.matcher import Understanding

kb_app = typer.Typer(help="Knowledge base: validate, export, show, stale, gaps.", no_args_is_help=True)
CATALOG = Path(__file__).resolve().parent.parent / "knowledge" / "catalog.yaml"


ProvinceOption = Annotated[
    str | None,
    typer.Option(
        "--province",
        help="A province slug (knowledge/provinces/provinces.yaml): the entries merged with its overlays. "
        "Default: the PROVINCE setting; --national for the national entries.",
    ),
]
NationalOption = Annotated[bool, typer.Option("--national", help="The national entries, whatever PROVINCE says.")]


def _province(province: str | None, national: bool) -> str | None:
    if national:
        return None
    return province if province is not None else root.settings().province


def _knowledge(province: str | None) -> KnowledgeBase:
    kb = require_knowledge(root.settings().knowledge_path, province)
    return kb


@kb_app.command("validate")
def kb_validate(
    catalog: Annotated[
        Path, typer.Option(help="The list of procedures the knowledge base must cover (one `slug` per entry).")
    ] = CATALOG,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on warnings too (entries without their second review).")
    ] = False,
) -> None:
    """Check every procedure file, base amount, province overlay and the register of legal changes, and the coverage
    of the catalog; print problems as `file: field: message` (exit 1), warnings as `WARNING: file: field: message`."""
    folder = root.settings().knowledge_path
    kb = load_knowledge(folder)
    problems = [str(p) for p in kb.problems]
    slugs = {row["slug"] for row in yaml.safe_load(catalog.read_text(encoding="utf-8"))}
    have = {p.id for p in kb.procedures}
    problems += [f"{catalog}: slug: {s} has no procedure file" for s in sorted(slugs - have)]
    problems += [f"{catalog}: slug: {s} is not in the catalog" for s in sorted(have - slugs)]
    for line in problems:
        typer.echo(line)
    for warning in kb.warnings:
        typer.echo(f"WARNING: {warning}")
    failed = len(problems) + (len(kb.warnings) if strict else 0)
    if failed:
        what = f"{len(problems)} problem(s)" + (f", {len(kb.warnings)} warning(s) (--strict)" if strict else "")
        typer.echo(f"{what} in {folder}", err=True)
        raise typer.Exit(1)
    overlays = f", {len(kb.overlays)} province overlays" if kb.overlays else ""
    warned = f"; {len(kb.warnings)} warning(s)" if kb.warnings else ""
    typer.echo(f"OK: {len(kb.procedures)} procedures{overlays} in {folder}{warned}")


@kb_app.command("export")
def kb_export(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output (the only format).")] = True,
    province: ProvinceOption = None,
    national: NationalOption = False,
) -> None:
    """The whole knowledge base as one JSON document {"procedures": [...], "bases": {...}, "province": ...}."""
    slug = _province(province, national)
    kb = _knowledge(slug)
    data = {
        "province": slug,
        "procedures": [p.model_dump(mode="json", exclude_none=False) for p in kb.procedures],
        "bases": {key: base.model_dump(mode="json") for key, base in kb.bases.items()},
    }
    typer.echo(json.dumps(data, ensure_ascii=False, indent=1))


@kb_app.command("show")
def kb_show(procedure_id: str, province: ProvinceOption = None, national: NationalOption = False) -> None:
    """A procedure as a citizen reads it in the bot (merged with the province's overlay when there is one)."""
    proc = _knowledge(_province(province, national)).get(procedure_id)
    if proc is None:
        typer.echo(f"unknown procedure id {procedure_id!r}; see `tthc-bot kb export`", err=True)
        raise typer.Exit(1)
    typer.echo(to_plain(full_card(proc)))


@kb_app.command("gaps")
def kb_gaps(
    since: Annotated[str | None, typer.Option(help="Only questions from this date (dd/mm/yyyy or yyyy-mm-dd).")] = None,
    limit: int = 20,
) -> None:
    """The most frequent questions the bot could not answer, with counts."""
    tz = root.settings().tz
    start = None
    if since:
        day = parse_date(since)
        if day is None:
            raise typer.BadParameter(f"--since: cannot read date {since!r}; use dd/mm/yyyy")
        start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    rows = root.run_in_session(lambda session: gaps.top_gaps(session, since=start, limit=limit))
    if not rows:
        typer.echo("no unanswered questions recorded")
    for g in rows:
        typer.echo(f"{g.count:5d}  {g.intent:12s}  {g.last_seen.astimezone(tz):%d/%m/%Y}  {g.text}")


def ask(
    question: Annotated[str | None, typer.Argument(help="The question, in any spelling.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per question.")] = False,
    batch: Annotated[Path | None, typer.Option(help="File with one question per line.")] = None,
    record: Annotated[bool, typer.Option(help="Record unanswered questions as knowledge-base gaps.")] = True,
) -> None:
    """Understand a question as the bot would: intent, facet, best procedures."""
    if batch is None and question is None:
        raise typer.BadParameter("give a question or --batch FILE")
    lines = batch.read_text(encoding="utf-8-sig").splitlines() if batch else [question or ""]

    async def work(services: Services) -> None:
        results = [services.matcher.understand(line) for line in lines]
        for q, u in zip(lines, results, strict=True):
            if as_json:
                typer.echo(json.dumps(u.to_dict() | {"query": q}, ensure_ascii=False))
            else:
                best = ", ".join(f"{m.id} ({m.score:.2f})" for m in u.matches[:3]) or "-"
                typer.echo(f"{u.intent} | facet={u.facet} | confident={u.confident} | {best}")
        if record:
            await _record_gaps(services, results)

    root.run(work)


async def _record_gaps(services: Services, results: list[Understanding]) -> None:
    """Questions `ask` could not answer count as gaps too; a database that is not set up only costs a warning."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from bot.storage.db import session_scope

    try:
        async with session_scope(services.engine) as session:
            for u in results:
                await gaps.record(session, u, source="ask")
    except (OperationalError, DBAPIError) as exc:
        typer.echo(f"warning: gaps not recorded ({type(exc).__name__}); run `tthc-bot db upgrade`", err=True)
