"""`tthc-bot converse --json --batch FILE`: scripted conversations, one dialogue a line, one JSON object a turn.

Each dialogue runs in a chat of its own, on a fresh database (a temporary SQLite file migrated for the run, removed
after it), so no state of the real bot is read or written. `--now` pins the clock (local time, e.g.
2026-12-04T09:00) so that result dates can be compared from one run to the next.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.conversation.core import Conversation
from bot.conversation.script import play
from bot.services import build_services
from bot.storage.migrate import upgrade
from cli import root

FIRST_CHAT = 900_000_000  # chat ids of scripted dialogues: one per dialogue, far from real chats' ids


def _dialogues(path: Path) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("turns"), list):
            raise typer.BadParameter(f'{path}:{n}: expected {{"id": ..., "turns": [...]}}')
        out.append(item)
    return out


def _clock(now: str | None) -> Any:
    if now is None:
        return None
    tz = root.settings().tz
    try:
        pinned = dt.datetime.fromisoformat(now)
    except ValueError:
        raise typer.BadParameter(f"--now {now!r}: expected e.g. 2026-12-04T09:00") from None
    pinned = pinned if pinned.tzinfo else pinned.replace(tzinfo=tz)
    return lambda: pinned


def converse(
    batch: Annotated[Path, typer.Option("--batch", exists=True, dir_okay=False, help="One dialogue a line.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a turn (the only output).")] = False,
    now: Annotated[str | None, typer.Option("--now", help="Pin the clock, local time: 2026-12-04T09:00.")] = None,
) -> None:
    """Play scripted dialogues against the bot: {"id": ..., "turns": ["text", {"press": "label"}, ...]} a line."""
    dialogues, clock = _dialogues(batch), _clock(now)
    with tempfile.TemporaryDirectory(prefix="tthc-converse-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'converse.db'}"
        settings = root.settings().model_copy(update={"database_url": url, "data_dir": Path(tmp)})
        upgrade(settings, url=url)

        async def work() -> None:
            services = build_services(settings)
            conversation = Conversation(services, clock=clock)
            try:
                for n, d in enumerate(dialogues):
                    for rec in await play(conversation, FIRST_CHAT + n, str(d.get("id", n)), d["turns"]):
                        _print(rec, as_json)
            finally:
                await conversation.close()
                await services.close()

        asyncio.run(work())


def _print(rec: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
    else:
        about = " ".join(str(rec[k]) for k in ("intent", "procedure", "facet") if rec[k])
        sys.stdout.write(f"[{rec['id']} #{rec['turn']}] {about}\n{rec['text']}\n")
        sys.stdout.write("".join(f"  [{b}]\n" for b in rec["buttons"]) + "\n")
    sys.stdout.flush()
