"""Units of work on teams: set-up, managers, members' consent, what a team may see, and what
the team job owes (digests, alerts, escalations). Each takes a Session; run them with
`Database.run`. What a team sees is built here from a member's own credentials and never
includes credential numbers or proofs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from scheduler.standing import standing_on
from scheduler.team import (
    ESCALATE_AFTER,
    ESCALATE_MILESTONE,
    ESCALATE_WITHIN,
    Member,
    Renewal,
    Shared,
    escalation_due,
    next_daily,
    next_digest,
    same_week,
)
from storage import credits
from storage.catalog import Catalog
from storage.models import (
    Credential,
    Nudge,
    PastCycle,
    Team,
    TeamAlert,
    TeamManager,
    TeamMember,
    Trainer,
)
from storage.types import utcnow

SHARED, DECLINED, LEFT = "shared", "declined", "left"
ADMIN, GRANTED = "admin", "granted"


def new_token() -> str:
    """22 URL-safe characters (128 random bits): fits a /start payload and callback data."""
    return secrets.token_urlsafe(16)


# -- teams -----------------------------------------------------------------------------------


def get(session: Session, team_id: int) -> Team | None:
    return session.get(Team, team_id)


def by_chat(session: Session, chat_id: int) -> Team | None:
    return session.exec(select(Team).where(Team.chat_id == chat_id)).first()


def by_token(session: Session, token: str) -> Team | None:
    """The active team whose Join link carries `token`; None for a forged, replaced or
    deactivated team's link."""
    if not token:
        return None
    return session.exec(select(Team).where(Team.join_token == token, Team.active)).first()


def _reschedule(team: Team, now: datetime) -> None:
    team.next_digest_at = next_digest(
        team.time_zone, team.digest_weekday, team.digest_hour, now, team.last_digest_on
    )
    team.next_check_at = next_daily(team.time_zone, team.digest_hour, now)


def set_up(
    session: Session,
    chat_id: int,
    title: str,
    language: str,
    zone: str,
    admin_id: int,
    now: datetime,
) -> tuple[Team, bool]:
    """The team of this group, created (or made active again, keeping its settings and
    members); the admin who ran /team is recorded as a manager. Returns (team, created)."""
    team = by_chat(session, chat_id)
    created = team is None
    if team is None:
        team = Team(
            chat_id=chat_id,
            title=title[:128],
            language=language,
            time_zone=zone,
            join_token=new_token(),
            created_by=admin_id,
        )
        session.add(team)
    elif not team.active:
        team.active = True
        team.join_token = new_token()  # links of the old life do not come back
    team.title = title[:128]
    team.updated_at = now
    _reschedule(team, now)
    session.flush()
    assert team.id is not None
    note_manager(session, team.id, admin_id, ADMIN)
    return team, created


def configure(
    session: Session,
    team_id: int,
    now: datetime,
    *,
    weekday: int | None = None,
    hour: int | None = None,
    zone: str | None = None,
) -> Team | None:
    team = session.get(Team, team_id)
    if team is None or not team.active:
        return None
    if weekday is not None:
        team.digest_weekday = weekday
    if hour is not None:
        team.digest_hour = hour
    if zone is not None:
        team.time_zone = zone
    team.updated_at = now
    _reschedule(team, now)
    return team


def replace_token(session: Session, team_id: int) -> Team | None:
    """A new Join link; the old one stops working at once."""
    team = session.get(Team, team_id)
    if team is None or not team.active:
        return None
    team.join_token = new_token()
    team.updated_at = utcnow()
    return team


def deactivate(session: Session, chat_id: int) -> Team | None:
    """The bot was removed from the group: nothing more is sent or shown, and everyone's
    sharing ends (set up again later, the team asks each trainer anew)."""
    team = by_chat(session, chat_id)
    if team is not None and team.active:
        now = utcnow()
        team.active = False
        team.next_digest_at = team.next_check_at = None
        team.updated_at = now
        session.execute(
            update(TeamMember)
            .where(col(TeamMember.team_id) == team.id, col(TeamMember.status) == SHARED)
            .values(status=LEFT, consented_at=None, updated_at=now)
        )
        # Roles end with the team: set up again, nobody keeps an old grant.
        session.execute(delete(TeamManager).where(col(TeamManager.team_id) == team.id))
    return team


