"""SQLModel tables. Alembic migrations in `storage/migrations` create them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Numeric, Text, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Trainer(SQLModel, table=True):
    """A person who talks to the bot in private chat; the id is their Telegram user id."""

    __tablename__ = "trainers"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str = Field(max_length=128)
    language: str = Field(max_length=8)
    # None until the trainer picks one; planning then uses the operator's default zone.
    time_zone: str | None = Field(default=None, max_length=64)
    reminder_hour: int = Field(default=9, ge=0, le=23)
    # False once the trainer blocks the bot; /start sets it again.
    active: bool = Field(default=True)
    # "gentle" (fewer milestones), "normal" or "intense" (more, and daily in the last week).
    nudge_intensity: str = Field(default="normal", max_length=16)
    # Local hours in which nothing is sent (a repeat waits until they are over): [start, end).
    quiet_start: int | None = None
    quiet_end: int | None = None
    # ISO 4217 code costs are read in when typed without one; None: the language's usual one.
    currency: str | None = Field(default=None, max_length=3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Credential(SQLModel, table=True):
    """A credential a trainer holds: a catalog entry, or their own rule when `catalog_id` is
    None. The current cycle lives here; closed cycles move to `past_cycles`."""

    __tablename__ = "credentials"
    __table_args__ = (Index("ix_credentials_trainer", "trainer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    trainer_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("trainers.id", ondelete="CASCADE"), nullable=False)
    )
    catalog_id: str | None = Field(default=None, max_length=64)
    custom_name: str | None = Field(default=None, max_length=64)
    custom_cycle_months: int | None = None
    # Private: shown only to its owner, never logged, never shared with a team.
    number: str | None = Field(default=None, max_length=64)
    certified_on: date | None = None
    cycle_start: date
    cycle_end: date | None = None  # None: it does not expire
    units_required: Decimal | None = Field(default=None, sa_type=Numeric(8, 2))
    # When the planner next wants to nudge about it (UTC): the sweep reads only what is due.
    next_nudge_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    nudges_stopped: bool = Field(default=False)
    # When the cycle's dates were last set: milestones due before then are not owed.
    cycle_set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PastCycle(SQLModel, table=True):
    """A cycle that was closed by a renewal, kept for the trainer's history."""

    __tablename__ = "past_cycles"

    id: int | None = Field(default=None, primary_key=True)
    credential_id: int = Field(
        sa_column=Column(
            ForeignKey("credentials.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    cycle_start: date
    cycle_end: date | None = None
    units_required: Decimal | None = Field(default=None, sa_type=Numeric(8, 2))
    units_earned: Decimal = Field(default=Decimal(0), sa_type=Numeric(8, 2))
    renewed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Credit(SQLModel, table=True):
    """Continuing education counted toward one credential."""

    __tablename__ = "credits"

    id: int | None = Field(default=None, primary_key=True)
    credential_id: int = Field(
        sa_column=Column(
            ForeignKey("credentials.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    units: Decimal = Field(sa_type=Numeric(8, 2))
    earned_on: date
    title: str = Field(max_length=200)
    provider: str | None = Field(default=None, max_length=120)
    # The credential whose course this is, when a specialization counts toward this one.
    from_credential_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("credentials.id", ondelete="SET NULL"), nullable=True),
    )
    # Credits logged together (one course toward several credentials) share a batch: Undo
    # removes the batch.
    batch: str | None = Field(default=None, max_length=32, index=True)
    # NSCA's CEU category (A-D), where the body caps categories.
    category: str | None = Field(default=None, max_length=4)
    # What the course cost the trainer (optional).
    cost: Decimal | None = Field(default=None, sa_type=Numeric(10, 2))
    # Its ISO 4217 code; None for costs logged before currencies were kept (the trainer's).
    cost_currency: str | None = Field(default=None, max_length=3)
    # The certificate as Telegram keeps it: re-sent by file id, never downloaded to keep.
    proof_file_id: str | None = Field(default=None, max_length=256)
    proof_kind: str | None = Field(default=None, max_length=16)  # "photo" or "document"
    proof_name: str | None = Field(default=None, max_length=128)
    # The course or approval code read from the certificate (ACE's no-repeat rule matches it).
    course_code: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConversationState(SQLModel, table=True):
    """Where a person is in a conversation, so a restart can go on. PTB reads these at
    start-up; replicas also read a person's before each of their updates (SHARED_STATE)."""

    __tablename__ = "conversation_states"

    name: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=128)  # the JSON of PTB's (chat, user) key
    state: str = Field(max_length=256)  # JSON


class UserData(SQLModel, table=True):
    """A conversation's answers so far (PTB's user_data), as JSON; absent when empty."""

    __tablename__ = "user_data"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    data: str = Field(sa_type=Text)


class Nudge(SQLModel, table=True):
    """One reminder about one credential's cycle: claimed in the database before it is sent,
    so restarts and several running copies never send it twice."""

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("credential_id", "cycle_end", "milestone", name="uq_nudge"),
    )

    id: int | None = Field(default=None, primary_key=True)
    credential_id: int = Field(
        sa_column=Column(
            ForeignKey("credentials.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    cycle_end: date
    milestone: str = Field(max_length=32)  # "d90", "d0", "grace30", "after", "pace-2026-11"
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="claimed", max_length=16)  # claimed, sent, failed, skipped
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    answered: bool = Field(default=False)
    repeats: int = Field(default=0)  # final-week repeats already sent


class Team(SQLModel, table=True):
    """A gym's trainer group. Its messages speak the language of the admin who set it up;
    `chat_id` follows the group when Telegram upgrades it to a supergroup."""

    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    title: str = Field(max_length=128)
    language: str = Field(max_length=8)
    time_zone: str = Field(max_length=64)
    # False while the zone is only the operator's default (the administrator who set the team
    # up had none): /team asks for one until a manager sets it.
    zone_chosen: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    digest_weekday: int = Field(default=0, ge=0, le=6)  # Monday is 0
    digest_hour: int = Field(default=9, ge=0, le=23)
    # False once the bot is removed from the group: nothing is sent, nothing is shown.
    active: bool = Field(default=True)
    # The secret in the Join link; a new one makes the old link stop working.
    join_token: str = Field(max_length=32, unique=True)
    # When the team job next owes the weekly digest, and the daily alert check (UTC).
    next_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    next_check_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # The team's escalation ladders, for certifications and for CPR/AED cards
    # ("t60,m30s,g-", see scheduler.team.parse_ladder); None: the defaults.
    ladder: str | None = Field(default=None, max_length=32)
    card_ladder: str | None = Field(default=None, max_length=32)
    # The local day of the last weekly digest: never two in one local week, however the
    # day, hour or zone is changed.
    last_digest_on: date | None = Field(default=None)
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TeamManager(SQLModel, table=True):
    """Someone who may see the roster. "admin": a chat administrator (seen acting as one,
    promoted, or listed by the daily check; checked again with the Bot API each time);
    "granted": given the role by a manager, while a member of the group. Rows go when the
    person leaves the group or the team is closed."""

    __tablename__ = "team_managers"

    team_id: int = Field(
        sa_column=Column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    source: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TeamMember(SQLModel, table=True):
    """A trainer's answer to a team's Join link: "shared" (consented), "declined" or "left".
    Only "shared" members appear anywhere."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "trainer_id", name="uq_team_member"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(
        sa_column=Column(ForeignKey("teams.id", ondelete="CASCADE"), nullable=False)
    )
    trainer_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("trainers.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    status: str = Field(max_length=16)
    consented_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TeamAlert(SQLModel, table=True):
    """Something said about a member once: the group alert when a credential enters its last
    30 days ("d30") or lapses ("lapsed"), or the managers' escalation ("escalated"). The
    unique row is the claim: restarts and several copies of the bot say it once."""

    __tablename__ = "team_alerts"
    __table_args__ = (
        UniqueConstraint("team_id", "credential_id", "cycle_end", "kind", name="uq_team_alert"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(
        sa_column=Column(ForeignKey("teams.id", ondelete="CASCADE"), nullable=False)
    )
    credential_id: int = Field(
        sa_column=Column(
            ForeignKey("credentials.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    cycle_end: date
    kind: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TeamCoverage(SQLModel, table=True):
    """A team's coverage figures as of a week (its Monday, in the team's zone): what the
    roster and the digest compare with to show the change since last week."""

    __tablename__ = "team_coverage"

    team_id: int = Field(
        sa_column=Column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    )
    week_of: date = Field(primary_key=True)
    members: int = 0
    current: int = 0
    due_30: int = 0
    due_90: int = 0
    grace: int = 0
    lapsed: int = 0
    cpr_current: int = 0
    cpr_needed: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SeenUpdate(SQLModel, table=True):
    """An update taken in webhook mode: claimed with a lease before it is handled, marked done
    after. Telegram posts an update again when it got no answer in time; this keeps such a
    second delivery (to this replica or another) from being handled twice, while an update
    whose replica died mid-way is handled again once the lease ends."""

    __tablename__ = "updates_seen"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    done: bool = Field(default=False)
    lease_until: datetime = Field(sa_type=UTCDateTime)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class TeamEvent(SQLModel, table=True):
    """An in-house course a manager posted in the team's group (`/event`): what it counts,
    per certifying body, as JSON `{"NASM": ["0.2", false]}` (units, in hours or not)."""

    __tablename__ = "team_events"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(
        sa_column=Column(ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    title: str = Field(max_length=200)
    held_on: date
    provider: str | None = Field(default=None, max_length=120)
    code: str | None = Field(default=None, max_length=32)  # the body's approval code
    units: str = Field(sa_type=Text)
    manager_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    manager_name: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventAttendance(SQLModel, table=True):
    """A member's confirmed attendance at a team event: the credits it logged share `batch`,
    and the attendance record sent to them is their proof (`proof_file_id`). One per person
    and event: the unique row is the claim, so a double tap logs once."""

    __tablename__ = "event_attendance"
    __table_args__ = (UniqueConstraint("event_id", "trainer_id", name="uq_event_attendance"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(
        sa_column=Column(ForeignKey("team_events.id", ondelete="CASCADE"), nullable=False)
    )
    trainer_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("trainers.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    batch: str | None = Field(default=None, max_length=32)
    proof_file_id: str | None = Field(default=None, max_length=256)
    confirmed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JoinRequest(SQLModel, table=True):
    """Someone asked to join a team's group (a group that takes join requests). `consent`:
    None until they answer, then whether they agreed to share; `status`: "pending",
    "approved" or "declined". Keyed by the Telegram user: an applicant may never have
    started the bot (no trainer row yet)."""

    __tablename__ = "join_requests"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_join_request"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(
        sa_column=Column(ForeignKey("teams.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    name: str = Field(max_length=128)
    consent: bool | None = Field(default=None)
    status: str = Field(default="pending", max_length=16)
    decided_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
