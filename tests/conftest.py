"""Fixtures: databases (SQLite and PostgreSQL) and a running bot on the offline Bot API."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from telegram import Update

from bot.app import build_application, shutdown, startup
from bot.i18n import I18n
from bot.offline import OFFLINE_TOKEN, OfflineBotAPI, Person
from bot.settings import Settings
from storage.catalog import Catalog
from storage.db import Database

POSTGRES_URL = os.environ.get(
    "RECERT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]
# CI must run every PostgreSQL test: there an unreachable server fails them instead of
# skipping them (.ci/run sets CI=true).
REQUIRE_POSTGRES = os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get(
    "RECERT_REQUIRE_POSTGRES", ""
).lower() in ("1", "true", "yes")


POSTGRES_SKIP = "PostgreSQL variant skipped"


@functools.cache
def _postgres_unreachable() -> str | None:
    """Why the test server cannot be used (asked once per run), or None when it answers."""
    url = make_url(POSTGRES_URL)
    host, port = url.host or "127.0.0.1", url.port or 5432
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as error:
        return f"PostgreSQL is not reachable at {host}:{port} ({error.strerror or error})"
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line, however many PostgreSQL variants were skipped, saying how to run them."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if POSTGRES_SKIP in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} PostgreSQL variants skipped: {_postgres_unreachable()}. Start it "
            "(or set RECERT_TEST_POSTGRES_URL) to run them; with CI=true they fail instead."
        )


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return I18n.load()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that takes this runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'recert.db'}"
    else:
        yield from _postgres()


def _postgres() -> Iterator[str]:
    """An empty schema per test: each test migrates from nothing, as a new install does."""
    reason = _postgres_unreachable()
    if reason is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(
                f"{reason}, and CI=true (or RECERT_REQUIRE_POSTGRES=1) requires every "
                "PostgreSQL test",
                pytrace=False,
            )
        pytest.skip(f"{POSTGRES_SKIP}: {reason}")

    async def reset() -> None:
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
        finally:
            await connection.close()

    asyncio.run(reset())
    yield POSTGRES_URL


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """PostgreSQL only, for what only a server can show (several copies of the bot)."""
    yield from _postgres()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'recert.db'}"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(OFFLINE_TOKEN),
        database_url=database_url,
        # The limiter paces sends in real time; tests/test_rate_limits.py tests it on its own.
        **{"sweep_interval": 0, "rate_limit": False, **overrides},
    )


@dataclass
class Bot:
    """A running Recert on the offline Bot API: the API, the Application and its database."""

    api: OfflineBotAPI
    application: Any
    people: list[Person] = field(default_factory=list)
    # Tests that provoke the error handler say how many errors they expect.
    expected_errors: int = 0

    @property
    def catalog(self) -> Catalog:
        return self.application.bot_data["catalog"]  # type: ignore[no-any-return]

    @property
    def db(self) -> Database:
        return self.application.bot_data["db"]  # type: ignore[no-any-return]

    def person(
        self,
        first_name: str = "Ana",
        language_code: str | None = "en",
        user_id: int | None = None,
        **kwargs: Any,
    ) -> Person:
        person = Person(
            self.api, user_id or 100 + len(self.people), first_name, language_code, **kwargs
        )
        self.people.append(person)
        return person


async def start_bot(settings: Settings, i18n: I18n, api: OfflineBotAPI, **kwargs: Any) -> Any:
    application = build_application(settings, request=api, i18n=i18n, **kwargs)
    api.deliver_to(
        lambda payload: application.process_update(Update.de_json(payload, application.bot))
    )
    await startup(application)
    return application


async def stop_bot(application: Any) -> None:
    await shutdown(application)


@pytest.fixture
async def bot(
    database_url: str, i18n: I18n, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Bot]:
    """The bot, running, on each backend. A test fails if the error handler had to act."""
    api = OfflineBotAPI()
    application = await start_bot(make_settings(database_url), i18n, api)
    running = Bot(api, application)
    try:
        yield running
    finally:
        await stop_bot(application)
    records = caplog.get_records("setup") + caplog.get_records("call") + caplog.records
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    assert len(errors) == running.expected_errors, f"the bot logged errors: {errors}"
