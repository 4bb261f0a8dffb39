"""Running the bot: `tthc-bot run` (Telegram), `chat` (terminal), `start` (whichever fits), `qr`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cases.qr import write_qr
from bot.conversation.core import Conversation
from bot.services import Services
from bot.settings import SettingsError
from cli import root
from cli.chat import chat as terminal_chat
from knowledge.codes import find_code


def chat() -> None:
    """Talk to the bot in the terminal (the same answers as on Telegram)."""

    async def work(services: Services) -> None:
        conversation = Conversation(services)
        try:
            await terminal_chat(conversation)
        finally:
            await conversation.close()

    root.run(work)


def run(
    webhook: Annotated[bool, typer.Option("--webhook", help="Receive updates by webhook.")] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, max=32, help="Processes answering (default BOT_WORKERS, 1).")
    ] = None,
) -> None:
    """Run the Telegram bot (long polling by default)."""
    from handlers.run import run_bot  # PTB is imported only by the commands that run the bot

    run_bot(root.serving_services(), webhook=webhook, workers=workers)


def worker(fd: Annotated[int, typer.Option("--fd")]) -> None:
    """A worker of `run --workers N`, started by it: answers the updates read from file descriptor FD."""
    from handlers.workers import run_worker

    run_worker(root.serving_services(), fd)


def qr(
    code: str,
    out: Annotated[Path | None, typer.Option("--out", help="PNG file (default qr-<code>.png).")] = None,
) -> None:
    """Print the signed deep link for a case's appointment slip, and write it as a PNG QR code: scanning it opens
    the case in the bot without the phone digits, so print it on the citizen's slip only."""
    printed = find_code(code)
    if printed is None:
        typer.echo(f"not a receipt code: {code!r} (expected e.g. 000.00.15.H57-251120-0001)", err=True)
        raise typer.Exit(1)
    settings = root.settings()
    if settings.uses_dev_secret:  # anyone who reads the source could make the token of any case
        raise SettingsError("SECRET_KEY is not set: the QR code is signed with it; put a long random one in .env")
    path = out or Path(f"qr-{printed.replace('.', '').replace('-', '')}.png")
    link = write_qr(printed, settings.bot_username, settings.secret_key.get_secret_value(), path)
    typer.echo(link)
    typer.echo(f"QR code written to {path}; it opens the case without the phone digits: slip only", err=True)


def start() -> None:
    """The Telegram bot when TELEGRAM_BOT_TOKEN is set, otherwise the terminal chat."""
    if root.settings().telegram_bot_token:
        run(webhook=False)
        return
    typer.echo(
        "Chưa có TELEGRAM_BOT_TOKEN trong .env: mở trò chuyện trên terminal. "
        "Để chạy trên Telegram, đặt TELEGRAM_BOT_TOKEN trong .env rồi chạy lại `make run`.\n"
        "(Gõ /quit để thoát.)\n"
    )
    chat()
