"""Units of work on team events (in-house continuing education) and their attendance.

A confirmed attendance logs the event's credits through `storage.credits.log`, so the body's
fine print applies exactly as at /log (cycle window, ACE's course counted once, caps), with
the attendance record as each credit's proof. Each function takes a Session; run them with
`Database.run`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import credits
from storage.catalog import Catalog
from storage.credentials import credentials_of
from storage.models import Credential, Credit, EventAttendance, Team, TeamEvent, Trainer
from storage.types import utcnow

# What an event counts, per certifying body: units, and whether they are contact hours.
Units = dict[str, tuple[Decimal, bool]]


def units_of(event: TeamEvent) -> Units:
    return {
        body: (Decimal(value), bool(hours)) for body, (value, hours) in json.loads(event.units)
    }


def create(
    session: Session,
    team_id: int,
    title: str,
    held_on: date,
    provider: str | None,
    code: str | None,
    units: Units,
    manager_id: int,
    manager_name: str,
) -> TeamEvent:
    event = TeamEvent(
        team_id=team_id,
        title=title,
        held_on=held_on,
        provider=provider,
        code=code,
        # A list of pairs keeps the order the manager typed.
        units=json.dumps([[body, [str(value), hours]] for body, (value, hours) in units.items()]),
        manager_id=manager_id,
        manager_name=manager_name,
    )
    session.add(event)
    session.flush()
    return event


def get(session: Session, event_id: int) -> tuple[TeamEvent, Team] | None:
    """The event and its team, while the team is active; None for a forged id or a closed
    team."""
    row = session.exec(
        select(TeamEvent, Team)
        .join(Team, col(Team.id) == TeamEvent.team_id)
        .where(TeamEvent.id == event_id, Team.active)
    ).first()
    return (row[0], row[1]) if row else None


def attended(session: Session, event_id: int, trainer_id: int) -> bool:
    return (
        session.exec(
            select(EventAttendance.id).where(
                EventAttendance.event_id == event_id, EventAttendance.trainer_id == trainer_id
            )
        ).first()
        is not None
    )


def counts_toward(
    session: Session, event: TeamEvent, trainer_id: int, catalog: Catalog
) -> list[tuple[str, Credential]]:
    """The trainer's credentials the event counts for: those of a body it names."""
    bodies = {body.casefold(): body for body in units_of(event)}
    found = []
    for credential in credentials_of(session, trainer_id):
        entry = catalog.get(credential.catalog_id)
        if entry is not None and entry.body.casefold() in bodies:
            found.append((bodies[entry.body.casefold()], credential))
    return found


@dataclass
class Attendance:
    """What confirming did: nothing (`already`, or `none` when no credential of a body the
    event names is held), or the credits logged per body, each with the fine print's say."""

    already: bool = False
    none: bool = False
    logged: list[tuple[credits.Logged, credits.NewCredit]] = field(default_factory=list)


def attend(
    session: Session,
    event_id: int,
    trainer_id: int,
    proof: credits.Proof,
    catalog: Catalog,
    today: date,
) -> Attendance:
    """Record the trainer's attendance and log the event's credits toward each credential it
    counts for, with the attendance record as proof. Once per person and event."""
    found = get(session, event_id)
    if found is None:
        return Attendance(none=True)
    event = found[0]
    if attended(session, event_id, trainer_id):
        return Attendance(already=True)
    targets = counts_toward(session, event, trainer_id, catalog)
    if not targets:
        return Attendance(none=True)
    # The unique row is the claim, taken first: a confirmation on another replica at the
    # same moment inserts it or finds it, and only one of them logs.
    record = EventAttendance(
        event_id=event_id,
        trainer_id=trainer_id,
        proof_file_id=proof.file_id,
        confirmed_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        return Attendance(already=True)
    outcome = Attendance()
    batches = []
    for body, (value, hours) in units_of(event).items():
        ids = [credential.id or 0 for named, credential in targets if named == body]
        if not ids:
            continue
        new = credits.NewCredit(
            amount=credits.Amount(value, hours),
            earned_on=event.held_on,
            title=event.title,
            provider=event.provider,
            proof=proof,
            code=event.code,
        )
        logged = credits.log(session, trainer_id, ids, new, catalog, today)
        outcome.logged.append((logged, new))
        if logged.stored:
            batches.append(logged.batch)
    session.flush()
    if batches:
        # One attendance, one batch: the CSV reads its credits by it, and Undo takes all.
        record.batch = batches[0]
        if len(batches) > 1:
            session.execute(
                update(Credit).where(col(Credit.batch).in_(batches[1:])).values(batch=batches[0])
            )
    return outcome


@dataclass(frozen=True)
class Attendee:
    name: str
    confirmed_at: datetime
    logged: tuple[tuple[Credential, Decimal], ...]


def attendees(session: Session, event_id: int) -> list[Attendee]:
    """Who confirmed, first first, with what was logged for them: one query."""
    rows = session.exec(
        select(EventAttendance, col(Trainer.name), col(Credit.units), Credential)
        .join(Trainer, col(Trainer.id) == EventAttendance.trainer_id)
        .outerjoin(
            Credit,
            (col(Credit.batch) == EventAttendance.batch) & col(EventAttendance.batch).is_not(None),
        )
        .outerjoin(Credential, col(Credential.id) == Credit.credential_id)
        .where(EventAttendance.event_id == event_id)
        .order_by(col(EventAttendance.confirmed_at), col(EventAttendance.id), col(Credit.id))
    ).all()
    people: dict[int, tuple[str, datetime, list[tuple[Credential, Decimal]]]] = {}
    for attendance, name, units, credential in rows:
        _name, _at, logged = people.setdefault(
            attendance.id or 0, (name, attendance.confirmed_at, [])
        )
        if credential is not None and units is not None:
            logged.append((credential, units))
    return [Attendee(name, at, tuple(logged)) for name, at, logged in people.values()]


def recent_attendance(
    session: Session, team_id: int, limit: int = 3
) -> list[tuple[TeamEvent, list[str]]]:
    """The team's latest events with the names of those who attended, in two queries."""
    events = list(
        session.exec(
            select(TeamEvent)
            .where(TeamEvent.team_id == team_id)
            .order_by(col(TeamEvent.held_on).desc(), col(TeamEvent.id).desc())
            .limit(limit)
        )
    )
    if not events:
        return []
    names: dict[int, list[str]] = {event.id or 0: [] for event in events}
    for event_id, name in session.exec(
        select(EventAttendance.event_id, Trainer.name)
        .join(Trainer, col(Trainer.id) == EventAttendance.trainer_id)
        .where(col(EventAttendance.event_id).in_(list(names)))
        .order_by(col(EventAttendance.confirmed_at), col(EventAttendance.id))
    ):
        names[event_id].append(name)
    return [(event, names[event.id or 0]) for event in events]
