"""The services every entry point needs, built once: settings, knowledge base, matcher, database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from bot.storage.db import make_engine
from knowledge.loader import KnowledgeBase, require_knowledge
from knowledge.matcher import Matcher


@dataclass
class Services:
    settings: Settings
    kb: KnowledgeBase
    matcher: Matcher
    engine: AsyncEngine

    @property
    def secret(self) -> str:
        return self.settings.secret_key.get_secret_value()

    async def close(self) -> None:
        await self.engine.dispose()


def build_services(settings: Settings, *, engine: AsyncEngine | None = None) -> Services:
    kb = require_knowledge(settings.knowledge_path)
    return Services(settings, kb, Matcher(kb.procedures), engine or make_engine(settings))
