"""Units of work for webhook updates taken once (see `storage.models.SeenUpdate`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from storage.models import SeenUpdate

LEASE = timedelta(minutes=2)  # longer than Telegram waits for an answer before re-posting
KEEP = timedelta(days=2)  # Telegram gives up on an update after a day

Claim = Literal["mine", "done", "busy"]


def claim(session: Session, update_id: int, now: datetime) -> Claim:
    """Take the update: "mine" (handle it), "done" (handled already), "busy" (in hand
    elsewhere, its lease not over)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    inserted = session.exec(
        insert(SeenUpdate)
        .values(update_id=update_id, done=False, lease_until=now + LEASE, seen_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    if inserted.rowcount == 1:
        return "mine"
    taken = session.exec(
        update(SeenUpdate)
        .where(
            col(SeenUpdate.update_id) == update_id,
            col(SeenUpdate.done).is_(False),
            col(SeenUpdate.lease_until) < now,
        )
        .values(lease_until=now + LEASE)
    )
    if taken.rowcount == 1:
        return "mine"  # its replica died mid-way: handled again
    row = session.get(SeenUpdate, update_id)
    return "done" if row is not None and row.done else "busy"


def finish(session: Session, update_id: int) -> None:
    session.exec(
        update(SeenUpdate).where(col(SeenUpdate.update_id) == update_id).values(done=True)
    )


def prune(session: Session, now: datetime) -> int:
    """Forget updates Telegram will never post again."""
    result = session.exec(delete(SeenUpdate).where(col(SeenUpdate.seen_at) < now - KEEP))
    return int(result.rowcount)
