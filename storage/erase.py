"""Erasing a person (/delete_me): every row that is theirs, counted first so they can be told
what will go, and counted again as it goes.

What is a person's: their trainer row, credentials (with past cycles), credits (with the
proofs' Telegram file ids), reminders, team alerts about their credentials, team memberships,
manager roles, and the conversation state and answers kept for them. Teams themselves belong
to their group and stay (a team a person set up keeps working for the others)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func
from sqlmodel import Session, col, select

from storage.models import (
    ConversationState,
    Credential,
    Credit,
    EventAttendance,
    JoinRequest,
    Nudge,
    PastCycle,
    TeamAlert,
    TeamManager,
    TeamMember,
    Trainer,
    UserData,
)


@dataclass(frozen=True)
class Footprint:
    """How much of a person's data there is."""

    credentials: int = 0
    past_cycles: int = 0
    credits: int = 0
    proofs: int = 0
    nudges: int = 0
    memberships: int = 0
    manager_roles: int = 0
    conversations: int = 0
    profile: bool = False

    @property
    def empty(self) -> bool:
        return not (
            self.profile
            or self.credentials
            or self.credits
            or self.memberships
            or self.manager_roles
            or self.conversations
        )


def _key_is_theirs(user_id: int) -> ColumnElement[bool]:
    # PTB's conversation key is (chat id, user id), stored as the JSON "[chat, user]".
    return col(ConversationState.key).like(f"%, {int(user_id)}]")


def footprint(session: Session, user_id: int) -> Footprint:
    """Counts of everything `erase` would remove, in a handful of counting queries."""
    credential_ids = select(Credential.id).where(Credential.trainer_id == user_id)

    def count(statement: object) -> int:
        return int(session.exec(statement).one())  # type: ignore[call-overload]

    return Footprint(
        credentials=count(
            select(func.count()).select_from(Credential).where(Credential.trainer_id == user_id)
        ),
        past_cycles=count(
            select(func.count())
            .select_from(PastCycle)
            .where(col(PastCycle.credential_id).in_(credential_ids))
        ),
        credits=count(
            select(func.count())
            .select_from(Credit)
            .where(col(Credit.credential_id).in_(credential_ids))
        ),
        proofs=count(
            select(func.count())
            .select_from(Credit)
            .where(
                col(Credit.credential_id).in_(credential_ids),
                col(Credit.proof_file_id).is_not(None),
            )
        ),
        nudges=count(
            select(func.count())
            .select_from(Nudge)
            .where(col(Nudge.credential_id).in_(credential_ids))
        ),
        memberships=count(
            select(func.count()).select_from(TeamMember).where(TeamMember.trainer_id == user_id)
        ),
        manager_roles=count(
            select(func.count()).select_from(TeamManager).where(TeamManager.user_id == user_id)
        ),
        conversations=count(
            select(func.count()).select_from(ConversationState).where(_key_is_theirs(user_id))
        )
        + count(select(func.count()).select_from(UserData).where(UserData.user_id == user_id)),
        profile=session.get(Trainer, user_id) is not None,
    )


def erase(session: Session, user_id: int) -> Footprint:
    """Remove everything that is the person's, in one transaction; returns what was there.

    Children go first, explicitly, so the result does not depend on the database enforcing
    ON DELETE CASCADE (SQLite does only with its foreign_keys pragma)."""
    found = footprint(session, user_id)
    credential_ids = select(Credential.id).where(Credential.trainer_id == user_id)
    for statement in (
        delete(Nudge).where(col(Nudge.credential_id).in_(credential_ids)),
        delete(TeamAlert).where(col(TeamAlert.credential_id).in_(credential_ids)),
        delete(Credit).where(col(Credit.credential_id).in_(credential_ids)),
        delete(PastCycle).where(col(PastCycle.credential_id).in_(credential_ids)),
        delete(Credential).where(col(Credential.trainer_id) == user_id),
        delete(TeamMember).where(col(TeamMember.trainer_id) == user_id),
        # Issue 17: their attendance at team events and their join requests.
        delete(EventAttendance).where(col(EventAttendance.trainer_id) == user_id),
        delete(JoinRequest).where(col(JoinRequest.user_id) == user_id),
        delete(TeamManager).where(col(TeamManager.user_id) == user_id),
        delete(ConversationState).where(_key_is_theirs(user_id)),
        delete(UserData).where(col(UserData.user_id) == user_id),
        delete(Trainer).where(col(Trainer.id) == user_id),
    ):
        session.exec(statement)
    return found
