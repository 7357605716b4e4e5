"""Units of work on credentials, their cycles and credits. Every function takes the owner's
trainer id and touches only that trainer's rows: a forged id finds nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from scheduler.credits import Earned, Fineprint, counted
from scheduler.cycles import Cycle, CycleEnd, Rule
from scheduler.entries import fineprint_of
from scheduler.plan import Milestone
from scheduler.standing import Holding
from storage.catalog import Catalog
from storage.models import Credential, Credit, Nudge, PastCycle
from storage.types import utcnow


@dataclass(frozen=True)
class Held:
    """A credential, the core's view of it and its credits; `units_earned` is what counts
    toward the current cycle (the core's count, capped where the body caps)."""

    credential: Credential
    units_earned: Decimal
    holding: Holding | None = None
    earned: tuple[Earned, ...] = ()


def taking_credits(held: list[Held], catalog: Catalog) -> list[Held]:
    """The credentials that take credits: everything but CPR/AED cards."""
    return [
        h for h in held if not ((entry := catalog.get(h.credential.catalog_id)) and entry.is_cpr)
    ]


def _cycle(credential: Credential) -> Cycle:
    return Cycle(credential.cycle_start, credential.cycle_end, credential.units_required)


def fineprint_for(credential: Credential, catalog: Catalog) -> Fineprint:
    entry = catalog.get(credential.catalog_id)
    return fineprint_of(entry, _cycle(credential), credential.certified_on)


def holding_of(
    credential: Credential, catalog: Catalog, recorded: Iterable[Nudge] = ()
) -> Holding:
    """The core's view of a stored credential (its cycle's recorded nudges say whether the
    final week is repeating an unanswered reminder)."""
    final = [
        nudge
        for nudge in recorded
        if nudge.status == "sent" and Milestone.parse(nudge.milestone).final_week
    ]
    unanswered = final and not any(nudge.answered for nudge in final)
    return Holding(
        rule=rule_for(credential, catalog),
        cycle=_cycle(credential),
        certified_on=credential.certified_on,
        cycle_set_at=credential.cycle_set_at,
        snoozed_until=credential.snoozed_until,
        stopped=credential.nudges_stopped,
        fineprint=fineprint_for(credential, catalog),
        final_unanswered_at=max(n.sent_at or n.due_at for n in final) if unanswered else None,
        final_sent=bool(final),
    )


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


_credit = Credit.__table__.c  # type: ignore[attr-defined]
# Every credit of a trainer's credentials, as plain rows: the core says which count.
_CREDITS_OF = (
    select_rows(  # SQLAlchemy's: SQLModel's select is typed for at most four columns
        _credit.credential_id, _credit.units, _credit.earned_on, _credit.title, _credit.category
    )
    .where(_credit.credential_id.in_(bindparam("ids", expanding=True)))
    .order_by(_credit.earned_on, _credit.id)
)


def held_by(session: Session, trainer_id: int, catalog: Catalog) -> list[Held]:
    """All of a trainer's credentials, soonest deadline first, each with what counts toward
    its current cycle, in two queries."""
    held = credentials_of(session, trainer_id)
    if not held:
        return []
    earned: dict[int, list[Earned]] = {}
    for credential_id, units, earned_on, title, category in session.execute(
        _CREDITS_OF, {"ids": [c.id for c in held]}
    ):
        earned.setdefault(credential_id, []).append(Earned(units, earned_on, title, category))
    result = []
    for credential in held:
        holding = holding_of(credential, catalog)
        mine = tuple(earned.get(credential.id or 0, ()))
        points = counted(holding.earned_in_cycle(mine), holding.fineprint)
        result.append(Held(credential, points, holding, mine))
    return result


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


def held_one(session: Session, credential: Credential, catalog: Catalog) -> Held:
    """One credential as `held_by` gives each."""
    rows = session.execute(_CREDITS_OF, {"ids": [credential.id]})
    earned = tuple(Earned(units, on, title, category) for _cid, units, on, title, category in rows)
    holding = holding_of(credential, catalog)
    return Held(
        credential, counted(holding.earned_in_cycle(earned), holding.fineprint), holding, earned
    )


def units_earned(session: Session, credential: Credential, catalog: Catalog) -> Decimal:
    """What counts toward the credential's current cycle (the core's count)."""
    return held_one(session, credential, catalog).units_earned


def renew(
    session: Session, trainer_id: int, credential_id: int, following: Cycle, catalog: Catalog
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
            units_earned=units_earned(session, credential, catalog),
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
