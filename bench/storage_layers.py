"""How fast each way of reaching the database is, seen from the asyncio event loop.

Why: the perf notes (`/work/shared/reference/perf-notes.md`) found that on SQLite the cost of a
bot update is the number of thread hops and async layers per database round trip, not the SQL.
`storage.db.Database` therefore runs each unit of work (a plain function of a sync `Session`)
in one hop on a dedicated thread for `sqlite:///`, and through `AsyncSession.run_sync` for async
drivers (aiosqlite, asyncpg). This script measures that choice against the alternatives, on the
same SQLite file seeded with 2,000 trainers, so the strategy rests on figures, not on belief.

What it measures (printed, never asserted; figures vary 10-20 % from run to run):

1. `Database("sqlite:///...")`: sync session, one thread hop per unit of work ("sync-offloop").
2. `Database("sqlite+aiosqlite:///...")`: `AsyncSession.run_sync` over aiosqlite, where every
   statement pays a hop of its own ("aiosqlite-run_sync").
3. A plain SQLModel `AsyncSession` on aiosqlite opened per unit of work, reading with
   `await session.get(Trainer, id)` ("naive-async-session"): the design the notes measured first.
   Its engine is a plain `create_async_engine`, without `Database`'s pool pre-ping.
4. The same sync unit of work called directly on the event loop ("sync-on-loop"): a reference
   ceiling only, since it blocks the loop for the whole unit of work.
5. `Database(postgresql URL)` (asyncpg, `run_sync`) when a server answers, in a throwaway
   database created for the run and dropped at the end.

Workloads: "read" is one `trainers.get`; "read3" is one unit of work doing three gets; "write" is
`trainers.update(..., reminder_hour=...)` and its commit. Each line gives units of work per second
(sequential, one at a time) and the latency of each unit of work: mean, p50 and p99 in ms.
"read x50" runs the same number of reads as 50 coroutines at once through `asyncio.gather`:
throughput shows whether the strategy overlaps work while the loop stays free; latency there
includes queueing. "loop lag" runs a 1 ms ticker coroutine while writes run back to back (the
writer yields once between units of work, as separate updates would) and reports how late the
ticker woke up (max, p99) and how many ticks a second it managed: the loop's responsiveness,
which (4) gives away. The lag runs do n / 2 writes each.

Run from the repository root: `python bench/storage_layers.py [--n 2000] [--postgres URL]
[--json]`. PostgreSQL comes from `--postgres`, else `DATABASE_URL` if it is a PostgreSQL URL, else
postgresql://postgres@127.0.0.1:5432/test is tried; the URL's database is only used to run
CREATE DATABASE / DROP DATABASE for a fresh `recert_bench_<pid>`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from time import perf_counter
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import trainers
from storage.db import Database, UnitOfWork, normalize_url, sqlite_pragmas
from storage.migrate import upgrade_async
from storage.models import Trainer

ROWS = 2_000
CONCURRENCY = 50
WARM_UP = 50
TICK = 0.001  # seconds the lag ticker sleeps
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
BLOCKS = "sync-on-loop (blocks the loop)"

Op = Callable[[int], Awaitable[object]]  # the i-th unit of work, awaited
MakeWork = Callable[[int], UnitOfWork[object]]


# --- workloads: the i-th unit of work of each kind --------------------------------------------


def user_id(i: int) -> int:
    """Spread successive operations over the table (7919 is prime, so all rows get visited)."""
    return 1 + (i * 7919) % ROWS


def _read3(session: Session, user_ids: tuple[int, int, int]) -> list[Trainer | None]:
    return [trainers.get(session, uid) for uid in user_ids]


def read_work(i: int) -> UnitOfWork[object]:
    return functools.partial(trainers.get, user_id=user_id(i))


def read3_work(i: int) -> UnitOfWork[object]:
    return functools.partial(_read3, user_ids=(user_id(i), user_id(i + 1), user_id(i + 2)))


def write_work(i: int) -> UnitOfWork[object]:
    return functools.partial(trainers.update, user_id=user_id(i), reminder_hour=i % 24)


WORKLOADS: dict[str, MakeWork] = {"read": read_work, "read3": read3_work, "write": write_work}


def seed(session: Session) -> None:
    session.add_all(
        Trainer(id=uid, name=f"Trainer {uid}", language=("en", "es", "ru")[uid % 3])
        for uid in range(1, ROWS + 1)
    )


# --- the ways of running a unit of work ---------------------------------------------------------


def via_database(db: Database, make: MakeWork) -> Op:
    async def op(i: int) -> object:
        return await db.run(make(i))

    return op


def on_the_loop(db: Database, make: MakeWork) -> Op:
    """What `Database._run_in_session` does, but called right here: the loop waits for it."""

    async def op(i: int) -> object:
        with Session(db.sync_engine, expire_on_commit=False) as session:
            result = make(i)(session)
            session.commit()
            return result

    return op


def naive_async(engine: AsyncEngine, reads: int) -> Op:
    """An `AsyncSession` per unit of work, each statement awaited on its own."""

    async def op(i: int) -> object:
        async with AsyncSession(engine) as session:
            return [await session.get(Trainer, user_id(i + k)) for k in range(reads)]

    return op


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    strategy: str
    workload: str
    ops: int
    seconds: float
    ops_per_s: float
    mean_ms: float
    p50_ms: float
    p99_ms: float

    def line(self) -> str:
        return (
            f"{self.backend} {self.strategy} {self.workload}: {self.ops_per_s:.0f} ops/s  "
            f"mean {self.mean_ms:.2f} ms  p50 {self.p50_ms:.2f}  p99 {self.p99_ms:.2f}"
        )


@dataclass
class Lag:
    backend: str
    strategy: str
    ticks: int
    seconds: float
    max_ms: float
    p99_ms: float

    def line(self) -> str:
        return (
            f"loop lag {self.backend} {self.strategy}: max {self.max_ms:.2f} ms  "
            f"p99 {self.p99_ms:.2f} ms  ({self.ticks / self.seconds:.0f} ticks/s of "
            f"{TICK * 1000:.0f} ms sleeps)"
        )


def percentiles_ms(samples: list[float]) -> tuple[float, float, float]:
    """Mean, p50 and p99 of durations in seconds, in milliseconds."""
    ms = [s * 1000 for s in samples]
    if len(ms) < 2:
        return (ms[0], ms[0], ms[0]) if ms else (0.0, 0.0, 0.0)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return statistics.fmean(ms), cuts[49], cuts[98]


async def timed(op: Op, i: int, latencies: list[float]) -> None:
    start = perf_counter()
    await op(i)
    latencies.append(perf_counter() - start)


async def measure(
    backend: str, strategy: str, workload: str, op: Op, n: int, concurrency: int = 1
) -> Result:
    for i in range(min(WARM_UP, n)):  # connections opened, statements compiled
        await op(n + i)
    latencies: list[float] = []

    async def worker(first: int) -> None:
        for i in range(first, n, concurrency):
            await timed(op, i, latencies)

    start = perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    seconds = perf_counter() - start
    mean, p50, p99 = percentiles_ms(latencies)
    result = Result(backend, strategy, workload, n, seconds, n / seconds, mean, p50, p99)
    print(result.line(), flush=True)
    return result


async def loop_lag(backend: str, strategy: str, op: Op, n: int) -> Lag:
    """How late a 1 ms ticker wakes up while `op` runs `n` times back to back."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            start = perf_counter()
            await asyncio.sleep(TICK)
            lags.append(max(0.0, perf_counter() - start - TICK))

    start = perf_counter()
    task = asyncio.create_task(ticker())
    await asyncio.sleep(TICK * 5)
    for i in range(n):
        await op(i)
        await asyncio.sleep(0)  # separate updates: the loop gets a turn between them
    done.set()
    await task
    seconds = perf_counter() - start
    _, _, p99 = percentiles_ms(lags)
    lag = Lag(backend, strategy, len(lags), seconds, max(lags, default=0.0) * 1000, p99)
    print(lag.line(), flush=True)
    return lag


