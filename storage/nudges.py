"""Units of work for nudges: claim what is due, record how sending went, and the trainer's
answers (snooze, stop). The database is the schedule: each nudge is a row, claimed with a
lease before it is sent; the unique (credential, cycle end, milestone) row decides between
running copies of the bot, not luck."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from scheduler.credits import Earned, counted
from scheduler.cycles import Cycle
from scheduler.plan import Prefs, Subject, due, next_at
from storage.catalog import Catalog
from storage.credits import cycle_credits, fineprint_for
from storage.models import Credential, Nudge, Trainer
from storage.types import utcnow

LEASE = timedelta(minutes=5)
FINAL = {"d7", "d6", "d5", "d4", "d3", "d2", "d1", "d0"}


def _in_final_week(milestone: str) -> bool:
    """Reminders whose silence the final week repeats (a snooze counts: it was promised)."""
    return milestone in FINAL or milestone.startswith(("repeat", "snooze"))


@dataclass(frozen=True)
class Claim:
    """A nudge this worker may send now, with what its message needs."""

    nudge_id: int
    milestone: str
    trainer_id: int
    language: str
    zone: str
    credential: Credential
    counted: Decimal
    # For a CPR/AED card: the held certifications that need it.
    at_risk: tuple[str, ...] = ()
    cpr_current: bool | None = None  # for certifications that need a card: is one current?


@dataclass
class Sweep:
    claims: list[Claim] = field(default_factory=list)
    skipped: int = 0
    planned: int = 0  # credentials looked at


def prefs_of(trainer: Trainer, default_zone: str) -> Prefs:
    return Prefs(
        trainer.time_zone or default_zone,
        trainer.reminder_hour,
        trainer.nudge_intensity,
        trainer.quiet_start,
        trainer.quiet_end,
    )


def _recorded(session: Session, credential: Credential) -> dict[str, Nudge]:
    rows = session.exec(
        select(Nudge).where(
            Nudge.credential_id == credential.id, Nudge.cycle_end == credential.cycle_end
        )
    )
    return {row.milestone: row for row in rows}


def subject_of(
    session: Session, credential: Credential, catalog: Catalog, recorded: dict[str, Nudge]
) -> Subject:
    entry = catalog.get(credential.catalog_id)
    earned = [
        Earned(c.units, c.earned_on, c.title, c.category)
        for c in cycle_credits(session, credential)
    ]
    final = [
        n
        for n in recorded.values()
        if (n.milestone in FINAL or n.milestone.startswith("repeat")) and n.status == "sent"
    ]
    return Subject(
        cycle=Cycle(credential.cycle_start, credential.cycle_end, credential.units_required),
        grace_days=entry.rule.grace_period_days if entry else None,
        counted=counted(earned, fineprint_for(credential, catalog)),
        cycle_set_at=credential.cycle_set_at,
        snoozed_until=credential.snoozed_until,
        stopped=credential.nudges_stopped,
        final_unanswered=bool(final) and not any(n.answered for n in final),
    )


def _cpr_context(
    session: Session, trainer_id: int, catalog: Catalog, credential: Credential, today: date
) -> tuple[tuple[str, ...], bool | None]:
    entry = catalog.get(credential.catalog_id)
    if entry is None:
        return (), None
    held = session.exec(select(Credential).where(Credential.trainer_id == trainer_id)).all()
    if entry.is_cpr:
        names = tuple(
            other.name
            for c in held
            if (other := catalog.get(c.catalog_id)) and other.cpr_aed_required
        )
        return names, None
    if not entry.cpr_aed_required:
        return (), None
    cards = [c for c in held if (card := catalog.get(c.catalog_id)) and card.is_cpr]
    return (), any(c.cycle_end is None or c.cycle_end >= today for c in cards)


def claim_due(
    session: Session,
    catalog: Catalog,
    now: datetime,
    worker: str,
    default_zone: str,
    limit: int = 500,
) -> Sweep:
    """Claim what is due now: leases that ran out (a copy stopped mid-send), then the most
    urgent due milestone of each credential whose next nudge time has come."""
    sweep = Sweep()
    lease_until = now + LEASE
    expired = session.exec(
        select(Nudge.id)
        .where(Nudge.status == "claimed", col(Nudge.lease_until) < now)
        .limit(limit)
    ).all()
    for nudge_id in expired:
        taken = session.execute(
            update(Nudge)
            .where(
                col(Nudge.id) == nudge_id, Nudge.status == "claimed", col(Nudge.lease_until) < now
            )
            .values(claimed_by=worker, lease_until=lease_until, attempts=Nudge.attempts + 1)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            nudge = session.get(Nudge, nudge_id)
            assert nudge is not None
            claim = _claim(session, catalog, nudge, now, default_zone)
            if claim is not None:
                sweep.claims.append(claim)
    rows = session.exec(
        select(Credential, Trainer)
        .join(Trainer, col(Trainer.id) == Credential.trainer_id)
        .where(col(Credential.next_nudge_at) <= now, Trainer.active)
        .order_by(col(Credential.next_nudge_at))
        .limit(limit)
    ).all()
    for credential, trainer in rows:
        sweep.planned += 1
        prefs = prefs_of(trainer, default_zone)
        recorded = _recorded(session, credential)
        subject = subject_of(session, credential, catalog, recorded)
        owed_now = due(subject, prefs, now, recorded.keys())
        if owed_now and credential.cycle_end is not None:
            first, rest = owed_now[0], owed_now[1:]
            try:
                with session.begin_nested():
                    nudge = Nudge(
                        credential_id=credential.id,
                        cycle_end=credential.cycle_end,
                        milestone=first.milestone,
                        due_at=first.due_at,
                        status="claimed",
                        claimed_by=worker,
                        lease_until=lease_until,
                    )
                    session.add(nudge)
                    for item in rest:  # after downtime: no floods
                        session.add(
                            Nudge(
                                credential_id=credential.id,
                                cycle_end=credential.cycle_end,
                                milestone=item.milestone,
                                due_at=item.due_at,
                                status="skipped",
                            )
                        )
                    session.flush()
            except IntegrityError:
                continue  # another copy claimed it first
            sweep.skipped += len(rest)
            recorded.update({item.milestone: nudge for item in owed_now})
            if _in_final_week(first.milestone):
                # Being sent now: until it is answered, the final week repeats it daily.
                subject = replace(subject, final_unanswered=True)
            claim = _claim(
                session, catalog, nudge, now, default_zone, credential, trainer, subject.counted
            )
            if claim is not None:
                sweep.claims.append(claim)
        credential.next_nudge_at = next_at(subject, prefs, now, recorded.keys())
    return sweep


def _claim(
    session: Session,
    catalog: Catalog,
    nudge: Nudge,
    now: datetime,
    default_zone: str,
    credential: Credential | None = None,
    trainer: Trainer | None = None,
    counted_units: Decimal | None = None,
) -> Claim | None:
    credential = credential or session.get(Credential, nudge.credential_id)
    if credential is None:
        return None
    trainer = trainer or session.get(Trainer, credential.trainer_id)
    if trainer is None:
        return None
    if counted_units is None:
        counted_units = subject_of(session, credential, catalog, {}).counted
    prefs = prefs_of(trainer, default_zone)
    today = now.astimezone(ZoneInfo(prefs.zone)).date()
    at_risk, cpr_current = _cpr_context(session, trainer.id, catalog, credential, today)
    return Claim(
        nudge.id or 0,
        nudge.milestone,
        trainer.id,
        trainer.language,
        prefs.zone,
        credential,
        counted_units,
        at_risk,
        cpr_current,
    )


@dataclass(frozen=True)
class Result:
    nudge_id: int
    outcome: str  # "sent", "failed", "retry", "blocked"
    message_id: int | None = None
    retry_at: datetime | None = None
    trainer_id: int | None = None


def record(session: Session, results: list[Result], now: datetime) -> None:
    """How each send went, in one unit of work."""
    for result in results:
        nudge = session.get(Nudge, result.nudge_id)
        if nudge is None:
            continue
        if result.outcome == "sent":
            nudge.status, nudge.sent_at, nudge.message_id = "sent", now, result.message_id
            nudge.lease_until = None
        elif result.outcome == "retry":
            nudge.lease_until = result.retry_at  # stays claimed: the lease's end is the retry
        else:
            nudge.status, nudge.lease_until = "failed", None
        if result.outcome == "blocked" and result.trainer_id is not None:
            trainer = session.get(Trainer, result.trainer_id)
            if trainer is not None:
                trainer.active = False


def owned_nudge(
    session: Session, trainer_id: int, nudge_id: int
) -> tuple[Nudge, Credential] | None:
    row = session.exec(
        select(Nudge, Credential)
        .join(Credential, col(Credential.id) == Nudge.credential_id)
        .where(Nudge.id == nudge_id, Credential.trainer_id == trainer_id)
    ).first()
    return (row[0], row[1]) if row else None


def answer(session: Session, trainer_id: int, nudge_id: int) -> tuple[Nudge, Credential] | None:
    """The trainer pressed a button on this nudge: it (and its cycle's repeats) are answered."""
    found = owned_nudge(session, trainer_id, nudge_id)
    if found is None:
        return None
    nudge, credential = found
    for other in session.exec(
        select(Nudge).where(
            Nudge.credential_id == credential.id, Nudge.cycle_end == nudge.cycle_end
        )
    ):
        other.answered = True
    return found


def snooze(session: Session, trainer_id: int, nudge_id: int, until: datetime) -> Credential | None:
    found = answer(session, trainer_id, nudge_id)
    if found is None:
        return None
    credential = found[1]
    credential.snoozed_until = until
    credential.next_nudge_at = until
    return credential


def stop(
    session: Session, trainer_id: int, credential_id: int, stopped: bool
) -> Credential | None:
    credential = session.get(Credential, credential_id)
    if credential is None or credential.trainer_id != trainer_id:
        return None
    credential.nudges_stopped = stopped
    credential.next_nudge_at = None if stopped else utcnow()
    return credential


def replan_trainer(session: Session, trainer_id: int, now: datetime) -> None:
    """Settings changed (hour, zone, intensity): every credential is planned again."""
    session.execute(
        update(Credential)
        .where(col(Credential.trainer_id) == trainer_id)
        .values(next_nudge_at=now)
    )


def keep_lease(session: Session, nudge_id: int, worker: str, now: datetime) -> bool:
    """Right before sending: still ours? A long sweep can outlive a lease, and then another
    copy may have taken the nudge over."""
    taken = session.execute(
        update(Nudge)
        .where(col(Nudge.id) == nudge_id, Nudge.claimed_by == worker, Nudge.status == "claimed")
        .values(lease_until=now + LEASE)
    )
    return taken.rowcount == 1  # type: ignore[attr-defined,no-any-return]
