"""Units of work on credits: logging with the body's fine print, undo, history, status data.

Each function is one unit of work that returns what its screen needs, so a handler makes one
database round trip. Every function takes the owner's trainer id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, func
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, delete, select

from scheduler.certificate import same_code
from scheduler.credits import (
    Earned,
    Refusal,
    by_category,
    counted,
    excess,
    over_cap,
    refusal,
)
from scheduler.cycles import Cycle
from scheduler.standing import Holding
from storage.bundle import Bundle
from storage.catalog import Catalog
from storage.credentials import (
    Held,
    fineprint_for,
    held_by,
    holding_of,
    owned,
    plan_again,
    plan_again_all,
)
from storage.models import Credential, Credit, Nudge, Trainer

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
    currency: str | None = None  # of the cost (ISO 4217)
    category: str | None = None
    proof: Proof | None = None
    code: str | None = None  # the course or approval code printed on the certificate


@dataclass
class Outcome:
    """What happened to one credential when a credit was logged."""

    credential: Credential
    units: Decimal | None = None  # logged units; None when refused
    refused: Refusal | str | None = None  # a Refusal, "hours_unknown" or "too_small"
    over_cap: Decimal = Decimal(0)
    excess: Decimal = Decimal(0)
    counted: Decimal = Decimal(0)  # toward the requirement after this credit
    owed: Decimal | None = None  # this cycle's requirement
    last_day: date | None = None  # the last day a credit counts toward this cycle


@dataclass
class Logged:
    batch: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def stored(self) -> bool:
        return any(outcome.units is not None for outcome in self.outcomes)


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


# The credits a cycle counts, as the fine print needs them; built once (see `_STATUS`).
_CYCLE_EARNED = (
    # SQLModel's select refuses optional columns in its types; the rows may hold None.
    select(Credit.units, Credit.earned_on, Credit.title, Credit.category)  # type: ignore[call-overload]
    .where(
        Credit.credential_id == bindparam("credential_id"),
        col(Credit.earned_on) >= bindparam("start"),
        col(Credit.earned_on) <= bindparam("end"),
    )
    .order_by(col(Credit.earned_on), col(Credit.id))
)


def cycle_earned(session: Session, credential: Credential, last_day: date | None) -> list[Earned]:
    """What counts toward the current cycle so far (earned up to `last_day`), oldest first."""
    rows = session.execute(
        _CYCLE_EARNED,
        {
            "credential_id": credential.id,
            "start": credential.cycle_start,
            "end": last_day or date.max,
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
    known: Mapping[int, Sequence[Earned]] | None = None,
) -> Logged:
    """Log one course toward each credential, where the body's rules let it count. `known`:
    every credit of those credentials, oldest first, as `held_by` just read them in this unit
    of work (`Held.earned`): then they are not read again."""
    logged = Logged(uuid.uuid4().hex)
    for credential_id in credential_ids:
        credential = owned(session, trainer_id, credential_id)
        if credential is None:
            continue
        holding = holding_of(credential, catalog)
        rules, last_day = holding.fineprint, holding.credits_until
        outcome = Outcome(credential, owed=holding.cycle.units_required, last_day=last_day)
        logged.outcomes.append(outcome)
        units = units_for(credential, new.amount, catalog)
        existing = (
            holding.earned_in_cycle(known[credential_id])
            if known is not None and credential_id in known
            else cycle_earned(session, credential, last_day)
        )
        if units is None or units <= 0:
            # Hours it cannot convert, or too few for a hundredth of a unit once converted.
            outcome.refused = "hours_unknown" if units is None else "too_small"
            outcome.counted = counted(existing, rules)
            continue
        candidate = Earned(units, new.earned_on, new.title, new.category)
        outcome.refused = refusal(holding.cycle, existing, candidate, rules, today, last_day)
        if (
            outcome.refused is None
            and rules.no_repeats
            and new.code
            and _repeats_code(session, credential, new.code)
        ):
            outcome.refused = Refusal.REPEAT
        before = counted(existing, rules)
        if outcome.refused is not None:
            outcome.counted = before
            continue
        outcome.over_cap = over_cap(existing, candidate, rules)
        outcome.excess = excess(outcome.owed, before, units - outcome.over_cap)
        outcome.units = units
        outcome.counted = counted([*existing, candidate], rules)
        plan_again(credential)  # pace may have changed
        session.add(
            Credit(
                credential_id=credential_id,
                units=units,
                earned_on=new.earned_on,
                title=new.title,
                provider=new.provider,
                cost=new.cost,
                cost_currency=new.currency if new.cost is not None else None,
                category=new.category,
                batch=logged.batch,
                proof_file_id=new.proof.file_id if new.proof else None,
                proof_kind=new.proof.kind if new.proof else None,
                proof_name=new.proof.name if new.proof else None,
                course_code=new.code,
            )
        )
    return logged


def _repeats_code(
    session: Session, credential: Credential, code: str, other_than: int | None = None
) -> bool:
    """The same course code already counted in this cycle (ACE: a course counts once, and
    its code names it whatever title the trainer typed)."""
    query = select(Credit.course_code).where(
        Credit.credential_id == credential.id,
        col(Credit.earned_on) >= credential.cycle_start,
        col(Credit.earned_on) <= (credential.cycle_end or date.max),
        col(Credit.course_code).is_not(None),
    )
    if other_than is not None:
        query = query.where(Credit.id != other_than)
    return any(same_code(found, code) for found in session.exec(query).all())


def add_code(
    session: Session, trainer_id: int, proof_file_id: str, code: str, catalog: Catalog
) -> list[tuple[Credential, str | None]]:
    """The course code read from a proof after it was logged, added to the credits logged
    with it. Returns where it repeats a course already counted this cycle by a body that
    counts each course once (the credential and the batch, to undo)."""
    rows = session.exec(
        select(Credit, Credential)
        .join(Credential, col(Credential.id) == Credit.credential_id)
        .where(
            Credit.proof_file_id == proof_file_id,
            Credential.trainer_id == trainer_id,
            col(Credit.course_code).is_(None),
        )
    ).all()
    repeats = []
    for credit, credential in rows:
        if fineprint_for(credential, catalog).no_repeats and _repeats_code(
            session, credential, code, other_than=credit.id
        ):
            repeats.append((credential, credit.batch))
        credit.course_code = code
    return repeats


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
        plan_again_all(session, credential_ids=set(credential_ids))
    return len(ids)


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
    plan_again(found[1])  # the pace may have changed
    return credit


def remove(session: Session, trainer_id: int, credit_id: int) -> Credit | None:
    found = get(session, trainer_id, credit_id)
    if found is not None:
        session.delete(found[0])
        plan_again(found[1])  # the pace may have changed
    return found[0] if found else None


@dataclass(frozen=True)
class Progress:
    """A credential on the status screen: the core's view of it, its credits (the core says
    which count), this cycle's recorded reminders, and what the cycle cost per category."""

    credential: Credential
    holding: Holding
    earned: list[Earned]
    recorded: frozenset[str]
    cost: dict[str | None, Decimal]  # per currency (None: logged before currencies were kept)
    categories: dict[str, Decimal]
    credits: int