def migrate(session: Session, old_chat_id: int, new_chat_id: int) -> Team | None:
    """The group became a supergroup with a new id: the team follows it (idempotent, as both
    the old and the new chat announce the move)."""
    team = by_chat(session, old_chat_id)
    if team is None or by_chat(session, new_chat_id) is not None:
        return by_chat(session, new_chat_id)
    team.chat_id = new_chat_id
    team.updated_at = utcnow()
    return team


def retitle(session: Session, chat_id: int, title: str) -> None:
    team = by_chat(session, chat_id)
    if team is not None and team.title != title[:128]:
        team.title = title[:128]


# -- managers --------------------------------------------------------------------------------


def manager_row(session: Session, team_id: int, user_id: int) -> TeamManager | None:
    return session.get(TeamManager, (team_id, user_id))


def note_manager(session: Session, team_id: int, user_id: int, source: str) -> TeamManager:
    """Record a manager; a grant is never weakened to "admin"."""
    row = session.get(TeamManager, (team_id, user_id))
    if row is None:
        row = TeamManager(team_id=team_id, user_id=user_id, source=source)
        session.add(row)
    elif source == GRANTED:
        row.source = GRANTED
    return row


def forget_manager(session: Session, team_id: int, user_id: int) -> bool:
    """Revoke a role (or drop an admin's note once they are no longer an admin)."""
    row = session.get(TeamManager, (team_id, user_id))
    if row is None:
        return False
    session.delete(row)
    return True


def admin_changed(session: Session, chat_id: int, user_id: int, admin: bool) -> None:
    """Someone was made a chat administrator of an active team's group (a manager now), or
    is one no more (a role they were granted stays)."""
    team = by_chat(session, chat_id)
    if team is None or team.id is None or not team.active:
        return
    if admin:
        note_manager(session, team.id, user_id, ADMIN)
        return
    row = manager_row(session, team.id, user_id)
    if row is not None and row.source == ADMIN:
        session.delete(row)


def sync_admins(session: Session, team_id: int, admin_ids: set[int]) -> None:
    """The group's administrators as the Bot API lists them now: each recorded as a manager,
    and those recorded as administrators who are not any more forgotten (grants stay)."""
    recorded = {row.user_id: row for row, _name in managers(session, team_id)}
    for user_id in admin_ids - recorded.keys():
        note_manager(session, team_id, user_id, ADMIN)
    for user_id, row in recorded.items():
        if row.source == ADMIN and user_id not in admin_ids:
            session.delete(row)


def managers(session: Session, team_id: int) -> list[tuple[TeamManager, str | None]]:
    """Recorded managers, with their names where they talk to the bot."""
    rows = session.exec(
        select(TeamManager, Trainer.name)
        .outerjoin(Trainer, col(Trainer.id) == TeamManager.user_id)
        .where(TeamManager.team_id == team_id)
        .order_by(col(TeamManager.created_at))
    ).all()
    return [(row, name) for row, name in rows]


def managed_by(session: Session, user_id: int) -> list[Team]:
    """Active teams where this person is a recorded manager (still to be checked live)."""
    return list(
        session.exec(
            select(Team)
            .join(TeamManager, col(TeamManager.team_id) == Team.id)
            .where(TeamManager.user_id == user_id, Team.active)
            .order_by(col(Team.title))
        )
    )


# -- members ---------------------------------------------------------------------------------


def membership(session: Session, team_id: int, trainer_id: int) -> TeamMember | None:
    return session.exec(
        select(TeamMember).where(
            TeamMember.team_id == team_id, TeamMember.trainer_id == trainer_id
        )
    ).first()


