"""Alembic, configured in code (no alembic.ini): `python -m bot migrate`, and at start-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import create_engine

from storage.db import normalize_url

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: replicas starting together take turns at migrating (PostgreSQL).
_MIGRATION_LOCK = 7_356_001


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade_on(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`. Blocking: call before the loop or via a thread."""
    parsed = normalize_url(url)
    if parsed.get_dialect().is_async:

        async def run() -> None:
            engine = create_async_engine(parsed, poolclass=NullPool)
            try:
                async with engine.begin() as connection:
                    await connection.run_sync(_upgrade_on, revision)
            finally:
                await engine.dispose()

        asyncio.run(run())
        return
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            _upgrade_on(connection, revision)
    finally:
        engine.dispose()


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)
