"""The composition root: the one place that builds the settings and the core services.

Every command gets them from here and hands them down: to the Telegram application (`handlers/app.py`), to the
staff API (`api/app.py`) and to the core functions. Nothing below this package reads the environment, loads the
knowledge base or creates a database engine on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import Services, build_services, open_services
from bot.settings import Settings, SettingsError, get_settings
from bot.storage.db import make_engine, session_scope
from knowledge.loader import KnowledgeBase, require_knowledge

T = TypeVar("T")


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Read `.env` and the environment once per process."""
    return get_settings()


def knowledge() -> KnowledgeBase:
    """The knowledge base alone, for commands that need no matcher and no database."""
    return require_knowledge(settings().knowledge_path, settings().province)


def services() -> Services:
    """Everything a long-running process needs; it closes them itself."""
    return build_services(settings())


def serving_services() -> Services:
    """The services of a process that serves citizens or staff (the Telegram bot, the API).

    It refuses the development secret written in the source: that key signs every button and keys every phone
    HMAC, so anyone who reads the source could forge buttons and recover phone numbers from a copied database."""
    if settings().uses_dev_secret:
        raise SettingsError(
            "SECRET_KEY is not set: put a long random SECRET_KEY in .env (`make run` writes one the first time; "
            "or: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return services()


def run(work: Callable[[Services], Awaitable[T]]) -> T:
    """Run one command's async work with the services, closing the database connections afterwards."""

    async def go() -> T:
        async with open_services(settings()) as built:
            return await work(built)

    return asyncio.run(go())


def run_in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work(session)` in one transaction; for commands that need the database but not the knowledge base."""

    async def go() -> T:
        engine = make_engine(settings())
        try:
            async with session_scope(engine) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())
