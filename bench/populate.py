"""The data generator for the benchmarks: trainers, their credentials and credits, quickly and
reproducibly.

`populate(url, trainers, credentials_per=3, credits_per=20, due=N, seed=...)` migrates the
database with `storage.migrate.upgrade(url)` and bulk-inserts into those tables: one SQLAlchemy
Core `insert()` per table, compiled once for the dialect and executed as executemany of plain
tuples in chunks of 20,000 (no ORM objects, no per-row round trips, no per-row bind processing:
values are made in the form the driver stores, see `_Values`). The tables' plain indexes are
dropped before and created again after, from the SQL the migrations left in the database; keys
and unique constraints stay. 100,000 trainers (2.4 million rows) take about 12 s on SQLite.

What it makes, for the same seed always the same rows:

- `trainers` trainers, ids `id_offset + 1_000_001 ...`, languages en/es/ru (60/25/15 %), a time
  zone from UTC-6 to UTC+3 (or none, the operator's default), reminder hour 7-20.
- `credentials_per` credentials each, from `catalog_ids` (default NASM-CPT, ACE-CPT and an AHA
  CPR/AED card), ids `first_credential_id ...` in order. Cycles of 24 months ending 30 to 700
  days from today; the next nudge planned 1 hour to 60 days ahead.
- `credits_per` credits per trainer, spread over the credentials that take credits (not CPR
  cards), dated inside the cycle, 0.1 or 0.2 units each, a third with a cost.
- exactly `due` credentials (a seeded sample of all of them) owed their 14-day reminder now,
  fresh (not a catch-up after downtime, which waits for the trainer's reminder hour): their
  trainer's reminder hour is the hour running now in the trainer's zone, the cycle ends 14
  days from the trainer's today (so the milestone fell due at the start of this hour), the
  cycle's dates were set 4 days ago (so only the 14-day milestone is owed, as after a normal
  day, not a flood after downtime), and the next nudge time is in the past. One sweep claims
  and sends exactly one nudge for each.

Run it to fill a database: `python bench/populate.py --trainers 100000 --due 500
[--url sqlite:///data/bench.db]` (DATABASE_URL is used when --url is not given).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, column, event, insert, table, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import create_engine

from storage.catalog import Catalog
from storage.db import normalize_url
from storage.migrate import upgrade
from storage.models import Credential, Credit, Trainer

FIRST_TRAINER_ID = 1_000_001
DEFAULT_CATALOG_IDS = ("nasm-cpt", "ace-cpt", "aha-cpr")
CHUNK = 20_000
ZONES = (
    None,
    None,
    "America/Chicago",
    "America/New_York",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Moscow",
)
LANGUAGES = ("en",) * 12 + ("es",) * 5 + ("ru",) * 3
TITLES = (
    "Corrective exercise webinar",
    "Mobility workshop",
    "Nutrition basics",
    "Strength for seniors",
    "Kettlebell course",
    "Sports performance seminar",
)
PROVIDERS = (None, "NASM", "ACE", "Coursera", "Local gym")
DUE_DAYS_BEFORE = 14  # a due credential's cycle ends this many days from its trainer's today
# The zone of trainers without one: the bot's default (`Settings.default_time_zone`), which the
# benchmarks leave as it is, and the zone they pass to `claim_due`.
DEFAULT_ZONE = "UTC"


@dataclass
class Population:
    url: str
    trainers: int
    credentials: int
    credits: int
    due: int
    seed: int
    now: datetime
    seconds: float
    trainer_ids: range
    due_credential_ids: list[int] = field(default_factory=list)
    # Credential ids of the first trainer, and how many each has (they are consecutive).
    first_credential_id: int = 1
    credentials_per: int = 3

    def line(self) -> str:
        rate = (self.trainers + self.credentials + self.credits) / max(self.seconds, 1e-9)
        return (
            f"populate: {self.trainers:,} trainers, {self.credentials:,} credentials, "
            f"{self.credits:,} credits, {self.due:,} due, seed {self.seed}: "
            f"{self.seconds:.1f} s ({rate:,.0f} rows/s)"
        )


class _Values:
    """Values as the database driver takes them, without SQLAlchemy's per-row processing:
    SQLite gets the strings and floats SQLAlchemy itself would store, PostgreSQL native
    objects."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def moment(self, value: datetime) -> Any:
        if self.sqlite:
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def number(self, value: Decimal | None) -> Any:
        if value is None:
            return None
        return float(value) if self.sqlite else value


# The columns filled, in the order of the tuples below; the others take their NULL default.
TRAINER_COLUMNS = (
    "id",
    "name",
    "language",
    "time_zone",
    "reminder_hour",
    "active",
    "nudge_intensity",
    "created_at",
    "updated_at",
)
CREDENTIAL_COLUMNS = (
    "id",
    "trainer_id",
    "catalog_id",
    "number",
    "certified_on",
    "cycle_start",
    "cycle_end",
    "units_required",
    "next_nudge_at",
    "nudges_stopped",
    "cycle_set_at",
    "created_at",
    "updated_at",
)
CREDIT_COLUMNS = (
    "credential_id",
    "units",
    "earned_on",
    "title",
    "provider",
    "batch",
    "cost",
    "created_at",
)
Row = tuple[Any, ...]


