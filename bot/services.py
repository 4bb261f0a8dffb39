"""The services every entry point needs: settings, knowledge base, matcher and database engine.

They are built once per process by the composition root (`cli/root.py`) and handed to the Telegram channel,
the staff API and every command; nothing else builds an engine or loads the knowledge base.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from bot.storage.db import make_engine
from knowledge.loader import KnowledgeBase, require_knowledge
from knowledge.matcher import Matcher
from knowledge.national import NationalIndex, load_national


@dataclass
class Services:
    settings: Settings
    kb: KnowledgeBase
    matcher: Matcher
    engine: AsyncEngine
    national: NationalIndex | None = None  # every procedure of the national catalogue, for pointer cards

    @property
    def secret(self) -> str:
        return self.settings.secret_key.get_secret_value()

    async def close(self) -> None:
        await self.engine.dispose()


def build_services(settings: Settings, *, engine: AsyncEngine | None = None) -> Services:
    """Load the knowledge base (a broken file stops here, naming it), index it, and create the engine.
    Creating the engine opens no connection: a command that never touches the database never needs one."""
    kb = require_knowledge(settings.knowledge_path, settings.province)
    national = load_national(province=settings.province)
    matcher = Matcher(kb.procedures, national=national)
    return Services(settings, kb, matcher, engine or make_engine(settings), national)


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Services for one piece of async work, their connections closed when it ends."""
    services = build_services(settings)
    try:
        yield services
    finally:
        await services.close()