def answer(session: Session, team_id: int, trainer_id: int, agreed: bool) -> TeamMember:
    """The trainer agreed to share with the team, or declined."""
    row = membership(session, team_id, trainer_id)
    if row is None:
        row = TeamMember(team_id=team_id, trainer_id=trainer_id, status=DECLINED)
        session.add(row)
    now = utcnow()
    if agreed:
        if row.status != SHARED:
            row.consented_at = now
        row.status = SHARED
    else:
        row.status, row.consented_at = DECLINED, None
    row.updated_at = now
    session.flush()
    return row


def leave(session: Session, team_id: int, trainer_id: int) -> bool:
    """Sharing ends at once. True when they were sharing."""
    row = membership(session, team_id, trainer_id)
    if row is None or row.status != SHARED:
        return False
    row.status, row.consented_at, row.updated_at = LEFT, None, utcnow()
    return True


def leave_chat(session: Session, chat_id: int, trainer_id: int) -> bool:
    """They left (or were removed from) the group: they stop sharing with its team, and a
    manager's role (granted or as an administrator) ends. True when they were sharing."""
    team = by_chat(session, chat_id)
    if team is None or team.id is None:
        return False
    forget_manager(session, team.id, trainer_id)
    return leave(session, team.id, trainer_id)


def sharing_with(session: Session, trainer_id: int) -> list[Team]:
    """The active teams this trainer shares with."""
    return list(
        session.exec(
            select(Team)
            .join(TeamMember, col(TeamMember.team_id) == Team.id)
            .where(TeamMember.trainer_id == trainer_id, TeamMember.status == SHARED, Team.active)
            .order_by(col(Team.title))
        )
    )


# -- what a team sees ------------------------------------------------------------------------


def shared_credentials(
    session: Session, trainer_id: int, catalog: Catalog, today: date
) -> tuple[Shared, ...]:
    """Exactly what a team sees of one trainer: each credential's name, expiry and credit
    progress (from the same status query as /status)."""
    shared = []
    for progress in credits.status(session, trainer_id, catalog):
        credential = progress.credential
        entry = catalog.get(credential.catalog_id)
        standing = standing_on(progress.holding, progress.earned, today)
        shared.append(
            Shared(
                credential_id=credential.id or 0,
                name=entry.name if entry else credential.custom_name or "?",
                end=standing.deadline,
                standing=standing.state,
                counted=standing.counted,
                required=standing.owed,
                unit=entry.unit_name if entry else None,
            )
        )
    return tuple(shared)


def _today(team: Team, now: datetime) -> date:
    return now.astimezone(ZoneInfo(team.time_zone)).date()


def roster(session: Session, team: Team, catalog: Catalog, now: datetime) -> list[Member]:
    """The members who agreed to share, with what they share (unordered)."""
    today = _today(team, now)
    zone = ZoneInfo(team.time_zone)
    rows = session.exec(
        select(TeamMember, Trainer)
        .join(Trainer, col(Trainer.id) == TeamMember.trainer_id)
        .where(TeamMember.team_id == team.id, TeamMember.status == SHARED)
    ).all()
    return [
        Member(
            trainer.id,
            trainer.name,
            (row.consented_at or now).astimezone(zone).date(),
            shared_credentials(session, trainer.id, catalog, today),
        )
        for row, trainer in rows
    ]


def member_of(
    session: Session, team: Team, trainer_id: int, catalog: Catalog, now: datetime
) -> Member | None:
    """One member, only if they share with this team (a forged id finds nothing)."""
    row = membership(session, team.id or 0, trainer_id)
    trainer = session.get(Trainer, trainer_id)
    if row is None or row.status != SHARED or trainer is None:
        return None
    zone = ZoneInfo(team.time_zone)
    return Member(
        trainer.id,
        trainer.name,
        (row.consented_at or now).astimezone(zone).date(),
        shared_credentials(session, trainer.id, catalog, _today(team, now)),
    )


