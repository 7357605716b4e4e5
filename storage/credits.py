"""Units of work on credits: logging with the body's fine print, undo, history, status data.

Each function is one unit of work that returns what its screen needs, so a handler makes one
database round trip. Every function takes the owner's trainer id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, func
from sqlmodel import Session, col, delete, select

from scheduler.credits import Earned, Fineprint, Refusal, counted, excess, over_cap, refusal
from scheduler.cycles import Cycle
from storage.catalog import Catalog, CatalogEntry
from storage.credentials import Held, credentials_of, held_by, owned
from storage.models import Credential, Credit
from storage.types import utcnow

CENT = Decimal("0.01")
MAX_UNITS = Decimal(100)


@dataclass(frozen=True)
class Amount:
    value: Decimal
    hours: bool  # True: contact hours, converted with each credential's hours per unit


@dataclass(frozen=True)
class Proof:
    file_id: str
    kind: str  # "photo" or "document"
    name: str | None = None


@dataclass(frozen=True)
class NewCredit:
    amount: Amount
    earned_on: date
    title: str
    provider: str | None = None
    cost: Decimal | None = None
    category: str | None = None
    proof: Proof | None = None


@dataclass
class Outcome:
    """What happened to one credential when a credit was logged."""

    credential: Credential
    units: Decimal | None = None  # logged units; None when refused
    refused: Refusal | str | None = None  # a Refusal, "hours_unknown" or "too_small"
    over_cap: Decimal = Decimal(0)
    excess: Decimal = Decimal(0)
    counted: Decimal = Decimal(0)  # toward the requirement after this credit


@dataclass
class Logged:
    batch: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def stored(self) -> bool:
        return any(outcome.units is not None for outcome in self.outcomes)


def fineprint_for(credential: Credential, catalog: Catalog) -> Fineprint:
    entry = catalog.get(credential.catalog_id)
    if entry is None:
        return Fineprint()
    return Fineprint(
        entry.no_repeats, entry.no_rollover, _caps(credential, entry), entry.min_categories
    )


def _caps(credential: Credential, entry: CatalogEntry) -> dict[str, Decimal] | None:
    """NSCA's category caps: the pro-rated band only in the period the trainer certified in
    (its dates move with each period, like the requirement's); the full band after that."""
    if not entry.category_caps:
        return None
    band = entry.category_caps[0]
    rule = entry.rule
    certified = credential.certified_on
    if (
        certified is not None
        and certified >= credential.cycle_start
        and credential.cycle_end is not None
        and rule.period_anchor
        and rule.period_years
    ):
        shift = relativedelta(
            years=credential.cycle_end.year - rule.period_years + 1 - rule.period_anchor.year
        )
        for candidate in entry.category_caps:
            if certified < date.fromisoformat(candidate["certified_before"]) + shift:
                band = candidate
                break
    return {key: Decimal(str(value)) for key, value in band.items() if len(key) == 1}


def in_cents(units: Decimal) -> Decimal:
    """Units as their column keeps them (NUMERIC(8, 2)), rounded here so that both databases
    store the same: SQLite would keep 0.001 as typed where PostgreSQL rounds it to 0.00."""
    rounded = units.quantize(CENT, ROUND_HALF_UP)
    return units if rounded == units else rounded.normalize()


def units_for(credential: Credential, amount: Amount, catalog: Catalog) -> Decimal | None:
    """The amount in this credential's units (hours divided by its hours per unit), in
    cents."""
    if not amount.hours:
        return in_cents(amount.value)
    entry = catalog.get(credential.catalog_id)
    if entry is None or not entry.hours_per_unit:
        return None
    return in_cents(amount.value / entry.hours_per_unit)


# The credits a cycle counts, as the fine print needs them; built once (see `_STATUS_CREDITS`).
_CYCLE_EARNED = (
    select(Credit.units, Credit.earned_on, Credit.title, Credit.category)
    .where(
        Credit.credential_id == bindparam("credential_id"),
        col(Credit.earned_on) >= bindparam("start"),
        col(Credit.earned_on) <= bindparam("end"),
    )
    .order_by(col(Credit.earned_on), col(Credit.id))
)


def cycle_earned(session: Session, credential: Credential) -> list[Earned]:
    """What the current cycle has earned so far, oldest first."""
    rows = session.execute(
        _CYCLE_EARNED,
        {
            "credential_id": credential.id,
            "start": credential.cycle_start,
            "end": credential.cycle_end or date.max,
        },
    )
    return [
        Earned(units, earned_on, title, category) for units, earned_on, title, category in rows
    ]


def _cycle(credential: Credential) -> Cycle:
    return Cycle(credential.cycle_start, credential.cycle_end, credential.units_required)


def log(
    session: Session,
    trainer_id: int,
    credential_ids: list[int],
    new: NewCredit,
    catalog: Catalog,
    today: date,
) -> Logged:
    """Log one course toward each credential, where the body's rules let it count."""
    logged = Logged(uuid.uuid4().hex)
    for credential_id in credential_ids:
        credential = owned(session, trainer_id, credential_id)
        if credential is None:
            continue
        outcome = Outcome(credential)
        logged.outcomes.append(outcome)
        units = units_for(credential, new.amount, catalog)
        existing = cycle_earned(session, credential)
        rules = fineprint_for(credential, catalog)
        if units is None or units <= 0:
            # Hours it cannot convert, or too few for a hundredth of a unit once converted.
            outcome.refused = "hours_unknown" if units is None else "too_small"
            outcome.counted = counted(existing, rules)
            continue
        candidate = Earned(units, new.earned_on, new.title, new.category)
        outcome.refused = refusal(_cycle(credential), existing, candidate, rules, today)
        before = counted(existing, rules)
        if outcome.refused is not None:
            outcome.counted = before
            continue
        outcome.over_cap = over_cap(existing, candidate, rules)
        outcome.excess = excess(credential.units_required, before, units - outcome.over_cap)
        outcome.units = units
        outcome.counted = counted([*existing, candidate], rules)
        credential.next_nudge_at = utcnow()  # pace may have changed: plan again
        session.add(
            Credit(
                credential_id=credential_id,
                units=units,
                earned_on=new.earned_on,
                title=new.title,
                provider=new.provider,
                cost=new.cost,
                category=new.category,
                batch=logged.batch,
                proof_file_id=new.proof.file_id if new.proof else None,
                proof_kind=new.proof.kind if new.proof else None,
                proof_name=new.proof.name if new.proof else None,
            )
        )
    return logged


def undo(session: Session, trainer_id: int, batch: str) -> int:
    """Remove what one /log stored; 0 when it was undone already."""
    ids = session.exec(
        select(Credit.id)
        .join(Credential, col(Credential.id) == Credit.credential_id)
        .where(Credit.batch == batch, Credential.trainer_id == trainer_id)
    ).all()
    if ids:
        credential_ids = session.exec(
            select(Credit.credential_id).where(col(Credit.id).in_(ids))
        ).all()
        session.exec(delete(Credit).where(col(Credit.id).in_(ids)))
        _replan(session, set(credential_ids))
    return len(ids)


def _replan(session: Session, credential_ids: set[int]) -> None:
    from sqlalchemy import update as sql_update

    session.execute(
        sql_update(Credential)
        .where(col(Credential.id).in_(credential_ids))
        .values(next_nudge_at=utcnow())
    )


def get(session: Session, trainer_id: int, credit_id: int) -> tuple[Credit, Credential] | None:
    row = session.exec(
        select(Credit, Credential)
        .join(Credential, col(Credential.id) == Credit.credential_id)
        .where(Credit.id == credit_id, Credential.trainer_id == trainer_id)
    ).first()
    return (row[0], row[1]) if row else None


def page(
    session: Session, trainer_id: int, credential_id: int, number: int, size: int
) -> tuple[Credential, list[Credit], int] | None:
    """One page of a credential's credits, newest first, and how many there are."""
    credential = owned(session, trainer_id, credential_id)
    if credential is None:
        return None
    total = session.exec(
        select(func.count()).select_from(Credit).where(Credit.credential_id == credential_id)
    ).one()
    # A page past the last (a forged or an old button) is the last one, never an empty one.
    number = max(0, min(number, (int(total) - 1) // size))
    credits = list(
        session.exec(
            select(Credit)
            .where(Credit.credential_id == credential_id)
            .order_by(col(Credit.earned_on).desc(), col(Credit.id).desc())
            .offset(number * size)
            .limit(size)
        )
    )
    return credential, credits, int(total)


def update(session: Session, trainer_id: int, credit_id: int, **changes: object) -> Credit | None:
    allowed = {"units", "earned_on", "title"}
    if not changes.keys() <= allowed:
        raise ValueError(f"not an editable credit field: {sorted(changes.keys() - allowed)}")
    found = get(session, trainer_id, credit_id)
    if found is None:
        return None
    credit = found[0]
    for name, value in changes.items():
        setattr(credit, name, value)
    found[1].next_nudge_at = utcnow()  # the pace may have changed: plan again
    return credit


def remove(session: Session, trainer_id: int, credit_id: int) -> Credit | None:
    found = get(session, trainer_id, credit_id)
    if found is not None:
        session.delete(found[0])
        found[1].next_nudge_at = utcnow()  # the pace may have changed: plan again
    return found[0] if found else None


@dataclass(frozen=True)
class Progress:
    """A credential on the status screen: what counts, what it cost, per category."""

    credential: Credential
    counted: Decimal
    cost: Decimal
    categories: dict[str, Decimal]
    credits: int


# Only the columns the status needs, as plain rows, built once: building the statement and an
# ORM object per credit cost SQLAlchemy more than the query itself.
_credit = Credit.__table__.c  # type: ignore[attr-defined]
_STATUS_CREDITS = select(
    _credit.credential_id,
    _credit.units,
    _credit.earned_on,
    _credit.title,
    _credit.category,
    _credit.cost,
).where(_credit.credential_id.in_(bindparam("ids", expanding=True)))


def status(session: Session, trainer_id: int, catalog: Catalog) -> list[Progress]:
    """Everything /status shows, in two queries."""
    held = credentials_of(session, trainer_id)
    if not held:
        return []
    by_credential: dict[int, list[tuple[Earned, Decimal | None]]] = {}
    for credential_id, units, earned_on, title, category, cost in session.execute(
        _STATUS_CREDITS, {"ids": [c.id for c in held]}
    ):
        by_credential.setdefault(credential_id, []).append(
            (Earned(units, earned_on, title, category), cost)
        )
    standings = []
    for credential in held:
        in_cycle = [
            (earned, cost)
            for earned, cost in by_credential.get(credential.id or 0, [])
            if earned.earned_on >= credential.cycle_start
            and (credential.cycle_end is None or earned.earned_on <= credential.cycle_end)
        ]
        rules = fineprint_for(credential, catalog)
        earned = [item for item, _cost in in_cycle]
        categories: dict[str, Decimal] = {}
        if rules.caps:
            for credit in earned:
                key = credit.category or "?"
                categories[key] = categories.get(key, Decimal(0)) + credit.units
        standings.append(
            Progress(
                credential=credential,
                counted=counted(earned, rules),
                cost=sum((cost for _item, cost in in_cycle if cost is not None), Decimal(0)),
                categories=categories,
                credits=len(in_cycle),
            )
        )
    return standings


def everything(session: Session, trainer_id: int) -> tuple[list[Held], list[Credit]]:
    """All of a trainer's credentials and credits, for /export, in two queries."""
    held = held_by(session, trainer_id)
    ids = [h.credential.id for h in held]
    rows = (
        session.exec(
            select(Credit)
            .where(col(Credit.credential_id).in_(ids))
            .order_by(col(Credit.earned_on), col(Credit.id))
        ).all()
        if ids
        else []
    )
    return held, list(rows)


def for_audit(
    session: Session, trainer_id: int, credential_id: int, past_cycle_id: int | None
) -> tuple[Credential, Cycle, list[Credit]] | None:
    """The credits of one cycle of one credential: the current one, or a past one."""
    from storage.models import PastCycle

    credential = owned(session, trainer_id, credential_id)
    if credential is None:
        return None
    cycle = _cycle(credential)
    if past_cycle_id is not None:
        past = session.get(PastCycle, past_cycle_id)
        if past is None or past.credential_id != credential_id:
            return None
        cycle = Cycle(past.cycle_start, past.cycle_end, past.units_required)
    query = select(Credit).where(
        Credit.credential_id == credential_id, Credit.earned_on >= cycle.start
    )
    if cycle.end is not None:
        query = query.where(Credit.earned_on <= cycle.end)
    return credential, cycle, list(session.exec(query.order_by(col(Credit.earned_on))))
