"""A credential's one standing: every figure a person is shown about it comes from here.

`standing_of(holding, earned, prefs, now, recorded)` answers, for one credential: its deadline,
what this cycle owes (which may be zero), what counts (capped where the body caps), the grace
end and what happens after it, the last day credits count, an urgency, pace where pace means
something, and the next reminder, the very one the sweep will send. `/add`, `/status` and its
picture, `/credentials`, reminders, the roster, the digest, team alerts and the exports read
it; nothing else works these out. Pure: no I/O, no Telegram, no storage.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum

from scheduler.credits import Earned, Fineprint, Pace, counted, pace
from scheduler.cycles import (
    Cycle,
    CycleEnd,
    Rule,
    State,
    credits_close,
    grace_end,
    state_of,
    waived_period,
)
from scheduler.plan import FINAL_WEEK, Planned, Prefs, Subject, outlook

URGENT_DAYS = 30  # short of credits with this little time left: urgent (red)
FINAL_DAYS = 7  # this close, urgent whatever the credits


class Urgency(StrEnum):
    """How alarming a credential is, worst last; the tone of every screen's icon."""

    OK = "ok"
    BEHIND = "behind"  # behind a steady pace, with time to catch up
    SOON = "soon"  # due within 90 days
    URGENT = "urgent"  # short with 30 days or fewer, or due within a week
    GRACE = "grace"  # the deadline passed; a late renewal is still accepted
    LAPSED = "lapsed"  # past any grace: renewal as usual is closed


ORDER = tuple(Urgency)


@dataclass(frozen=True)
class Holding:
    """A held credential as the core sees it (storage builds it from the row and catalog)."""

    rule: Rule
    cycle: Cycle
    certified_on: date | None = None  # None: the dates came from the card
    cycle_set_at: datetime | None = None
    snoozed_until: datetime | None = None
    stopped: bool = False
    fineprint: Fineprint = field(default_factory=Fineprint)
    # When the last final-week reminder went out, if it is still unanswered (UTC).
    final_unanswered_at: datetime | None = None
    final_sent: bool = False  # a final-week reminder of this cycle went out (answered or not)

    @property
    def deadline_from_rule(self) -> bool:
        """The bot worked the deadline out (from the certification date and the rule), rather
        than the trainer typing it from the card."""
        return self.certified_on is not None and self.cycle.end is not None

    @property
    def credits_until(self) -> date | None:
        """The last day a credit counts toward this cycle: the deadline, or the window after
        it the body allows (NASM: 90 days; else the grace period). None: no deadline."""
        end = self.cycle.end
        return None if end is None else credits_close(self.rule, end)

    def earned_in_cycle(self, earned: Sequence[Earned]) -> list[Earned]:
        """The credits that count toward this cycle (from its start to `credits_until`)."""
        start, last = self.cycle.start, self.credits_until
        return [
            e for e in earned if e.earned_on >= start and (last is None or e.earned_on <= last)
        ]


@dataclass(frozen=True)
class Standing:
    state: State
    urgency: Urgency
    today: date
    deadline: date | None
    owed: Decimal | None  # this cycle's requirement (0: nothing owed); None: none known
    counted: Decimal  # what counts toward it (capped where the body caps)
    grace_end: date | None
    credits_close: date | None  # the last day a credit counts toward this cycle
    pace: Pace | None  # only before the deadline, while something is owed
    next_reminder: Planned | None
    next_reminder_at: datetime | None
    next_look_at: datetime | None  # when the sweep looks again (a pace check, or the reminder)
    waived: tuple[date, date] | None  # a period that owed nothing (NSCA, certified late in it)
    deadline_from_rule: bool
    card_only: bool  # the body publishes no cycle: only the card's date can say

    @property
    def days_left(self) -> int | None:
        return None if self.deadline is None else (self.deadline - self.today).days

    @property
    def remaining(self) -> Decimal:
        if not self.owed:
            return Decimal(0)
        return max(Decimal(0), self.owed - self.counted)

    @property
    def complete(self) -> bool:
        return self.owed is not None and self.remaining == 0

    @property
    def credits_open(self) -> bool:
        """Credits logged today still count toward this cycle."""
        return self.credits_close is None or self.today <= self.credits_close

    @property
    def grace_days_left(self) -> int | None:
        return None if self.grace_end is None else (self.grace_end - self.today).days


