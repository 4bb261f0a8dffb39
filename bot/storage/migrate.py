"""Schema migrations (Alembic), run from the CLI and from tests with the same code."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.settings import Settings
from bot.storage.db import database_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Settings, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or database_url(settings)).replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings, url), revision)
