"""SQLModel tables. Alembic migrations in `storage/migrations` create them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Trainer(SQLModel, table=True):
    """A person who talks to the bot in private chat; the id is their Telegram user id."""

    __tablename__ = "trainers"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str = Field(max_length=128)
    language: str = Field(max_length=8)
    # None until the trainer picks one; planning then uses the operator's default zone.
    time_zone: str | None = Field(default=None, max_length=64)
    reminder_hour: int = Field(default=9, ge=0, le=23)
    # False once the trainer blocks the bot; /start sets it again.
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
