"""Units of work on credentials, their cycles and credits. Every function takes the owner's
trainer id and touches only that trainer's rows: a forged id finds nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, bindparam, func, update
from sqlmodel import Session, col, select

from scheduler.cycles import Cycle, CycleEnd, Rule
from storage.catalog import Catalog
from storage.models import Credential, Credit, PastCycle
from storage.types import utcnow


@dataclass(frozen=True)
class Held:
    """A credential with the credits earned in its current cycle."""

    credential: Credential
    units_earned: Decimal


def plan_again(credential: Credential) -> None:
    """Its state changed (credits, dates, snooze, stop): the next sweep plans it again. The
    one place that asks for re-planning; the sweep alone sets the real next moment."""
    credential.next_nudge_at = utcnow()


def plan_again_all(
    session: Session, *, trainer_id: int | None = None, credential_ids: Iterable[int] = ()
) -> None:
    """`plan_again` for many rows in one statement: a trainer's (settings changed) or some."""
    where = (
        col(Credential.trainer_id) == trainer_id
        if trainer_id is not None
        else col(Credential.id).in_(list(credential_ids))
    )
    session.execute(update(Credential).where(where).values(next_nudge_at=utcnow()))


def rule_for(credential: Credential, catalog: Catalog) -> Rule:
    entry = catalog.get(credential.catalog_id)
    if entry is not None:
        return entry.rule
    return Rule(
        cycle_end=CycleEnd.ANNIVERSARY if credential.custom_cycle_months else CycleEnd.CARD_ONLY,
        cycle_months=credential.custom_cycle_months,
        units_required=credential.units_required,
    )


def _earned_in_cycle():  # type: ignore[no-untyped-def]
    """Credits dated inside the credential's current cycle (an open end counts all after)."""
    return and_(
        Credit.credential_id == Credential.id,
        Credit.earned_on >= Credential.cycle_start,
        (col(Credential.cycle_end).is_(None)) | (Credit.earned_on <= Credential.cycle_end),
    )


_HELD_BY = (
    select(Credential, func.coalesce(func.sum(Credit.units), 0))
    .outerjoin(Credit, _earned_in_cycle())
    .where(Credential.trainer_id == bindparam("trainer_id"))
    .group_by(col(Credential.id))
    .order_by(col(Credential.cycle_end).is_(None), col(Credential.cycle_end), col(Credential.id))
)


def held_by(session: Session, trainer_id: int) -> list[Held]:
    """All of a trainer's credentials, soonest deadline first, with credits, in one query."""
    rows = session.exec(_HELD_BY, params={"trainer_id": trainer_id})
    return [Held(credential, Decimal(str(units))) for credential, units in rows]


# Built once: building a statement costs SQLAlchemy more than running it on SQLite.
_CREDENTIALS_OF = (
    select(Credential)
    .where(Credential.trainer_id == bindparam("trainer_id"))
    .order_by(col(Credential.cycle_end).is_(None), col(Credential.cycle_end), col(Credential.id))
)


def credentials_of(session: Session, trainer_id: int) -> list[Credential]:
    """All of a trainer's credentials, soonest deadline first (as `held_by`, without sums)."""
    return list(session.exec(_CREDENTIALS_OF, params={"trainer_id": trainer_id}))


def owned(session: Session, trainer_id: int, credential_id: int) -> Credential | None:
    credential = session.get(Credential, credential_id)
    if credential is None or credential.trainer_id != trainer_id:
        return None
    return credential


def same_kind(
    session: Session, trainer_id: int, catalog_id: str | None, custom_name: str | None
) -> Credential | None:
    """The credential already on file for this catalog entry (or custom name), if any."""
    query = select(Credential).where(Credential.trainer_id == trainer_id)
    if catalog_id:
        query = query.where(Credential.catalog_id == catalog_id)
    else:
        query = query.where(func.lower(Credential.custom_name) == (custom_name or "").lower())
    return session.exec(query).first()


