"""Units of work on join requests: a group that takes join requests (hiring). The applicant
answers whether to share; a manager approves or declines. Approving with consent makes them a
sharing member (`teams.answer`); without it nothing is shared. Each takes a Session."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage import teams
from storage.models import JoinRequest, Team, TeamManager, Trainer
from storage.types import utcnow

PENDING, APPROVED, DECLINED = "pending", "approved", "declined"


def requested(session: Session, team_id: int, user_id: int, name: str) -> JoinRequest:
    """A join request arrived: pending again, with its consent asked anew."""
    row = session.exec(
        select(JoinRequest).where(JoinRequest.team_id == team_id, JoinRequest.user_id == user_id)
    ).first()
    now = utcnow()
    if row is None:
        row = JoinRequest(team_id=team_id, user_id=user_id, name=name)
        session.add(row)
    row.name, row.status, row.consent, row.decided_by = name, PENDING, None, None
    row.requested_at = row.updated_at = now
    session.flush()
    return row


def get(session: Session, request_id: int) -> tuple[JoinRequest, Team] | None:
    """The request and its team, while the team is active."""
    row = session.exec(
        select(JoinRequest, Team)
        .join(Team, col(Team.id) == JoinRequest.team_id)
        .where(JoinRequest.id == request_id, Team.active)
    ).first()
    return (row[0], row[1]) if row else None


def managers_to_tell(session: Session, team_id: int) -> list[tuple[int, str | None]]:
    """The team's recorded managers and their language where they talk to the bot."""
    rows = session.exec(
        select(TeamManager.user_id, Trainer.language)
        .outerjoin(Trainer, col(Trainer.id) == TeamManager.user_id)
        .where(TeamManager.team_id == team_id)
        .order_by(col(TeamManager.created_at))
    ).all()
    return [(user_id, language) for user_id, language in rows]


def consent(
    session: Session, request_id: int, user_id: int, agreed: bool
) -> tuple[JoinRequest, Team] | None:
    """The applicant's answer (only theirs: `user_id` must be the applicant). Given after an
    approval, it takes effect at once."""
    found = get(session, request_id)
    if found is None or found[0].user_id != user_id:
        return None
    row, team = found
    row.consent, row.updated_at = agreed, utcnow()
    if row.status == APPROVED:
        if agreed:
            teams.answer(session, team.id or 0, user_id, True)
        else:
            # Sharing ends, if it began; an applicant who never started the bot has no
            # trainer row, and no membership to end.
            teams.leave(session, team.id or 0, user_id)
    return row, team


def decide(
    session: Session, request_id: int, manager_id: int, approved: bool
) -> JoinRequest | None:
    """A manager's decision, claimed once (a conditional update: two managers pressing at the
    same moment decide once); `admit` follows once Telegram has approved."""
    claimed = session.execute(
        update(JoinRequest)
        .where(col(JoinRequest.id) == request_id, col(JoinRequest.status) == PENDING)
        .values(
            status=APPROVED if approved else DECLINED, decided_by=manager_id, updated_at=utcnow()
        )
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.get(JoinRequest, request_id)
    assert row is not None
    session.refresh(row)
    return row


def admit(session: Session, request_id: int) -> JoinRequest | None:
    """Telegram approved: with the applicant's consent they share with the team from now."""
    row = session.get(JoinRequest, request_id)
    if row is not None and row.status == APPROVED and row.consent:
        teams.answer(session, row.team_id, row.user_id, True)
    return row


def undecide(session: Session, request_id: int) -> None:
    """Telegram refused the decision (the request was withdrawn or handled elsewhere)."""
    session.execute(
        update(JoinRequest)
        .where(col(JoinRequest.id) == request_id)
        .values(status=PENDING, decided_by=None)
    )
