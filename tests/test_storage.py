"""Trainer storage, on SQLite and on PostgreSQL, through migrations as an install runs them."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import inspect

from storage import trainers
from storage.db import Database
from storage.migrate import upgrade_async


@pytest.fixture
async def db(database_url: str) -> Database:
    await upgrade_async(database_url)
    database = Database(database_url)
    yield database  # type: ignore[misc]
    await database.dispose()


async def test_migrations_create_the_trainers_table(db: Database, database_url: str) -> None:
    columns = await db.run(
        lambda s: {c["name"] for c in inspect(s.connection()).get_columns("trainers")}
    )
    assert columns == {
        "id",
        "name",
        "language",
        "time_zone",
        "reminder_hour",
        "active",
        "created_at",
        "updated_at",
        "nudge_intensity",
        "quiet_start",
        "quiet_end",
        "currency",
    }
    credit_columns = await db.run(
        lambda s: {c["name"] for c in inspect(s.connection()).get_columns("credits")}
    )
    assert {"cost", "cost_currency"} <= credit_columns
    await upgrade_async(database_url)  # again: nothing to do, no error


async def test_trainer_lifecycle(db: Database) -> None:
    big_id = 7_123_456_789  # Telegram ids outgrow 32 bits
    trainer, created = await db.run(lambda s: trainers.start(s, big_id, "Ann", "en", 9))
    assert created and trainer.id == big_id
    again, created = await db.run(lambda s: trainers.start(s, big_id, "Ann", "en", 9))
    assert not created and again.created_at == trainer.created_at
    assert again.created_at.tzinfo is UTC

    await db.run(
        lambda s: trainers.update(
            s, big_id, time_zone="Europe/Madrid", reminder_hour=7, language="es", active=False
        )
    )
    stored = await db.run(lambda s: trainers.get(s, big_id))
    assert stored is not None
    assert (stored.time_zone, stored.reminder_hour, stored.language, stored.active) == (
        "Europe/Madrid",
        7,
        "es",
        False,
    )
    assert stored.updated_at >= stored.created_at

    back, _ = await db.run(lambda s: trainers.start(s, big_id, "Ann B.", "es", 9))
    assert back.active and back.name == "Ann B." and back.reminder_hour == 7


async def test_update_refuses_unknown_fields_and_missing_trainers(db: Database) -> None:
    assert await db.run(lambda s: trainers.update(s, 1, language="es")) is None
    with pytest.raises(ValueError):
        await db.run(lambda s: trainers.update(s, 1, id=5))


async def test_a_failed_unit_of_work_stores_nothing(db: Database) -> None:
    def half_done(session):  # type: ignore[no-untyped-def]
        trainers.start(session, 5, "Half", "en", 9)
        session.flush()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await db.run(half_done)
    assert await db.run(lambda s: trainers.get(s, 5)) is None


async def test_migrations_match_the_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401

    differences = await db.run(
        lambda s: compare_metadata(MigrationContext.configure(s.connection()), SQLModel.metadata)
    )
    assert differences == []


async def test_a_credit_logged_with_the_credits_just_read_counts_as_one_read_again(
    db: Database,
) -> None:
    """`credits.log(known=...)` (the /log one-liner passes what `held_by` read) decides as a
    fresh read does: NSCA's category caps, a credit outside the cycle, the same outcome."""
    from datetime import date, timedelta
    from decimal import Decimal

    from scheduler.cycles import Cycle
    from storage import credentials, credits
    from storage.catalog import Catalog

    catalog = Catalog.load()
    today = date(2026, 3, 1)
    cycle = Cycle(date(2024, 1, 1), date(2026, 12, 31), Decimal("6.0"))

    def setup(session, trainer_id):  # type: ignore[no-untyped-def]
        trainers.start(session, trainer_id, "T", "en", 9)
        session.flush()
        credential = credentials.add(
            session, trainer_id, cycle, catalog_id="nsca-cscs", certified_on=date(2019, 1, 1)
        )
        for units, day in (("1.0", today - timedelta(days=30)), ("0.5", date(2023, 6, 1))):
            credentials.add_credit(session, trainer_id, credential.id, Decimal(units), day, "x")
        return credential.id

    outcomes = []
    for trainer_id, pass_known in ((501, False), (502, True)):
        credential_id = await db.run(lambda s, t=trainer_id: setup(s, t))

        def log(session, t=trainer_id, c=credential_id, pass_known=pass_known):  # type: ignore[no-untyped-def]
            held = credentials.held_by(session, t, catalog)
            known = {h.credential.id: h.earned for h in held} if pass_known else None
            new = credits.NewCredit(
                credits.Amount(Decimal("5"), hours=False), today, "Clinic", category="D"
            )
            logged = credits.log(session, t, [c], new, catalog, today, known)
            o = logged.outcomes[0]
            return (o.units, o.refused, o.over_cap, o.excess, o.counted)

        outcomes.append(await db.run(log))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0] == outcomes[1]
    # Category D is capped at 4.0 for those certified before 2024; the 2023 credit is not of
    # this cycle: 1.0 + 4.0 counted, 1.0 over the cap.
    assert outcomes[0] == (Decimal(5), None, Decimal(1), Decimal(0), Decimal(5))
