"""Named units of work on trainers. Each takes a Session; run them with `Database.run`."""

from __future__ import annotations

from typing import cast

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from storage.models import Trainer
from storage.nudges import replan_trainer
from storage.types import utcnow

# Built once: every update reads a trainer, and building the statement is most of its cost.
_BY_ID = select(Trainer).where(Trainer.id == bindparam("user_id"))


_trainer = Trainer.__table__.c  # type: ignore[attr-defined]
# The same as a plain row (Core, no ORM object): what the trainer load of every update reads.
# A row reads like the model (`row.time_zone`); nothing writes through it.
_ROW_BY_ID = select(*_trainer).where(_trainer.id == bindparam("user_id"))


def get(session: Session, user_id: int) -> Trainer | None:
    return session.exec(_BY_ID, params={"user_id": user_id}).first()


def read(connection: Connection | Session, user_id: int) -> Trainer | None:
    """The trainer as a plain row (for reading only), or None. Typed as the model it reads
    like (`row.time_zone`): handlers only read it, and whatever writes reads the model."""
    return cast("Trainer | None", connection.execute(_ROW_BY_ID, {"user_id": user_id}).first())


def start(
    session: Session, user_id: int, name: str, language: str, reminder_hour: int
) -> tuple[Trainer, bool]:
    """The trainer for /start, created if new and made active again if they had left.

    Returns the trainer and whether it was created."""
    trainer = session.get(Trainer, user_id)
    if trainer is None:
        trainer = Trainer(id=user_id, name=name, language=language, reminder_hour=reminder_hour)
        session.add(trainer)
        return trainer, True
    if not trainer.active or trainer.name != name:
        if not trainer.active:  # back after blocking the bot: plan what is owed from now
            replan_trainer(session, user_id, utcnow())
        trainer.active = True
        trainer.name = name
        trainer.updated_at = utcnow()
    return trainer, False


def update(session: Session, user_id: int, **changes: object) -> Trainer | None:
    """Set the given profile fields (language, time_zone, reminder_hour, active)."""
    allowed = {
        "language",
        "time_zone",
        "reminder_hour",
        "active",
        "name",
        "nudge_intensity",
        "quiet_start",
        "quiet_end",
        "currency",
    }
    if not changes.keys() <= allowed:
        raise ValueError(f"not a trainer setting: {sorted(changes.keys() - allowed)}")
    trainer = session.get(Trainer, user_id)
    if trainer is None:
        return None
    for field, value in changes.items():
        setattr(trainer, field, value)
    trainer.updated_at = utcnow()
    if changes.keys() & {
        "time_zone",
        "reminder_hour",
        "nudge_intensity",
        "quiet_start",
        "quiet_end",
    }:
        replan_trainer(session, user_id, trainer.updated_at)
    return trainer
