"""Units of work for nudges: claim what is due, record how sending went, and the trainer's
answers (snooze, stop). The database is the schedule: each nudge is a row, claimed with a
lease before it is sent; the unique (credential, cycle end, milestone) row decides between
running copies of the bot, not luck."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select as select_rows
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from scheduler.credits import Earned
from scheduler.plan import Milestone, Prefs, due, next_at
from scheduler.standing import Standing, cpr_covers, standing_of, subject_for
from storage.catalog import Catalog, CatalogEntry
from storage.credentials import plan_again, plan_again_all
from storage.credits import holding_of
from storage.models import Credential, Credit, Nudge, Trainer

LEASE = timedelta(minutes=5)


@dataclass
class Claim:
    """A nudge this worker may send now, with what its message needs."""

    nudge_id: int
    milestone: Milestone
    trainer_id: int
    language: str
    zone: str
    credential: Credential
    standing: Standing
    entry: CatalogEntry | None = None
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


@dataclass
class _Batch:
    """What the sweep needs of the credentials it looks at, read in one query per table (its
    cost follows what is due, not how many trainers there are)."""

    recorded: dict[int, dict[str, Nudge]]  # credential id -> milestone -> nudge, this cycle
    earned: dict[int, list[Earned]]  # credential id -> its credits
    held: dict[int, list[tuple[str | None, date | None]]]  # trainer -> (catalog id, cycle end)


def _read_batch(session: Session, credentials: list[Credential]) -> _Batch:
    by_id = {c.id: c for c in credentials if c.id is not None}  # stored rows: all have one
    ids = list(by_id)
    recorded: dict[int, dict[str, Nudge]] = {i: {} for i in ids}
    for nudge in session.exec(select(Nudge).where(col(Nudge.credential_id).in_(ids))):
        if nudge.cycle_end == by_id[nudge.credential_id].cycle_end:
            recorded[nudge.credential_id][nudge.milestone] = nudge
    earned: dict[int, list[Earned]] = {i: [] for i in ids}
    # Plain rows through SQLAlchemy's select: SQLModel's is typed for at most four columns.
    rows = session.execute(
        select_rows(
            col(Credit.credential_id),
            col(Credit.units),
            col(Credit.earned_on),
            col(Credit.title),
            col(Credit.category),
        )
        .where(col(Credit.credential_id).in_(ids))
        .order_by(col(Credit.earned_on), col(Credit.id))
    )
    for credential_id, units, earned_on, title, category in rows:
        # Every credit: the core decides which count toward the cycle (its window may reach
        # past the deadline).
        earned[credential_id].append(Earned(units, earned_on, title, category))
    held: dict[int, list[tuple[str | None, date | None]]] = {}
    trainer_ids = {c.trainer_id for c in credentials}
    for trainer_id, catalog_id, cycle_end in session.execute(
        select_rows(
            col(Credential.trainer_id), col(Credential.catalog_id), col(Credential.cycle_end)
        ).where(col(Credential.trainer_id).in_(trainer_ids))
    ):
        held.setdefault(trainer_id, []).append((catalog_id, cycle_end))
    return _Batch(recorded, earned, held)


def _cpr_context(
    held: list[tuple[str | None, date | None]],
    catalog: Catalog,
    credential: Credential,
    today: date,
) -> tuple[tuple[str, ...], bool | None]:
    """For a card: the held certifications that need it. For a certification that needs a
    card: whether one is current."""
    entry = catalog.get(credential.catalog_id)
    if entry is None:
        return (), None
    if entry.is_cpr:
        names = tuple(
            other.name
            for catalog_id, _end in held
            if (other := catalog.get(catalog_id)) and other.cpr_aed_required
        )
        return names, None
    if not entry.cpr_aed_required:
        return (), None
    cards = [end for catalog_id, end in held if (card := catalog.get(catalog_id)) and card.is_cpr]
    return (), cpr_covers(cards, today)


def _expired_leases(session: Session, now: datetime, worker: str, limit: int) -> list[Nudge]:
    """Nudges whose claimer stopped mid-send: taken over, in one statement. The condition is
    checked again on the row itself, so of two copies only one takes each."""
    stale = (
        select(Nudge.id)
        .where(Nudge.status == "claimed", col(Nudge.lease_until) < now)
        .limit(limit)
        .scalar_subquery()
    )
    taken = session.execute(
        update(Nudge)
        .where(
            col(Nudge.id).in_(stale), col(Nudge.status) == "claimed", col(Nudge.lease_until) < now
        )
        .values(claimed_by=worker, lease_until=now + LEASE, attempts=Nudge.attempts + 1)
        .returning(col(Nudge.id))
    ).scalars()
    ids = list(taken)
    return list(session.exec(select(Nudge).where(col(Nudge.id).in_(ids)))) if ids else []


def _insert_nudges(session: Session, rows: list[dict[str, object]]) -> dict[tuple[int, str], int]:
    """Insert the rows no copy has yet; (credential id, milestone) -> id of those we inserted.
    One statement built once per dialect, run for all rows (SQLAlchemy batches the VALUES)."""
    if not rows:
        return {}
    table = Nudge.__table__  # type: ignore[attr-defined]
    insert = (
        postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["credential_id", "cycle_end", "milestone"])
        .returning(table.c.id, table.c.credential_id, table.c.milestone)
    )
    inserted = session.execute(statement, rows)
    return {(cid, milestone): nid for nid, cid, milestone in inserted}


def claim_due(
    session: Session,
    catalog: Catalog,
    now: datetime,
    worker: str,
    default_zone: str,
    limit: int = 500,
) -> Sweep:
    """Claim what is due now: leases that ran out (a copy stopped mid-send), then the most
    urgent due milestone of each credential whose next nudge time has come. A constant number
    of statements, whatever is due: each read and each write covers the whole batch."""
    sweep = Sweep()
    retaken = _expired_leases(session, now, worker, limit)
    rows = list(
        session.exec(
            select(Credential, Trainer)
            .join(Trainer, col(Trainer.id) == Credential.trainer_id)
            .where(col(Credential.next_nudge_at) <= now, Trainer.active)
            .order_by(col(Credential.next_nudge_at))
            .limit(limit)
        ).all()
    )
    known = {credential.id: (credential, trainer) for credential, trainer in rows}
    missing = {n.credential_id for n in retaken} - known.keys()
    if missing:
        for credential, trainer in session.exec(
            select(Credential, Trainer)
            .join(Trainer, col(Trainer.id) == Credential.trainer_id)
            .where(col(Credential.id).in_(missing))
        ):
            known[credential.id] = (credential, trainer)
    if not known:
        return sweep
    batch = _read_batch(session, [credential for credential, _trainer in known.values()])

    plans = []  # (credential, trainer, prefs, holding, subject, what is owed now)
    claimed_rows: list[dict[str, object]] = []
    for credential, trainer in rows:
        sweep.planned += 1
        assert credential.id is not None
        prefs = prefs_of(trainer, default_zone)
        recorded = batch.recorded[credential.id]
        holding = holding_of(credential, catalog, recorded.values())
        subject = subject_for(holding, batch.earned[credential.id], prefs, now)
        owed_now = due(subject, prefs, now, recorded.keys()) if credential.cycle_end else []
        plans.append((credential, trainer, prefs, holding, subject, owed_now))
        if owed_now:
            claimed_rows.append(
                dict(
                    credential_id=credential.id,
                    cycle_end=credential.cycle_end,
                    milestone=owed_now[0].milestone.key,
                    due_at=owed_now[0].due_at,
                    status="claimed",
                    claimed_by=worker,
                    lease_until=now + LEASE,
                    attempts=0,
                    answered=False,
                    repeats=0,
                )
            )
    won = _insert_nudges(session, claimed_rows)

    skipped_rows: list[dict[str, object]] = []
    for credential, trainer, prefs, holding, subject, owed_now in plans:
        assert credential.id is not None
        recorded = batch.recorded[credential.id]
        taken = recorded.keys() | {item.milestone.key for item in owed_now}
        if owed_now:
            first, rest = owed_now[0], owed_now[1:]
            nudge_id = won.get((credential.id, first.milestone.key))
            if nudge_id is None:
                continue  # another copy claimed it first: it plans this credential
            skipped_rows.extend(  # after downtime: no floods
                dict(
                    credential_id=credential.id,
                    cycle_end=credential.cycle_end,
                    milestone=item.milestone.key,
                    due_at=item.due_at,
                    status="skipped",
                    attempts=0,
                    answered=False,
                    repeats=0,
                )
                for item in rest
            )
            sweep.skipped += len(rest)
            if first.milestone.final_week:
                # Being sent now: until it is answered, the final week repeats it daily.
                holding = replace(holding, final_unanswered_at=now)
                subject = replace(subject, final_unanswered_since=prefs.today(now))
            sweep.claims.append(
                _claim(
                    nudge_id,
                    first.milestone,
                    credential,
                    trainer,
                    prefs,
                    standing_of(holding, batch.earned[credential.id], prefs, now, taken),
                    catalog,
                )
            )
        credential.next_nudge_at = next_at(subject, prefs, now, taken)
    _insert_nudges(session, skipped_rows)

    resumed = []
    for nudge in retaken:
        credential, trainer = known[nudge.credential_id]
        prefs = prefs_of(trainer, default_zone)
        holding = holding_of(credential, catalog)
        state = standing_of(holding, batch.earned[nudge.credential_id], prefs, now)
        resumed.append(
            _claim(
                nudge.id or 0,
                Milestone.parse(nudge.milestone),
                credential,
                trainer,
                prefs,
                state,
                catalog,
            )
        )
    sweep.claims[:0] = resumed
    for claim in sweep.claims:
        today = now.astimezone(ZoneInfo(claim.zone)).date()
        held = batch.held.get(claim.trainer_id, [])
        claim.at_risk, claim.cpr_current = _cpr_context(held, catalog, claim.credential, today)
    return sweep


def _claim(
    nudge_id: int,
    milestone: Milestone,
    credential: Credential,
    trainer: Trainer,
    prefs: Prefs,
    state: Standing,
    catalog: Catalog,
) -> Claim:
    return Claim(
        nudge_id,
        milestone,
        trainer.id,
        trainer.language,
        prefs.zone,
        credential,
        state,
        catalog.get(credential.catalog_id),
    )


@dataclass(frozen=True)
class Result:
    nudge_id: int
    outcome: str  # "sent", "failed", "retry", "blocked"
    message_id: int | None = None
    retry_at: datetime | None = None
    trainer_id: int | None = None


def record(session: Session, results: list[Result], now: datetime) -> None:
    """How each send went, in one unit of work (one read for all of them)."""
    ids = [result.nudge_id for result in results]
    found = {n.id: n for n in session.exec(select(Nudge).where(col(Nudge.id).in_(ids)))}
    blocked = {r.trainer_id for r in results if r.outcome == "blocked" and r.trainer_id}
    for result in results:
        nudge = found.get(result.nudge_id)
        if nudge is None:
            continue
        if result.outcome == "sent":
            nudge.status, nudge.sent_at, nudge.message_id = "sent", now, result.message_id
            nudge.lease_until = None
        elif result.outcome == "retry":
            nudge.lease_until = result.retry_at  # stays claimed: the lease's end is the retry
        else:
            nudge.status, nudge.lease_until = "failed", None
    if blocked:
        session.execute(update(Trainer).where(col(Trainer.id).in_(blocked)).values(active=False))


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
    plan_again(credential)
    return credential


def stop(
    session: Session, trainer_id: int, credential_id: int, stopped: bool
) -> Credential | None:
    credential = session.get(Credential, credential_id)
    if credential is None or credential.trainer_id != trainer_id:
        return None
    credential.nudges_stopped = stopped
    plan_again(credential)  # stopped: the sweep plans nothing and clears it
    return credential


def replan_trainer(session: Session, trainer_id: int, now: datetime) -> None:
    """Settings changed (hour, zone, intensity): every credential is planned again."""
    plan_again_all(session, trainer_id=trainer_id)


def keep_lease(session: Session, nudge_id: int, worker: str, now: datetime) -> bool:
    """Right before sending: still ours? A long sweep can outlive a lease, and then another
    copy may have taken the nudge over."""
    taken = session.execute(
        update(Nudge)
        .where(
            col(Nudge.id) == nudge_id,
            col(Nudge.claimed_by) == worker,
            col(Nudge.status) == "claimed",
        )
        .values(lease_until=now + LEASE)
    )
    return taken.rowcount == 1  # type: ignore[attr-defined,no-any-return]
