"""What the benchmarks share: where the database lives, settings as the tests make them,
percentiles, resident memory, one CPU, and the plain-line / JSON report.

Not a benchmark itself. The scripts run from the repository root as `python bench/NAME.py`
(or `python -m bench.NAME`); both put the root on `sys.path` before importing this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import statistics
import tempfile
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import SecretStr
from sqlalchemy.engine import URL

from bot.offline import OFFLINE_TOKEN
from bot.settings import Settings
from storage.db import normalize_url

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


# --- settings, as tests/conftest.py's make_settings makes them -----------------------------------


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """The bot's settings for a benchmark: offline token, no sweep job, no `.env`."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(OFFLINE_TOKEN),
        database_url=database_url,
        log_level="WARNING",
        **{"sweep_interval": 0, **overrides},
    )


# --- the database: a SQLite file in a temporary directory, or a throwaway PostgreSQL database ----


def backend() -> str:
    """ "postgresql" when DATABASE_URL names a PostgreSQL server, else "sqlite"."""
    return "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


def admin_url() -> URL:
    return normalize_url(os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES)


def asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def bench_database(tag: str, directory: Path | None = None) -> AsyncIterator[str]:
    """A fresh, empty database for one measurement, removed afterwards; yields its URL.

    SQLite: `<tmp>/<tag>.sqlite3`. PostgreSQL (DATABASE_URL=postgresql://...): a database
    `recert_bench_<pid>_<tag>` created on that server through the URL's own database, and
    dropped at the end (its connections are closed first)."""
    if backend() == "sqlite":
        if directory is not None:
            yield f"sqlite:///{directory / (tag + '.sqlite3')}"
            return
        with tempfile.TemporaryDirectory(prefix="recert-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / (tag + '.sqlite3')}"
        return
    admin = admin_url()
    name = f"recert_bench_{os.getpid()}_{tag}".lower()

    async def execute(statement: str) -> None:
        # A connection for each statement: one held through a long measurement can be closed
        # under it (a server restart, another run's clean-up), and the database would be left.
        connection = await asyncpg.connect(asyncpg_dsn(admin), timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    await execute(f'DROP DATABASE IF EXISTS "{name}"')
    await execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        await execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def shown(url: str) -> str:
    """A URL fit for printing (no password)."""
    return normalize_url(url).render_as_string(hide_password=True)


# --- figures -------------------------------------------------------------------------------------


def percentiles_ms(samples: list[float]) -> tuple[float, float, float]:
    """Mean, p50 and p99 of durations in seconds, in milliseconds."""
    ms = [s * 1000 for s in samples]
    if len(ms) < 2:
        return (ms[0], ms[0], ms[0]) if ms else (0.0, 0.0, 0.0)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return statistics.fmean(ms), cuts[49], cuts[98]


def rss_mb() -> float:
    """This process's resident memory now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: the peak is the best there is

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pin_to_one_cpu() -> str:
    """Run on one CPU, as the goals are stated ("on one core"); the database thread shares it."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("python-telegram-bot", "sqlalchemy", "sqlmodel", "asyncpg"):
        found[package] = version(package)
    return found


def header(what: str) -> str:
    found = versions()
    return f"# {what}; {backend()}; {os.cpu_count()} CPUs; " + ", ".join(
        f"{k} {v}" for k, v in found.items()
    )


def goal_mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


class Report:
    """Plain lines as they come, and everything again as one JSON line with --json."""

    def __init__(self, name: str) -> None:
        self.data: dict[str, Any] = {"bench": name, "backend": backend(), "versions": versions()}

    def line(self, text: str) -> None:
        print(text, flush=True)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value

    def dump(self, enabled: bool) -> None:
        if enabled:
            print(json.dumps(self.data, default=str), flush=True)


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """The bot logs each sweep at INFO; benchmarks print their own lines."""
    import logging

    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)