def add(
    session: Session,
    trainer_id: int,
    cycle: Cycle,
    *,
    catalog_id: str | None = None,
    custom_name: str | None = None,
    custom_cycle_months: int | None = None,
    number: str | None = None,
    certified_on: date | None = None,
) -> Credential:
    credential = Credential(
        trainer_id=trainer_id,
        catalog_id=catalog_id,
        custom_name=custom_name,
        custom_cycle_months=custom_cycle_months,
        number=number,
        certified_on=certified_on,
        cycle_start=cycle.start,
        cycle_end=cycle.end,
        units_required=cycle.units_required,
    )
    plan_again(credential)  # the next sweep plans its reminders
    session.add(credential)
    session.flush()  # assigns the id
    return credential


def set_cycle(
    session: Session,
    trainer_id: int,
    credential_id: int,
    cycle: Cycle,
    certified_on: date | None = None,
) -> Credential | None:
    credential = owned(session, trainer_id, credential_id)
    if credential is None:
        return None
    credential.cycle_start, credential.cycle_end = cycle.start, cycle.end
    credential.units_required = cycle.units_required
    if certified_on is not None:
        credential.certified_on = certified_on
    # New dates: plan again from now on, owing nothing that fell due before.
    credential.updated_at = credential.cycle_set_at = utcnow()
    credential.snoozed_until = None
    plan_again(credential)
    return credential


def set_number(
    session: Session, trainer_id: int, credential_id: int, number: str | None
) -> Credential | None:
    credential = owned(session, trainer_id, credential_id)
    if credential is not None:
        credential.number = number
        credential.updated_at = utcnow()
    return credential


def remove(session: Session, trainer_id: int, credential_id: int) -> Credential | None:
    credential = owned(session, trainer_id, credential_id)
    if credential is not None:
        session.delete(credential)
    return credential


def units_earned(session: Session, credential: Credential) -> Decimal:
    total = session.exec(
        select(func.coalesce(func.sum(Credit.units), 0)).where(
            Credit.credential_id == credential.id,
            Credit.earned_on >= credential.cycle_start,
            (col(Credit.earned_on) <= credential.cycle_end) if credential.cycle_end else True,
        )
    ).one()
    return Decimal(str(total))


def renew(
    session: Session, trainer_id: int, credential_id: int, following: Cycle
) -> Credential | None:
    """Close the current cycle (kept in past_cycles, with what was earned) and start the next:
    the credit count starts again."""
    credential = owned(session, trainer_id, credential_id)
    if credential is None:
        return None
    session.add(
        PastCycle(
            credential_id=credential_id,
            cycle_start=credential.cycle_start,
            cycle_end=credential.cycle_end,
            units_required=credential.units_required,
            units_earned=units_earned(session, credential),
        )
    )
    return set_cycle(session, trainer_id, credential_id, following)


def past_cycles(session: Session, trainer_id: int, credential_id: int) -> list[PastCycle]:
    if owned(session, trainer_id, credential_id) is None:
        return []
    return list(
        session.exec(
            select(PastCycle)
            .where(PastCycle.credential_id == credential_id)
            .order_by(col(PastCycle.cycle_start))
        )
    )


def add_credit(
    session: Session,
    trainer_id: int,
    credential_id: int,
    units: Decimal,
    earned_on: date,
    title: str,
    *,
    provider: str | None = None,
    from_credential_id: int | None = None,
) -> Credit | None:
    if owned(session, trainer_id, credential_id) is None:
        return None
    credit = Credit(
        credential_id=credential_id,
        units=units,
        earned_on=earned_on,
        title=title,
        provider=provider,
        from_credential_id=from_credential_id,
    )
    session.add(credit)
    session.flush()
    return credit


def credits_from(session: Session, credential_id: int, from_credential_id: int) -> int:
    """How many credits already came from that specialization (to offer them once)."""
    return len(
        session.exec(
            select(Credit.id).where(
                Credit.credential_id == credential_id,
                Credit.from_credential_id == from_credential_id,
            )
        ).all()
    )


def credit_count(session: Session, trainer_id: int, credential_id: int) -> int:
    if owned(session, trainer_id, credential_id) is None:
        return 0
    return len(session.exec(select(Credit.id).where(Credit.credential_id == credential_id)).all())
