"""The data generator for the benchmarks: trainers, their credentials and credits, quickly and
reproducibly.

`populate(url, trainers, credentials_per=3, credits_per=20, due=N, seed=...)` migrates the
database with `storage.migrate.upgrade(url)` and bulk-inserts with SQLAlchemy Core `insert()`
(executemany, in chunks) into those tables: no ORM objects, no per-row round trips.

What it makes, for the same seed always the same rows:

- `trainers` trainers, ids `id_offset + 1_000_001 ...`, languages en/es/ru (60/25/15 %), a time
  zone from UTC-6 to UTC+3 (or none, the operator's default), reminder hour 7-20.
- `credentials_per` credentials each, from `catalog_ids` (default NASM-CPT, ACE-CPT and an AHA
  CPR/AED card), ids `first_credential_id ...` in order. Cycles of 24 months ending 30 to 700
  days from today; the next nudge planned 1 hour to 60 days ahead.
- `credits_per` credits per trainer, spread over the credentials that take credits (not CPR
  cards), dated inside the cycle, 0.1 or 0.2 units each, a third with a cost.
- exactly `due` credentials (a seeded sample of all of them) owed their 14-day reminder now:
  the cycle ends 12 days from today, the cycle's dates were set 4 days ago (so only the 14-day
  milestone is owed, as after a normal day, not a flood after downtime), and the next nudge
  time is in the past. One sweep claims exactly one nudge for each.

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

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, event, insert, text
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
DUE_CYCLE_DAYS = 12  # the cycle of a due credential ends this many days from today


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
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[int]]:
    rng = random.Random(seed)
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
    trainer_rows: list[dict[str, Any]] = []
    credential_rows: list[dict[str, Any]] = []
    credit_rows: list[dict[str, Any]] = []
    set_at = now - timedelta(days=4)
    for t in range(trainers):
        trainer_id = id_offset + FIRST_TRAINER_ID + t
        trainer_rows.append(
            {
                "id": trainer_id,
                "name": f"Trainer {t}",
                "language": rng.choice(LANGUAGES),
                "time_zone": rng.choice(ZONES),
                "reminder_hour": rng.randint(7, 20),
                "active": True,
                "nudge_intensity": "normal",
                "quiet_start": None,
                "quiet_end": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        takes_credits: list[dict[str, Any]] = []
        for c in range(credentials_per):
            credential_id = first_credential_id + t * credentials_per + c
            entry = entries[c % len(entries)]
            assert entry is not None
            if credential_id in due_set:
                cycle_end = today + timedelta(days=DUE_CYCLE_DAYS)
                next_nudge_at = now - timedelta(minutes=rng.randint(1, 600))
                cycle_set_at = set_at
            else:
                cycle_end = today + timedelta(days=rng.randint(30, 700))
                next_nudge_at = now + timedelta(minutes=rng.randint(60, 60 * 24 * 60))
                cycle_set_at = now - timedelta(days=400)
            cycle_start = cycle_end - timedelta(days=730)
            row = {
                "id": credential_id,
                "trainer_id": trainer_id,
                "catalog_id": entry.id,
                "custom_name": None,
                "custom_cycle_months": None,
                "number": f"N{credential_id:08d}",
                "certified_on": cycle_start,
                "cycle_start": cycle_start,
                "cycle_end": cycle_end,
                "units_required": entry.rule.units_required,
                "next_nudge_at": next_nudge_at,
                "snoozed_until": None,
                "nudges_stopped": False,
                "cycle_set_at": cycle_set_at,
                "created_at": now,
                "updated_at": now,
            }
            credential_rows.append(row)
            if not entry.is_cpr:
                takes_credits.append(row)
        if not takes_credits:
            continue
        for k in range(credits_per):
            credential = takes_credits[k % len(takes_credits)]
            start: date = credential["cycle_start"]
            last: date = min(today, credential["cycle_end"])
            span = max((last - start).days, 0)
            credit_rows.append(
                {
                    "credential_id": credential["id"],
                    "units": Decimal("0.1") if rng.random() < 0.8 else Decimal("0.2"),
                    "earned_on": start + timedelta(days=rng.randint(0, span)),
                    "title": f"{rng.choice(TITLES)} #{k}",
                    "provider": rng.choice(PROVIDERS),
                    "from_credential_id": None,
                    "batch": f"{credential['id']:x}b{k}",
                    "category": None,
                    "cost": Decimal(rng.randint(10, 200)) if rng.random() < 0.33 else None,
                    "proof_file_id": None,
                    "proof_kind": None,
                    "proof_name": None,
                    "created_at": now,
                }
            )
    return trainer_rows, credential_rows, credit_rows, due_ids


def _insert_all(connection: Connection, tables: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    for table, rows in tables:
        for i in range(0, len(rows), CHUNK):
            connection.execute(insert(table), rows[i : i + CHUNK])
    if connection.dialect.name == "postgresql":
        # Explicit ids leave the serial sequences behind: set them past the rows (the bot
        # inserts credits and nudges afterwards), and give the planner statistics.
        for name in ("credentials", "credits"):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                )
            )


def _sqlite_bulk_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # what the bot uses; set once, it stays
    cursor.execute("PRAGMA synchronous=OFF")  # a generator: a crash means run it again
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
    )
    tables = [
        (Trainer.__table__, trainer_rows),
        (Credential.__table__, credential_rows),
        (Credit.__table__, credit_rows),
    ]
    parsed = normalize_url(url)
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
