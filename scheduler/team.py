"""Teams as pure functions of what members share and `now`: each member's state, the roster's
order, the weekly digest, the once-only group alerts, the managers' escalation, and when the
team job next owes a digest or an alert check. No I/O, no Telegram; the team job's callbacks
(`run_team_tick` and friends, in `scheduler/team_job.py`) call these with the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from scheduler.cycles import State
from scheduler.standing import Urgency

ALERT_DAYS = 30  # a member's credential "enters its last 30 days"
# The day-of reminder ("d0") left unanswered this long reaches the managers: a whole day to
# press a button, renew or snooze first.
ESCALATE_AFTER = timedelta(hours=24)
ESCALATE_MILESTONE = "d0"
# Older than this, an unanswered reminder is history, not news (a member who joins later).
ESCALATE_WITHIN = timedelta(days=14)
MAX_MESSAGE = 4096


class MemberState(StrEnum):
    EXPIRED = "expired"
    IN_GRACE = "grace"
    DUE_SOON = "soon"
    NO_CREDENTIALS = "none"
    OK = "ok"


URGENCY = {
    MemberState.EXPIRED: 0,
    MemberState.IN_GRACE: 1,
    MemberState.DUE_SOON: 2,
    MemberState.NO_CREDENTIALS: 3,
    MemberState.OK: 4,
}
# A credential's standing as a member state (the member's is the most urgent of theirs).
STATE_OF = {
    State.EXPIRED: MemberState.EXPIRED,
    State.IN_GRACE: MemberState.IN_GRACE,
    State.DUE_SOON: MemberState.DUE_SOON,
    State.ON_TRACK: MemberState.OK,
}


@dataclass(frozen=True)
class Shared:
    """One credential as the team sees it: never its number, never a proof."""

    credential_id: int
    name: str  # plain text (escape it for HTML)
    end: date | None
    standing: State
    counted: Decimal
    required: Decimal | None
    unit: str | None
    urgency: Urgency = Urgency.OK
    days_left: int | None = None  # to the deadline, as of the team's day (negative: passed)
    cpr: bool = False  # a CPR/AED card
    needs_card: bool = False  # a certification that cannot be renewed without a current card

    @property
    def current(self) -> bool:
        """Before its deadline (the standing says: neither in grace nor lapsed)."""
        return self.urgency not in (Urgency.GRACE, Urgency.LAPSED)

    def due_within(self, days: int) -> bool:
        return self.current and self.days_left is not None and self.days_left <= days


@dataclass(frozen=True)
class Member:
    trainer_id: int
    name: str  # plain text
    joined_on: date  # the day they agreed to share, in the team's time zone
    credentials: tuple[Shared, ...] = ()

    @property
    def state(self) -> MemberState:
        return member_state(self.credentials)


def member_state(credentials: Iterable[Shared]) -> MemberState:
    """The most urgent state among a member's credentials."""
    states = [STATE_OF[c.standing] for c in credentials]
    if not states:
        return MemberState.NO_CREDENTIALS
    return min(states, key=URGENCY.__getitem__)


def _urgent_end(member: Member) -> date:
    """The deadline that decides the member's place within their state."""
    state = member.state
    ends = [
        c.end for c in member.credentials if c.end is not None and STATE_OF[c.standing] is state
    ]
    return min(ends) if ends else date.max


def roster_order(members: Iterable[Member]) -> list[Member]:
    """Expired first, then in grace, due soon, no credentials yet, and all right last; the
    oldest or nearest deadline first within each; then by name."""
    return sorted(
        members, key=lambda m: (URGENCY[m.state], _urgent_end(m), m.name.casefold(), m.trainer_id)
    )


DUE_SOON_DAYS = 90  # the roster's "due soon" filter and the coverage's wider window


