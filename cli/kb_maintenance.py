"""`tthc-bot kb stale`: the entries to review again, from their review dates and the register of legal changes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from bot.replies.dates import parse_date
from cli import root
from knowledge.loader import KnowledgeBase, require_knowledge, stale_entries

DEFAULT_DAYS = 180


def _day(text: str | None) -> dt.date:
    if text is None:
        return dt.datetime.now(root.settings().tz).date()
    day = parse_date(text)
    if day is None:
        raise typer.BadParameter(f"cannot read date {text!r}; use dd/mm/yyyy or yyyy-mm-dd", param_hint="--on")
    return day


def _pending(kb: KnowledgeBase, today: dt.date) -> list[str]:
    """Changes in force whose affected entries the register does not mark updated, whatever their review dates."""
    lines = []
    for change in sorted(kb.changes, key=lambda c: c.in_force):
        if change.in_force > today:
            continue
        waiting = [pid for pid in change.affects if pid not in change.updated]
        if waiting:
            lines.append(f"{change.number} (in force {change.in_force.isoformat()}): {', '.join(waiting)}")
    return lines


def _upcoming(kb: KnowledgeBase, today: dt.date) -> list[str]:
    lines = []
    for change in sorted(kb.changes, key=lambda c: c.in_force):
        if change.in_force > today:
            lines.append(f"{change.number} (from {change.in_force.isoformat()}): {', '.join(change.affects)}")
    return lines


def kb_stale(
    days: Annotated[
        int, typer.Option("--days", min=1, help="Review older than this many days is stale.")
    ] = DEFAULT_DAYS,
    on: Annotated[str | None, typer.Option("--on", help="Judge as of this date (default: today).")] = None,
) -> None:
    """Entries whose review is older than --days, or older than a change in force that affects them and that the
    register (knowledge/legal-changes.yaml) does not mark them updated for; then the register's open items."""
    today = _day(on)
    kb = require_knowledge(root.settings().knowledge_path)
    stale = stale_entries(kb, today=today, days=days)
    for entry in stale:
        typer.echo(f"{entry.procedure}: reviewed {entry.reviewed.isoformat()}")
        for reason in entry.reasons:
            typer.echo(f"  - {reason}")
    overlays = [
        (f"{slug}/{pid}", o.last_reviewed)
        for (slug, pid), o in sorted(kb.overlays.items())
        if (today - o.last_reviewed).days > days
    ]
    for name, reviewed in overlays:
        typer.echo(f"provinces/{name}: reviewed {reviewed.isoformat()}\n  - more than {days} days ago")
    if not stale and not overlays:
        typer.echo(f"no stale entry on {today.isoformat()} (reviews within {days} days, every change in force checked)")
    pending = _pending(kb, today)
    if pending:
        typer.echo("\nIn force, affected entries not yet marked updated in legal-changes.yaml:")
        for line in pending:
            typer.echo(f"  {line}")
    upcoming = _upcoming(kb, today)
    if upcoming:
        typer.echo("\nComing into force:")
        for line in upcoming:
            typer.echo(f"  {line}")
