"""The one way to reach the database: `await db.run(unit_of_work)`.

A unit of work is a plain function of a SQLModel `Session`; it runs in one hop away from the
event loop and is committed when it returns. On SQLite (the default) that hop is a dedicated
thread with a synchronous session: measured at several times the throughput of aiosqlite,
whose every statement pays a thread hop of its own (`bench/storage_layers.py`). On
PostgreSQL the same function runs through asyncpg with `AsyncSession.run_sync`, truly
asynchronous. Either way the caller's code is the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine
from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")
logger = logging.getLogger(__name__)
# Pauses before running a unit of work again after the server dropped its connection.
RECONNECT_PAUSES = (0.05, 0.5, 2.0)
Item = TypeVar("Item")
UnitOfWork = Callable[[Session], T]


def normalize_url(url: str) -> URL:
    """`postgresql://` means asyncpg; `sqlite:///` stays on the synchronous driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while a write commits; NORMAL sync is durable at checkpoints,
    # the usual setting for WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """An engine and the policy for running units of work on it."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.dialect = self.url.get_backend_name()
        self.statements = 0  # statements executed, for benchmarks and tests of round trips
        self.round_trips = 0  # units of work run
        self._executor: ThreadPoolExecutor | None = None
        self.async_engine: AsyncEngine | None = None
        self.sync_engine: Engine
        if self.url.get_dialect().is_async:
            # No pre-ping: it cost a round trip per unit of work. A connection the server
            # dropped fails its first statement instead, and `_retried` runs the unit of work
            # again on a new one (nothing of it was committed).
            self.async_engine = create_async_engine(self.url, echo=echo, hide_parameters=True)
            # Reads are one statement each, one snapshot by itself: without a transaction they
            # are one round trip (no BEGIN before, no ROLLBACK after). Same pool.
            self._read_engine = self.async_engine.execution_options(isolation_level="AUTOCOMMIT")
            self.sync_engine = self.async_engine.sync_engine
        else:
            memory = self.dialect == "sqlite" and self.url.database in (None, "", ":memory:")
            self.sync_engine = create_engine(
                self.url,
                echo=echo,
                # Errors quote statements; their parameters (credential numbers) stay out of logs.
                hide_parameters=True,
                connect_args={"check_same_thread": False} if self.dialect == "sqlite" else {},
                poolclass=StaticPool if memory else None,
            )
            # One thread: SQLite takes one writer at a time anyway, and a single thread keeps
            # "database is locked" out of this process.
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recert-db")
        if self.dialect == "sqlite":
            event.listen(self.sync_engine, "connect", sqlite_pragmas)
        event.listen(self.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    def _run_in_session(self, work: UnitOfWork[T]) -> T:
        with Session(self.sync_engine, expire_on_commit=False) as session:
            result = work(session)
            session.commit()
            return result

    def _read_on_connection(self, work: Callable[[Connection], T]) -> T:
        with self.sync_engine.connect() as connection:
            return work(connection)

    async def run(self, work: UnitOfWork[T]) -> T:
        """Run `work(session)` in one hop off the event loop and commit it."""
        self.round_trips += 1
        if self.async_engine is not None:

            async def attempt() -> T:
                async with AsyncSession(self.async_engine, expire_on_commit=False) as session:
                    # SQLModel's AsyncSession runs `work` on its own Session, which
                    # SQLAlchemy's inherited signature types as the base class.
                    result: T = await session.run_sync(work)  # type: ignore[arg-type]
                    await session.commit()
                    return result

            return await self._retried(attempt)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(self._run_in_session, work)
        )

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work(connection)`, a read, in one hop off the event loop: SQLAlchemy Core on a
        plain connection (statements built once, plain rows), no ORM session and no commit.
        For the hot reads (`/status`, the trainer load), where the ORM's unit of work cost
        more than the queries themselves. On PostgreSQL it runs outside a transaction (one
        round trip): `work` must be one statement, or reads that need no common snapshot."""
        self.round_trips += 1
        if self.async_engine is not None:
            engine = self._read_engine

            async def attempt() -> T:
                async with engine.connect() as connection:
                    return await connection.run_sync(work)

            return await self._retried(attempt)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(self._read_on_connection, work)
        )

    async def _retried(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """PostgreSQL: `attempt()` again on a new connection when the server dropped one."""
        for number, pause in enumerate((*RECONNECT_PAUSES, None)):
            try:
                return await attempt()
            except DBAPIError as error:
                # The server dropped the connection (a restart, a fail-over, an operator's
                # pg_terminate_backend): the transaction was rolled back with it, so the
                # unit of work runs again on a new connection. Anything else is raised.
                if not error.connection_invalidated or pause is None:
                    raise
                logger.warning(
                    "database connection lost (%s); retrying (%d)",
                    type(error.orig).__name__,
                    number + 1,
                )
                await asyncio.sleep(pause)
        raise AssertionError("unreachable: the last attempt raises")

    @contextlib.asynccontextmanager
    async def person_lock(self, person_id: int) -> AsyncIterator[None]:
        """Replicas: one person's updates handled one after another across every copy of the
        bot, so two at once (a double tap reaching two replicas) cannot both start from the
        same conversation state and lose one. A PostgreSQL advisory lock on a connection of
        its own, held while the update is handled; a no-op elsewhere (SQLite is one process).
        """
        if self.async_engine is None or self.dialect != "postgresql":
            yield
            return
        async with self.async_engine.connect() as connection:
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": person_id})
            try:
                yield
            finally:
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": person_id}
                )

    async def ping(self) -> None:
        """One trivial statement: raises when the database cannot be reached (health checks)."""
        await self.run(lambda session: session.exec(text("SELECT 1")).one())  # type: ignore[call-overload]

    async def dispose(self) -> None:
        if self.async_engine is not None:
            await self.async_engine.dispose()
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self.sync_engine.dispose)
        if self._executor is not None:
            self._executor.shutdown(wait=True)


class Batched(Generic[Item]):
    """Writes items as they come, in one unit of work for all that arrive while the previous
    write is under way: one round trip for many, and no item waits longer than the write
    before its own. `add` returns once its item is committed (or raises what the write did)."""

    def __init__(
        self, db: Database, write: Callable[[Session, list[Item]], None], most: int = 200
    ) -> None:
        # At most `most` items a write: a huge one would hold SQLite's one thread from the
        # updates waiting behind it.
        self._db, self._write, self._most = db, write, most
        self._pending: list[tuple[Item, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, item: Item) -> None:
        written = asyncio.get_running_loop().create_future()
        self._pending.append((item, written))
        if self._writer is None:
            self._writer = asyncio.ensure_future(self._write_all())
        await written

    def _unit(self, items: list[Item]) -> UnitOfWork[None]:
        return lambda session: self._write(session, items)

    async def _write_all(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._most]
                del self._pending[: self._most]
                items = [item for item, _future in batch]
                try:
                    await self._db.run(self._unit(items))
                except Exception as error:
                    for _item, future in batch:
                        if not future.done():
                            future.set_exception(error)
                else:
                    for _item, future in batch:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._writer = None