def lag_runs(n: int) -> int:
    """Writes per loop-lag run: half the count, which is plenty for a maximum and saves time."""
    return max(1, n // 2)


async def idle_lag(seconds: float = 0.3) -> Lag:
    async def nothing(_i: int) -> None:
        await asyncio.sleep(TICK)

    return await loop_lag("-", "idle loop (baseline)", nothing, int(seconds / TICK))


# --- the suites ---------------------------------------------------------------------------------


async def sqlite_suite(path: Path, n: int) -> tuple[list[Result], list[Lag]]:
    url = f"sqlite:///{path}"
    await upgrade_async(url)
    sync_db = Database(url)
    aio_db = Database(f"sqlite+aiosqlite:///{path}")
    # The naive design: a plain async engine, the same pragmas as `Database` (WAL and all).
    naive_engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    event.listen(naive_engine.sync_engine, "connect", sqlite_pragmas)
    results: list[Result] = []
    lags: list[Lag] = []
    try:
        await sync_db.run(seed)
        for strategy, db in (("sync-offloop", sync_db), ("aiosqlite-run_sync", aio_db)):
            for workload, make in WORKLOADS.items():
                results.append(
                    await measure("sqlite", strategy, workload, via_database(db, make), n)
                )
            op = via_database(db, read_work)
            results.append(
                await measure("sqlite", strategy, f"read x{CONCURRENCY}", op, n, CONCURRENCY)
            )
        for workload, reads in (("read", 1), ("read3", 3)):
            op = naive_async(naive_engine, reads)
            results.append(await measure("sqlite", "naive-async-session", workload, op, n))
        for workload, make in WORKLOADS.items():
            op = on_the_loop(sync_db, make)
            results.append(await measure("sqlite", BLOCKS, workload, op, n))

        lags.append(await idle_lag())
        for strategy, op in (
            ("sync-offloop write", via_database(sync_db, write_work)),
            (f"{BLOCKS} write", on_the_loop(sync_db, write_work)),
        ):
            lags.append(await loop_lag("sqlite", strategy, op, lag_runs(n)))
    finally:
        await naive_engine.dispose()
        await aio_db.dispose()
        await sync_db.dispose()
    return results, lags


def postgres_url(given: str | None) -> str:
    env = os.environ.get("DATABASE_URL", "")
    if given:
        return given
    return env if env.startswith("postgres") else DEFAULT_POSTGRES


def asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def postgres_suite(admin_url: str, n: int) -> tuple[list[Result], list[Lag], str]:
    """Benchmark `Database` on a throwaway database created on the server of `admin_url`."""
    admin = normalize_url(admin_url)
    shown = admin.render_as_string(hide_password=True)
    name = f"recert_bench_{os.getpid()}"
    try:
        connection = await asyncpg.connect(asyncpg_dsn(admin), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        note = f"skipped: cannot connect to {shown} ({type(error).__name__}: {error})"
        print(f"postgres {note}", flush=True)
        return [], [], note
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.PostgresError as error:
        await connection.close()
        note = f"skipped: cannot create database {name} on {shown} ({error})"
        print(f"postgres {note}", flush=True)
        return [], [], note

    url = admin.set(database=name).render_as_string(hide_password=False)
    results: list[Result] = []
    lags: list[Lag] = []
    try:
        await upgrade_async(url)
        db = Database(url)
        try:
            await db.run(seed)
            strategy = "asyncpg-run_sync"
            for workload, make in WORKLOADS.items():
                results.append(
                    await measure("postgres", strategy, workload, via_database(db, make), n)
                )
            op = via_database(db, read_work)
            results.append(
                await measure("postgres", strategy, f"read x{CONCURRENCY}", op, n, CONCURRENCY)
            )
            op = via_database(db, write_work)
            lags.append(await loop_lag("postgres", f"{strategy} write", op, lag_runs(n)))
        finally:
            await db.dispose()
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.close()
    return results, lags, f"database {name} on {shown}, dropped after the run"


# --- entry point --------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("sqlalchemy", "sqlmodel", "aiosqlite", "asyncpg"):
        found[package] = version(package)
    return found


async def main(args: argparse.Namespace) -> dict[str, Any]:
    found = versions()
    print(
        f"# {ROWS} trainers, {args.n} units of work per line, {os.cpu_count()} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in found.items()),
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="recert-bench-") as directory:
        results, lags = await sqlite_suite(Path(directory) / "bench.sqlite3", args.n)
    postgres = "skipped: --no-postgres"
    if not args.no_postgres:
        pg_results, pg_lags, postgres = await postgres_suite(postgres_url(args.postgres), args.n)
        results += pg_results
        lags += pg_lags
    return {
        "rows": ROWS,
        "n": args.n,
        "concurrency": CONCURRENCY,
        "versions": found,
        "postgres": postgres,
        "results": [asdict(r) for r in results],
        "loop_lag": [asdict(lag) for lag in lags],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000, help="units of work per measurement")
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server to benchmark on")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--json", action="store_true", help="also print one JSON line at the end")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    report = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(report), flush=True)
