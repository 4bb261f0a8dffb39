"""Database engine and sessions.

The bot runs on asyncio, so all database work goes through SQLAlchemy's async engine
(aiosqlite for the embedded SQLite default, psycopg 3 in async mode for PostgreSQL):
a slow query never blocks the event loop. Sessions are opened at the edge
(`async with session_scope(engine) as session`) and passed into services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings, SettingsError

# What a lost or refused database connection raises (driver errors wrapped by SQLAlchemy, socket errors).
DB_ERRORS = (OperationalError, DBAPIError, OSError, ConnectionError, TimeoutError)

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def database_url(settings: Settings) -> str:
    """The async URL to use; SQLite under `data_dir` when DATABASE_URL is unset."""
    if not settings.database_url:
        path = Path(settings.data_dir) / "tthc.db"
        return f"sqlite+aiosqlite:///{path}"
    try:
        url = make_url(settings.database_url)
    except ArgumentError as exc:
        raise SettingsError(f"DATABASE_URL: cannot parse it ({exc})") from None
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise SettingsError(
            f"DATABASE_URL: unsupported scheme {url.drivername!r}; use sqlite:///path or postgresql+psycopg://user@host/db"
        )
    return url.set(drivername=driver).render_as_string(hide_password=False)


def make_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    url = url or database_url(settings)
    if url.startswith("sqlite"):
        db_path = make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def session_scope(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with make_sessionmaker(engine)() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