@dataclass(frozen=True)
class Coverage:
    """A team's figures at a glance, each a count of members, from their credentials'
    standings: current (every credential before its deadline), due within 30 and 90 days, in
    grace, lapsed, and holding a current CPR/AED card (of those whose certifications need
    one or who hold one)."""

    members: int = 0
    current: int = 0
    due_30: int = 0
    due_90: int = 0
    grace: int = 0
    lapsed: int = 0
    cpr_current: int = 0
    cpr_needed: int = 0

    def change(self, before: Coverage | None) -> dict[str, int] | None:
        """Each figure's change since `before` (None: nothing to compare with)."""
        if before is None:
            return None
        return {name: getattr(self, name) - getattr(before, name) for name in FIGURES}


FIGURES = (
    "members",
    "current",
    "due_30",
    "due_90",
    "grace",
    "lapsed",
    "cpr_current",
    "cpr_needed",
)


def _needs_cpr(held: Sequence[Shared]) -> bool:
    return any(c.cpr or c.needs_card for c in held)


def coverage(members: Iterable[Member]) -> Coverage:
    counts = dict.fromkeys(FIGURES, 0)
    for member in members:
        held = member.credentials
        counts["members"] += 1
        counts["current"] += bool(held) and all(c.current for c in held)
        counts["due_30"] += any(c.due_within(ALERT_DAYS) for c in held)
        counts["due_90"] += any(c.due_within(DUE_SOON_DAYS) for c in held)
        counts["grace"] += any(c.urgency is Urgency.GRACE for c in held)
        counts["lapsed"] += any(c.urgency is Urgency.LAPSED for c in held)
        counts["cpr_current"] += any(c.cpr and c.current for c in held)
        counts["cpr_needed"] += _needs_cpr(held)
    return Coverage(**counts)


class Filter(StrEnum):
    """The roster's filters (their one-letter codes go in the buttons' data)."""

    ALL = "a"
    DUE_SOON = "s"  # a credential due within 90 days
    LAPSED = "l"  # a credential past its deadline (in grace or lapsed)
    CPR = "c"  # needing a card: none current, or it is due within 90 days


def matches(member: Member, which: Filter) -> bool:
    held = member.credentials
    if which is Filter.DUE_SOON:
        return any(c.due_within(DUE_SOON_DAYS) for c in held)
    if which is Filter.LAPSED:
        return any(not c.current for c in held)
    if which is Filter.CPR:
        cards = [c for c in held if c.cpr and c.current]
        return _needs_cpr(held) and (not cards or all(c.due_within(DUE_SOON_DAYS) for c in cards))
    return True


@dataclass(frozen=True)
class Mention:
    member: Member
    credential: Shared


@dataclass(frozen=True)
class Renewal:
    member_name: str
    credential_name: str


@dataclass(frozen=True)
class Digest:
    """The weekly digest: who is due within 30 days (soonest first), who is in grace, who
    has expired, and the renewals since last week."""

    due: tuple[Mention, ...] = ()
    grace: tuple[Mention, ...] = ()
    expired: tuple[Mention, ...] = ()
    renewed: tuple[Renewal, ...] = ()
    members: int = 0
    coverage: Coverage = field(default_factory=lambda: Coverage())
    before: Coverage | None = None  # last week's figures, when kept

    @property
    def all_clear(self) -> bool:
        return not (self.due or self.grace or self.expired)


def digest(
    members: Sequence[Member],
    today: date,
    renewed: Sequence[Renewal] = (),
    before: Coverage | None = None,
) -> Digest:
    due, grace, expired = [], [], []
    for member in members:
        for credential in member.credentials:
            if credential.end is None:
                continue
            if credential.standing is State.EXPIRED:
                expired.append(Mention(member, credential))
            elif credential.standing is State.IN_GRACE:
                grace.append(Mention(member, credential))
            elif (credential.end - today).days <= ALERT_DAYS:
                due.append(Mention(member, credential))

    def by_end(items: list[Mention]) -> tuple[Mention, ...]:
        return tuple(sorted(items, key=lambda m: (m.credential.end, m.member.name.casefold())))

    return Digest(
        by_end(due),
        by_end(grace),
        by_end(expired),
        tuple(renewed),
        len(members),
        coverage(members),
        before,
    )


