"""`tthc-bot run`: the Telegram bot in one process, or a front with N workers (`handlers/workers.py`)."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import InvalidToken, NetworkError

from bot.privacy.logs import setup_logging
from bot.services import Services
from bot.settings import Settings
from handlers.app import build_application, freeze_startup_objects, use_uvloop
from handlers.workers import build_front

log = logging.getLogger(__name__)
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]  # all the bot handles


def run_bot(services: Services, *, webhook: bool = False, workers: int | None = None) -> None:
    """Problems an operator can fix end the process with one line naming the setting."""
    settings = services.settings
    setup_logging(settings.log_level)
    if not settings.telegram_bot_token:
        raise SystemExit(
            "error: TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather in .env "
            "(or use `tthc-bot chat` to try the bot in the terminal)"
        )
    if webhook and (not settings.webhook_url or not settings.webhook_secret):
        raise SystemExit("error: WEBHOOK_URL and WEBHOOK_SECRET must be set for --webhook")
    if settings.cluster:
        run_cluster(services, webhook=webhook)
        return
    use_uvloop()
    count = workers or settings.bot_workers
    app = build_application(services) if count == 1 else build_front(services, count)
    freeze_startup_objects()
    try:
        if not webhook:
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
            return
        assert settings.webhook_url and settings.webhook_secret  # checked above
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path="telegram",
            webhook_url=f"{settings.webhook_url.rstrip('/')}/telegram",
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
    except (InvalidToken, NetworkError) as exc:  # only at start-up: once running, PTB retries network errors itself
        asyncio.run(app.bot.close_transports())  # type: ignore[attr-defined]  # make_bot builds a LeanBot
        raise startup_error(exc, settings) from None


def startup_error(exc: InvalidToken | NetworkError, settings: Settings) -> SystemExit:
    """A start-up failure of the Bot API as one line naming the setting."""
    if isinstance(exc, InvalidToken):
        return SystemExit(
            f"error: TELEGRAM_BOT_TOKEN was refused by the Bot API at {settings.telegram_api_url}; "
            "check the token from @BotFather"
        )
    return SystemExit(
        f"error: cannot reach the Bot API at {settings.telegram_api_url} ({exc.message}); "
        "check TELEGRAM_API_URL and the network"
    )


def run_cluster(services: Services, *, webhook: bool) -> None:
    """CLUSTER=true: one instance of several (handlers/cluster.py); webhook mode on PostgreSQL only."""
    settings = services.settings
    if not webhook:
        raise SystemExit("error: CLUSTER=true receives updates by webhook only; run `tthc-bot run --webhook`")
    if services.engine.dialect.name != "postgresql":
        raise SystemExit("error: CLUSTER=true needs PostgreSQL; set DATABASE_URL=postgresql+psycopg://user@host/db")
    from handlers.cluster_web import serve  # imports handlers.run: only now, when a cluster instance starts

    use_uvloop()
    freeze_startup_objects()
    try:
        asyncio.run(serve(services))
    except (InvalidToken, NetworkError) as exc:
        raise startup_error(exc, settings) from None
