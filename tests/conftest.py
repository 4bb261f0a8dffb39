"""Shared fixtures: real databases (SQLite file and a throw-away PostgreSQL database), the
knowledge base and the matcher, built once per run."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import bot.storage.models  # noqa: F401
from bot.settings import Settings
from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from knowledge.loader import KnowledgeBase, require_knowledge
from knowledge.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "knowledge" / "catalog.yaml"  # the procedures the knowledge base must cover
TEST_SECRET = "test-secret-for-the-suite-only-0123456789"  # not the development secret, which serving refuses
PG_ADMIN_URL = os.environ.get("DATABASE_TEST_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", default="sqlite,postgres", help="Backends to test: sqlite, postgres or both.")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = [b.strip() for b in metafunc.config.getoption("--db").split(",") if b.strip()]
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return require_knowledge(ROOT / "knowledge" / "procedures")


@pytest.fixture(scope="session")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb.procedures)


def _pg_conninfo(url: str) -> str:
    u = make_url(url)
    return (
        f"host={u.host or '127.0.0.1'} port={u.port or 5432} "
        f"user={u.username or 'postgres'} dbname={u.database or 'postgres'}"
    )


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of the given backend for this test run, dropped afterwards."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(Settings(), url=url)
        yield url
        return
    if backend != "postgres":
        raise pytest.UsageError(f"unknown backend {backend!r}")
    name = f"tthc_test_{uuid.uuid4().hex[:10]}"

    def admin(sql: str) -> None:  # a fresh connection each time: the server may be restarted by a test
        try:
            with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql)
        except psycopg.OperationalError as exc:
            pytest.fail(
                f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc}); start it or run with --db=sqlite",
                pytrace=False,
            )

    admin(f'CREATE DATABASE "{name}"')
    url = (
        make_url(PG_ADMIN_URL).set(database=name, drivername="postgresql+psycopg").render_as_string(hide_password=False)
    )
    try:
        upgrade(Settings(), url=url)
        yield url
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]  # pydantic-settings accepts _env_file; mypy sees only the fields
        database_url=database_url, data_dir=tmp_path, secret_key=TEST_SECRET, _env_file=None
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator:
    """An engine on an emptied database: every test starts from no rows."""
    eng = make_engine(settings)
    async with eng.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await conn.execute(text(f'DELETE FROM "{table.name}"'))
    yield eng
    await eng.dispose()