def _rows(
    trainers: int,
    credentials_per: int,
    credits_per: int,
    due: int,
    seed: int,
    now: datetime,
    catalog_ids: tuple[str, ...],
    id_offset: int,
    first_credential_id: int,
    values: _Values,
) -> tuple[list[Row], list[Row], list[Row], list[int]]:
    rng = random.Random(seed)
    rnd = rng.random
    catalog = Catalog.load()
    entries = [catalog.get(cid) for cid in catalog_ids]
    if any(entry is None for entry in entries):
        raise ValueError(f"unknown catalog id in {catalog_ids}")
    today = now.date()
    total_credentials = trainers * credentials_per
    if due > total_credentials:
        raise ValueError(f"due={due} but only {total_credentials} credentials")
    due_ids = sorted(first_credential_id + k for k in rng.sample(range(total_credentials), due))
    due_set = set(due_ids)
    # Lookups made once: every date from 800 days back to 800 ahead, the moments used.
    days = {offset: values.day(today + timedelta(days=offset)) for offset in range(-800, 801)}
    now_v = values.moment(now)
    set_at_due = values.moment(now - timedelta(days=4))
    set_at_old = values.moment(now - timedelta(days=400))
    units = [values.number(Decimal("0.1")), values.number(Decimal("0.2"))]
    costs = [values.number(Decimal(n)) for n in range(10, 201)]
    required = [values.number(e.rule.units_required) for e in entries]  # type: ignore[union-attr]
    cpr = [e.is_cpr for e in entries]  # type: ignore[union-attr]
    ids = [e.id for e in entries]  # type: ignore[union-attr]
    minute = timedelta(minutes=1)
    n_lang, n_zone, n_title, n_prov, n_cost = (
        len(LANGUAGES),
        len(ZONES),
        len(TITLES),
        len(PROVIDERS),
        len(costs),
    )
    trainer_rows: list[Row] = []
    credential_rows: list[Row] = []
    credit_rows: list[Row] = []
    for t in range(trainers):
        trainer_id = id_offset + FIRST_TRAINER_ID + t
        language, zone, hour = (
            LANGUAGES[int(rnd() * n_lang)],
            ZONES[int(rnd() * n_zone)],
            7 + int(rnd() * 14),
        )
        first = first_credential_id + t * credentials_per
        due_end = 0
        if any(first + c in due_set for c in range(credentials_per)):
            # Owed *now*, not after a downtime: a reminder found late waits for the trainer's
            # reminder hour (scheduler/plan.py), so the trainer's hour is the one running in
            # their zone and the 14-day milestone falls on their today.
            local = now.astimezone(ZoneInfo(zone or DEFAULT_ZONE))
            hour = local.hour
            due_end = (local.date() + timedelta(days=DUE_DAYS_BEFORE) - today).days
        trainer_rows.append(
            (
                trainer_id,
                f"Trainer {t}",
                language,
                zone,
                hour,
                True,
                "normal",
                now_v,
                now_v,
            )
        )
        takes_credits: list[tuple[int, int, int]] = []  # (id, first day, last day) offsets
        for c in range(credentials_per):
            credential_id = first_credential_id + t * credentials_per + c
            kind = c % len(entries)
            if credential_id in due_set:
                end = due_end
                next_nudge_at = values.moment(now - minute * (1 + int(rnd() * 600)))
                cycle_set_at = set_at_due
            else:
                end = 30 + int(rnd() * 671)
                next_nudge_at = values.moment(now + minute * (60 + int(rnd() * 86_400)))
                cycle_set_at = set_at_old
            start = end - 730
            credential_rows.append(
                (
                    credential_id,
                    trainer_id,
                    ids[kind],
                    f"N{credential_id:08d}",
                    days[start],
                    days[start],
                    days[end],
                    required[kind],
                    next_nudge_at,
                    False,
                    cycle_set_at,
                    now_v,
                    now_v,
                )
            )
            if not cpr[kind]:
                takes_credits.append((credential_id, start, min(0, end)))
        if not takes_credits:
            continue
        for k in range(credits_per):
            credential_id, first, last = takes_credits[k % len(takes_credits)]
            credit_rows.append(
                (
                    credential_id,
                    units[rnd() >= 0.8],
                    days[first + int(rnd() * (last - first + 1))],
                    f"{TITLES[int(rnd() * n_title)]} #{k}",
                    PROVIDERS[int(rnd() * n_prov)],
                    f"{credential_id:x}b{k}",
                    costs[int(rnd() * n_cost)] if rnd() < 0.33 else None,
                    now_v,
                )
            )
    return trainer_rows, credential_rows, credit_rows, due_ids