def alert_owed(
    credential: Shared, joined_on: date, today: date, recorded: Iterable[str]
) -> str | None:
    """ "lapsed" once the deadline has passed, "d30" once it is 30 days away or less; None when
    said already, or when it happened by the day the member joined (the digest shows it)."""
    end = credential.end
    if end is None:
        return None
    said = set(recorded)
    if today > end:
        lapsed_on = end + timedelta(days=1)
        if "lapsed" in said or lapsed_on <= joined_on:
            return None
        return "lapsed"
    entered_on = end - timedelta(days=ALERT_DAYS)
    if today >= entered_on and "d30" not in said and entered_on > joined_on:
        return "d30"
    return None


def escalation_due(
    sent_at: datetime | None,
    answered: bool,
    nudge_cycle_end: date,
    current_cycle_end: date | None,
    now: datetime,
) -> bool:
    """The day-of reminder was sent, a day has passed without an answer, and the cycle is the
    same one (a renewal moves the cycle end, and then there is nothing to escalate)."""
    if sent_at is None or answered or current_cycle_end != nudge_cycle_end:
        return False
    return ESCALATE_AFTER <= now - sent_at <= ESCALATE_WITHIN


def _at(day: date, hour: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour), ZoneInfo(zone)).astimezone(UTC)


def next_weekly(zone: str, weekday: int, hour: int, now: datetime) -> datetime:
    """The next `weekday` at `hour` in the team's zone, after `now`, in UTC (right across
    daylight-saving changes: zoneinfo places the local hour)."""
    today = now.astimezone(ZoneInfo(zone)).date()
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    moment = _at(day, hour, zone)
    return moment if moment > now else _at(day + timedelta(days=7), hour, zone)


def same_week(first: date, second: date) -> bool:
    """The same ISO week (Monday to Sunday)."""
    return first.isocalendar()[:2] == second.isocalendar()[:2]


def next_digest(
    zone: str, weekday: int, hour: int, now: datetime, last_on: date | None
) -> datetime:
    """When the weekly digest is next owed: the next `weekday` at `hour` after `now`, but
    never in the local week of the last digest (`last_on`), so moving the day, the hour or
    the zone after this week's digest waits for next week's."""
    moment = next_weekly(zone, weekday, hour, now)
    if last_on is not None and same_week(moment.astimezone(ZoneInfo(zone)).date(), last_on):
        moment = next_weekly(zone, weekday, hour, moment)  # the same day a week later
    return moment


def next_daily(zone: str, hour: int, now: datetime) -> datetime:
    """The next `hour` in the team's zone after `now`, in UTC."""
    today = now.astimezone(ZoneInfo(zone)).date()
    moment = _at(today, hour, zone)
    return moment if moment > now else _at(today + timedelta(days=1), hour, zone)


@dataclass
class Pages:
    """Blocks of text joined into as few messages as fit Telegram's limit."""

    limit: int = MAX_MESSAGE
    pages: list[str] = field(default_factory=list)

    def add(self, block: str) -> None:
        while len(block) > self.limit:  # one block alone too long: cut at a line
            cut = block.rfind("\n", 0, self.limit)
            cut = cut if cut > 0 else self.limit
            self.add(block[:cut])
            block = block[cut:].lstrip("\n")
        if self.pages and len(self.pages[-1]) + 2 + len(block) <= self.limit:
            self.pages[-1] += "\n\n" + block
        elif block:
            self.pages.append(block)


def paginate(blocks: Iterable[str], limit: int = MAX_MESSAGE) -> list[str]:
    pages = Pages(limit)
    for block in blocks:
        pages.add(block)
    return pages.pages


# -- the team's escalation ladder -------------------------------------------------------------