# Everything /status reads, in one statement (one round trip on PostgreSQL): the trainer, their
# credentials, those credentials' credits (only the columns the status needs) and their current
# cycles' recorded reminders. Plain rows, built once: building statements and an ORM object per
# credit cost SQLAlchemy more than the queries themselves.
_credentials = Credential.__table__  # type: ignore[attr-defined]
_credential = _credentials.c
_credit = Credit.__table__.c  # type: ignore[attr-defined]
_nudge = Nudge.__table__.c  # type: ignore[attr-defined]
_trainer = Trainer.__table__.c  # type: ignore[attr-defined]
_TRAINER_ID: BindParameter[int] = bindparam("trainer_id")


def _of_trainers_credentials(table: Any, *where: Any) -> Callable[[Select[Any]], Select[Any]]:
    """A part's FROM and WHERE: the rows of `table` that belong to the trainer's credentials."""
    return lambda s: s.select_from(
        table.join(_credentials, table.c.credential_id == _credential.id)
    ).where(_credential.trainer_id == _TRAINER_ID, *where)


_STATUS = Bundle(
    {
        "trainer": (list(_trainer), lambda s: s.where(_trainer.id == _TRAINER_ID)),
        "credential": (
            list(_credential),
            lambda s: s.where(_credential.trainer_id == _TRAINER_ID),
        ),
        "credit": (
            [
                _credit.id,
                _credit.credential_id,
                _credit.units,
                _credit.earned_on,
                _credit.title,
                _credit.category,
                _credit.cost,
                _credit.cost_currency,
            ],
            _of_trainers_credentials(Credit.__table__),  # type: ignore[attr-defined]
        ),
        # What the core reads of a cycle's recorded reminders (`holding_of`).
        "nudge": (
            [
                _nudge.credential_id,
                _nudge.cycle_end,
                _nudge.milestone,
                _nudge.status,
                _nudge.answered,
                _nudge.sent_at,
                _nudge.due_at,
            ],
            _of_trainers_credentials(
                Nudge.__table__,  # type: ignore[attr-defined]
                _nudge.cycle_end.is_not_distinct_from(_credential.cycle_end),
            ),
        ),
    }
)