def urgency_of(
    state: State,
    owed: Decimal | None,
    remaining: Decimal,
    days_left: int | None,
    steady: Pace | None,
) -> Urgency:
    """The one rule for how alarming a credential is."""
    if state is State.EXPIRED:
        return Urgency.LAPSED
    if state is State.IN_GRACE:
        return Urgency.GRACE
    if days_left is not None and (
        days_left <= FINAL_DAYS or (days_left <= URGENT_DAYS and owed and remaining > 0)
    ):
        return Urgency.URGENT
    if state is State.DUE_SOON:
        return Urgency.SOON
    if steady is not None and steady.behind:
        return Urgency.BEHIND
    return Urgency.OK


def subject_for(
    holding: Holding, earned: Sequence[Earned], prefs: Prefs, now: datetime
) -> Subject:
    """The planner's view of a credential: the sweep and every screen plan from this one."""
    end, owed = holding.cycle.end, holding.cycle.units_required
    points = counted(holding.earned_in_cycle(earned), holding.fineprint)
    set_at = holding.cycle_set_at or now
    sent = holding.final_unanswered_at
    since = None if sent is None else prefs.today(sent)
    set_day = prefs.today(set_at)
    if (
        since is None
        and not holding.final_sent
        and end is not None
        and 0 <= (end - set_day).days <= FINAL_WEEK
        and owed
        and points < owed
    ):
        # Saved in its final week and short: saving it said so, so the daily final-week
        # reminders start at the next reminder hour instead of waiting for a milestone.
        since = set_day
    return Subject(
        cycle=holding.cycle,
        grace_end=grace_end(holding.rule, end) if end is not None else None,
        counted=points,
        cycle_set_at=set_at,
        snoozed_until=holding.snoozed_until,
        stopped=holding.stopped,
        final_unanswered_since=since,
    )


def standing_of(
    holding: Holding,
    earned: Sequence[Earned],
    prefs: Prefs,
    now: datetime,
    recorded: Collection[str] = (),
) -> Standing:
    """The whole standing of one credential at `now` (its credits may include other cycles':
    only those that count are counted). `recorded` are this cycle's milestone keys the sweep
    has already recorded: with them the next reminder is the sweep's own."""
    rule, cycle = holding.rule, holding.cycle
    today = prefs.today(now)
    end = cycle.end
    state = state_of(rule, cycle, today)
    subject = subject_for(holding, earned, prefs, now)
    points, last_grace = subject.counted, subject.grace_end
    owed = cycle.units_required
    remaining = max(Decimal(0), owed - points) if owed else Decimal(0)
    steady = pace(cycle, points, today) if end is not None and today <= end and remaining else None
    ahead = outlook(subject, prefs, now, recorded) if end is not None else None
    return Standing(
        state=state,
        urgency=urgency_of(
            state, owed, remaining, None if end is None else (end - today).days, steady
        ),
        today=today,
        deadline=end,
        owed=owed,
        counted=points,
        grace_end=last_grace,
        credits_close=holding.credits_until,
        pace=steady,
        next_reminder=ahead.reminder if ahead else None,
        next_reminder_at=ahead.reminder_at if ahead else None,
        next_look_at=ahead.look_at if ahead else None,
        waived=waived_period(rule, holding.certified_on, cycle),
        deadline_from_rule=holding.deadline_from_rule,
        card_only=rule.cycle_end is CycleEnd.CARD_ONLY,
    )


def standing_on(holding: Holding, earned: Sequence[Earned], today: date) -> Standing:
    """The standing as of a day, for what is seen without a trainer's reminder settings (a
    team's roster and digest): the same figures, without the next reminder."""
    now = datetime.combine(today, time(12), UTC)
    return standing_of(replace(holding, stopped=True), earned, Prefs("UTC", 12), now)


def worst(urgencies: Sequence[Urgency]) -> Urgency:
    return max(urgencies, key=ORDER.index, default=Urgency.OK)


def cpr_covers(card_ends: Sequence[date | None], today: date) -> bool:
    """The CPR/AED rule: a certification that needs a card is covered while one is current."""
    return any(end is None or end >= today for end in card_ends)