def renewals(session: Session, team: Team, catalog: Catalog, since: datetime) -> list[Renewal]:
    """Renewals by sharing members since `since` (what the digest celebrates)."""
    rows = session.exec(
        select(Trainer.name, Credential)
        .join(TeamMember, col(TeamMember.trainer_id) == Trainer.id)
        .join(Credential, col(Credential.trainer_id) == Trainer.id)
        .join(PastCycle, col(PastCycle.credential_id) == Credential.id)
        .where(
            TeamMember.team_id == team.id,
            TeamMember.status == SHARED,
            col(PastCycle.renewed_at) > since,
        )
        .order_by(col(PastCycle.renewed_at))
    ).all()
    result = []
    for name, credential in rows:
        entry = catalog.get(credential.catalog_id)
        renewal = Renewal(name, entry.name if entry else credential.custom_name or "?")
        if renewal not in result:
            result.append(renewal)
    return result


# -- what the team job owes ------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A team whose digest or alert check this worker claimed."""

    team: Team
    digest: bool
    check: bool
    last_digest_on: date | None = None  # as it was before this claim (a retry restores it)


def _same(column: Any, value: datetime | None) -> Any:
    return column.is_(None) if value is None else column == value


def claim_due(
    session: Session, now: datetime, limit: int = 100, want: int | None = None
) -> list[Run]:
    """Teams owing a digest or an alert check now, each claimed by moving its times on with a
    conditional update: of several copies of the bot, one wins each team. With `want`, stop
    once that many are claimed (the job claims one at a time, so a stop loses none)."""
    teams = session.exec(
        select(Team)
        .where(
            Team.active,
            (col(Team.next_digest_at) <= now) | (col(Team.next_check_at) <= now),
        )
        .limit(limit)
    ).all()
    runs = []
    for team in teams:
        old_digest, old_check = team.next_digest_at, team.next_check_at
        before = last_on = team.last_digest_on
        digest_due = old_digest is not None and old_digest <= now
        check_due = old_check is not None and old_check <= now
        values: dict[str, date | datetime | None]
        new_digest, values = old_digest, {}
        if old_digest is not None and digest_due:
            # The week is that of the day it was owed (a digest sent late after a pause is
            # still last week's): owed unless that week had its digest (a moved day or hour).
            owed_on = _today(team, old_digest)
            digest_due = last_on is None or not same_week(last_on, owed_on)
            if digest_due:
                values["last_digest_on"] = last_on = owed_on
            new_digest = next_digest(
                team.time_zone, team.digest_weekday, team.digest_hour, now, last_on
            )
        new_check = next_daily(team.time_zone, team.digest_hour, now) if check_due else old_check
        values.update(next_digest_at=new_digest, next_check_at=new_check)
        taken = session.execute(
            update(Team)
            .where(
                col(Team.id) == team.id,
                _same(col(Team.next_digest_at), old_digest),
                _same(col(Team.next_check_at), old_check),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1 and (digest_due or check_due):  # type: ignore[attr-defined]
            runs.append(Run(team, digest_due, check_due, before))
            if want is not None and len(runs) >= want:
                break
    return runs


def recorded_alerts(session: Session, team_id: int) -> dict[tuple[int, date], set[str]]:
    recorded: dict[tuple[int, date], set[str]] = {}
    for row in session.exec(select(TeamAlert).where(TeamAlert.team_id == team_id)):
        recorded.setdefault((row.credential_id, row.cycle_end), set()).add(row.kind)
    return recorded


def claim_alert(
    session: Session, team_id: int, credential_id: int, cycle_end: date, kind: str
) -> bool:
    """The unique row decides: True for the one copy that inserts it."""
    try:
        with session.begin_nested():
            session.add(
                TeamAlert(
                    team_id=team_id, credential_id=credential_id, cycle_end=cycle_end, kind=kind
                )
            )
            session.flush()
    except IntegrityError:
        return False
    return True


def retry_run(
    session: Session,
    team_id: int,
    at: datetime,
    *,
    digest: bool,
    check: bool,
    alerts: list[tuple[int, date, str]],
    last_digest_on: date | None = None,
) -> None:
    """Nothing of a run reached the group (time-out, flood wait): owe it again at `at`, and
    the alerts it claimed with it (a digest not sent is not this week's digest)."""
    team = session.get(Team, team_id)
    if team is None or not team.active:
        return
    if digest:
        team.next_digest_at = at
        team.last_digest_on = last_digest_on
    if check:
        team.next_check_at = at
    for credential_id, cycle_end, kind in alerts:
        row = session.exec(
            select(TeamAlert).where(
                TeamAlert.team_id == team_id,
                TeamAlert.credential_id == credential_id,
                TeamAlert.cycle_end == cycle_end,
                TeamAlert.kind == kind,
            )
        ).first()
        if row is not None:
            session.delete(row)


@dataclass(frozen=True)
class Escalation:
    team: Team
    trainer_id: int
    trainer_name: str
    credential: Credential
    cycle_end: date  # of the reminder left unanswered
    granted: tuple[int, ...]  # managers by grant (each checked to be still in the group)
    recorded: tuple[int, ...]  # every recorded manager (administrators are asked again)

    @property
    def key(self) -> tuple[int, int, date]:
        return (self.team.id or 0, self.credential.id or 0, self.cycle_end)


def claim_escalations(
    session: Session,
    now: datetime,
    limit: int = 100,
    skip: set[tuple[int, int, date]] | frozenset[tuple[int, int, date]] = frozenset(),
) -> list[Escalation]:
    """Sharing members who left their day-of reminder unanswered for a day: one escalation
    per team and cycle, claimed as a TeamAlert row. Reads the nudges table the sweep writes.
    `skip` names escalations given back in this tick (they wait for the next one)."""
    # Any: the name is reused below for manager rows (left to the file's owner to rename).
    rows: Any = session.exec(
        select(Nudge, Credential, Team, Trainer.name)
        .join(Credential, col(Credential.id) == Nudge.credential_id)
        .join(TeamMember, col(TeamMember.trainer_id) == Credential.trainer_id)
        .join(Team, col(Team.id) == TeamMember.team_id)
        .join(Trainer, col(Trainer.id) == Credential.trainer_id)
        .where(
            Nudge.milestone == ESCALATE_MILESTONE,
            Nudge.status == "sent",
            col(Nudge.answered).is_(False),
            col(Nudge.sent_at) <= now - ESCALATE_AFTER,
            col(Nudge.sent_at) >= now - ESCALATE_WITHIN,
            # Only what happened while they shared: joining is no consent to old news.
            col(Nudge.sent_at) >= TeamMember.consented_at,
            col(Credential.cycle_end) == Nudge.cycle_end,  # not renewed since
            TeamMember.status == SHARED,
            Team.active,
            ~exists().where(
                col(TeamAlert.team_id) == Team.id,
                col(TeamAlert.credential_id) == Credential.id,
                col(TeamAlert.cycle_end) == Nudge.cycle_end,
                # SQLModel types a column compared with a value as a bool.
                TeamAlert.kind == "escalated",  # type: ignore[arg-type]
            ),
        )
        .limit(limit + len(skip))
    ).all()
    found: list[Escalation] = []
    for nudge, credential, team, name in rows:
        if len(found) >= limit or (team.id, credential.id, nudge.cycle_end) in skip:
            continue
        if not escalation_due(
            nudge.sent_at, nudge.answered, nudge.cycle_end, credential.cycle_end, now
        ):
            continue
        assert team.id is not None and credential.id is not None
        if not claim_alert(session, team.id, credential.id, nudge.cycle_end, "escalated"):
            continue
        rows = [row for row, _name in managers(session, team.id)]
        granted = tuple(row.user_id for row in rows if row.source == GRANTED)
        recorded = tuple(row.user_id for row in rows)
        found.append(
            Escalation(
                team, credential.trainer_id, name, credential, nudge.cycle_end, granted, recorded
            )
        )
    return found


def release_escalation(
    session: Session, team_id: int, credential_id: int, cycle_end: date
) -> None:
    """No manager was reached (a time-out, a flood wait): the escalation is owed again."""
    session.execute(
        delete(TeamAlert).where(
            col(TeamAlert.team_id) == team_id,
            col(TeamAlert.credential_id) == credential_id,
            col(TeamAlert.cycle_end) == cycle_end,
            col(TeamAlert.kind) == "escalated",
        )
    )