class Audience(StrEnum):
    """Who a step of the ladder tells (their one-letter codes are stored and in buttons)."""

    TRAINER = "t"  # the member, privately, in the team's name
    MANAGERS = "m"  # each manager, privately
    GROUP = "g"  # the team's group (only when the team chose it)


AUDIENCES = tuple(Audience)
# What a step can be set to, in days before the deadline (None: the step is off), in the
# order a press on its button goes through them.
DAY_CHOICES: tuple[int | None, ...] = (None, 120, 90, 60, 45, 30, 14, 7, 3, 1)


@dataclass(frozen=True)
class Step:
    audience: Audience
    days: int | None  # None: off
    short_only: bool = False  # only while the cycle's credits are short

    @property
    def kind(self) -> str:
        """The once-per-credential-and-cycle record of this step (a TeamAlert kind)."""
        return f"ladder:{self.audience}"


Ladder = tuple[Step, ...]  # one step per audience, in AUDIENCES order


def parse_ladder(text: str | None, default: Ladder) -> Ladder:
    """ "t60,m30s,g-" (trainer at 60 days; managers at 30 if credits are short; the group
    never) as steps; what is missing or unreadable is the default's."""
    steps = {step.audience: step for step in default}
    for part in (text or "").split(","):
        if not part or part[0] not in {a.value for a in AUDIENCES}:
            continue
        audience, rest = Audience(part[0]), part[1:]
        short = rest.endswith("s")
        rest = rest.removesuffix("s")
        if rest == "-":
            steps[audience] = Step(audience, None, short)
        elif rest.isdigit() and int(rest) in DAY_CHOICES:
            steps[audience] = Step(audience, int(rest), short)
    return tuple(steps[audience] for audience in AUDIENCES)


def format_ladder(steps: Ladder) -> str:
    return ",".join(
        f"{s.audience}{'-' if s.days is None else s.days}{'s' if s.short_only else ''}"
        for s in steps
    )


# Certifications: the trainer alone until 60 days, the managers from 30 days if credits are
# short, the group never unless the team chooses it.
DEFAULT_LADDER = parse_ladder("t60,m30s,g-", ())
# CPR/AED cards earlier: a lapsed card needs an in-person class (booked weeks ahead) and
# takes the certifications it protects with it. A card has no credits to be short of.
DEFAULT_CARD_LADDER = parse_ladder("t90,m60,g-", ())


def next_choice(days: int | None) -> int | None:
    """The value a press on a step's button moves to."""
    index = DAY_CHOICES.index(days) if days in DAY_CHOICES else 0
    return DAY_CHOICES[(index + 1) % len(DAY_CHOICES)]


def changed_step(steps: Ladder, audience: Audience, *, days: bool, short: bool) -> Ladder:
    return tuple(
        Step(
            s.audience,
            next_choice(s.days) if days and s.audience is audience else s.days,
            (not s.short_only) if short and s.audience is audience else s.short_only,
        )
        for s in steps
    )


def short_of_credits(credential: Shared) -> bool:
    return bool(credential.required) and credential.counted < (credential.required or 0)


def steps_owed(
    steps: Ladder, credential: Shared, joined_on: date, today: date, said: Iterable[str]
) -> list[Step]:
    """The ladder's steps due for one credential today: its deadline is at most the step's
    days away and not passed, credits short where the step asks, not sent this cycle (`said`
    are its recorded kinds), and the step's day came after the member joined (joining is no
    consent to old news: the digest shows it)."""
    if credential.end is None or not credential.current or credential.days_left is None:
        return []
    if credential.days_left < 0:
        return []
    recorded = set(said)
    owed = []
    for step in steps:
        if step.days is None or step.kind in recorded or credential.days_left > step.days:
            continue
        if step.short_only and not short_of_credits(credential):
            continue
        if credential.end - timedelta(days=step.days) <= joined_on:
            continue
        owed.append(step)
    return owed