def _costs(
    every: list[tuple[Earned, Decimal | None, str | None]], counted_ids: set[int]
) -> dict[str | None, Decimal]:
    """What the credits counted this cycle cost, per currency."""
    costs: dict[str | None, Decimal] = {}
    for item, cost, currency in every:
        if cost is not None and id(item) in counted_ids:
            costs[currency] = costs.get(currency, Decimal(0)) + cost
    return costs


def status(connection: Connection | Session, trainer_id: int, catalog: Catalog) -> list[Progress]:
    """Everything /status shows (`status_with_trainer` without the trainer)."""
    return status_with_trainer(connection, trainer_id, catalog)[1]


def status_with_trainer(
    connection: Connection | Session, trainer_id: int, catalog: Catalog
) -> tuple[Trainer | None, list[Progress]]:
    """The trainer (a plain row, or None) and everything /status shows, in one statement: a
    read, so it runs on a connection (`Database.read`) without an ORM session. The rows read
    like the models (`credential.cycle_end`, `trainer.time_zone`)."""
    found = _STATUS.read(connection, {"trainer_id": trainer_id})
    trainer = found["trainer"][0] if found["trainer"] else None
    # Soonest deadline first, as `credentials_of` orders them.
    held = sorted(
        found["credential"], key=lambda c: (c.cycle_end is None, c.cycle_end or date.min, c.id)
    )
    by_credential: dict[int, list[tuple[Earned, Decimal | None, str | None]]] = {}
    # In the order every other reader counts them (a cap takes the earliest first).
    credit_rows = sorted(found["credit"], key=lambda c: (c.earned_on, c.id))
    for _id, credential_id, units, earned_on, title, category, cost, currency in credit_rows:
        by_credential.setdefault(credential_id, []).append(
            (Earned(units, earned_on, title, category), cost, currency)
        )
    recorded: dict[int, list[Any]] = {}
    for nudge in found["nudge"]:
        recorded.setdefault(nudge.credential_id, []).append(nudge)
    standings = []
    for credential in held:
        mine = recorded.get(credential.id or 0, [])
        holding = holding_of(credential, catalog, mine)
        every = by_credential.get(credential.id or 0, [])
        earned = [item for item, _cost, _currency in every]
        in_cycle = holding.earned_in_cycle(earned)
        counted_ids = {id(item) for item in in_cycle}
        categories: dict[str, Decimal] = {}
        if holding.fineprint.caps:
            categories = by_category(in_cycle)
        standings.append(
            Progress(
                credential=credential,
                holding=holding,
                earned=earned,
                recorded=frozenset(n.milestone for n in mine),
                cost=_costs(every, counted_ids),
                categories=categories,
                credits=len(in_cycle),
            )
        )
    return trainer, standings


def everything(
    session: Session, trainer_id: int, catalog: Catalog
) -> tuple[list[Held], list[Credit]]:
    """All of a trainer's credentials and credits, for /export, in two queries."""
    held = held_by(session, trainer_id, catalog)
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