def _secondary_indexes(connection: Connection, names: list[str]) -> list[tuple[str, str]]:
    """The plain (non-unique, non-key) indexes of these tables, as the migrations made them:
    (name, the SQL that creates it)."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join('?' for _ in names)})",
            tuple(names),
        )
    else:
        rows = connection.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "JOIN pg_class c ON c.relname = i.indexname "
                "JOIN pg_index x ON x.indexrelid = c.oid "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:names) "
                "AND NOT x.indisunique AND NOT x.indisprimary"
            ),
            {"names": names},
        )
    return [(name, sql) for name, sql in rows]


def _insert_all(
    connection: Connection, tables: list[tuple[str, tuple[str, ...], list[Row]]]
) -> None:
    """Core `insert()` per table, compiled once, executed as executemany in chunks. The
    tables' plain indexes are dropped first and created again after (one sort instead of
    millions of B-tree inserts); keys and unique constraints stay, so the rows are checked."""
    indexes = _secondary_indexes(connection, [name for name, _columns, _rows in tables])
    for name, _sql in indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    for name, columns, rows in tables:
        # Plain names, no types: the values go to the driver as they are (see _Values).
        bare = table(name, *(column(c) for c in columns))
        statement = str(insert(bare).compile(dialect=connection.dialect))
        for i in range(0, len(rows), CHUNK):
            connection.exec_driver_sql(statement, rows[i : i + CHUNK])
    for _name, sql in indexes:
        connection.exec_driver_sql(sql)
    if connection.dialect.name == "postgresql":
        # Explicit ids leave the serial sequences behind: set them past the rows (the bot
        # inserts credits and nudges afterwards).
        for name in ("credentials", "credits"):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                )
            )


def _sqlite_bulk_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # A generator: a crash means run it again. The bot sets WAL again when it connects.
    cursor.execute("PRAGMA journal_mode=MEMORY")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MB of pages while loading
    cursor.close()


def populate(
    url: str,
    trainers: int,
    credentials_per: int = 3,
    credits_per: int = 20,
    due: int = 0,
    seed: int = 1,
    *,
    now: datetime | None = None,
    catalog_ids: tuple[str, ...] = DEFAULT_CATALOG_IDS,
    id_offset: int = 0,
    first_credential_id: int = 1,
    migrate: bool = True,
) -> Population:
    """Fill the database at `url` (migrated first unless `migrate=False`) and say what it made.

    Several populations can share a database: give the later ones `migrate=False`, an
    `id_offset` for their trainer ids and a `first_credential_id` past the earlier ones'."""
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    if migrate:
        upgrade(url)
    parsed = normalize_url(url)
    trainer_rows, credential_rows, credit_rows, due_ids = _rows(
        trainers,
        credentials_per,
        credits_per,
        due,
        seed,
        now,
        catalog_ids,
        id_offset,
        first_credential_id,
        _Values(sqlite=parsed.get_backend_name() == "sqlite"),
    )
    tables = [
        (Trainer.__tablename__, TRAINER_COLUMNS, trainer_rows),
        (Credential.__tablename__, CREDENTIAL_COLUMNS, credential_rows),
        (Credit.__tablename__, CREDIT_COLUMNS, credit_rows),
    ]
    if parsed.get_dialect().is_async:

        async def load() -> None:
            engine = create_async_engine(parsed, poolclass=NullPool)
            try:
                async with engine.begin() as connection:
                    await connection.run_sync(_insert_all, tables)
                async with engine.connect() as connection:
                    autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await autocommit.execute(text("ANALYZE"))
            finally:
                await engine.dispose()

        asyncio.run(load())
    else:
        engine = create_engine(parsed, poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_bulk_pragmas)
        try:
            with engine.begin() as connection:
                _insert_all(connection, tables)
        finally:
            engine.dispose()
    return Population(
        url=url,
        trainers=len(trainer_rows),
        credentials=len(credential_rows),
        credits=len(credit_rows),
        due=len(due_ids),
        seed=seed,
        now=now,
        seconds=time.perf_counter() - started,
        trainer_ids=range(id_offset + FIRST_TRAINER_ID, id_offset + FIRST_TRAINER_ID + trainers),
        due_credential_ids=due_ids,
        first_credential_id=first_credential_id,
        credentials_per=credentials_per,
    )


async def populate_async(url: str, trainers: int, **kwargs: Any) -> Population:
    """`populate` from a running event loop (it blocks, so it runs in a thread)."""
    return await asyncio.to_thread(populate, url, trainers, **kwargs)


def main(argv: list[str] | None = None) -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: DATABASE_URL)")
    parser.add_argument("--trainers", type=int, default=10_000)
    parser.add_argument("--credentials-per", type=int, default=3)
    parser.add_argument("--credits-per", type=int, default=20)
    parser.add_argument("--due", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    url = args.url or os.environ.get("DATABASE_URL")
    if not url:
        parser.error("give --url or set DATABASE_URL")
    population = populate(
        url, args.trainers, args.credentials_per, args.credits_per, args.due, args.seed
    )
    print(population.line(), flush=True)


if __name__ == "__main__":
    main()
