"""Nudge planning: which reminders a credential is owed, and when, as pure functions.

Every reminder is a milestone with a stable name (`d90`, `d0`, `grace30`, `after`, `pace-2026-11`,
`repeat-d5`), placed at the trainer's reminder hour in their own time zone (zoneinfo, so the
hour stays right across daylight-saving changes). The sweep records each milestone once; the
planner only says what is owed and what comes next.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from scheduler.credits import pace
from scheduler.cycles import Cycle

MILESTONES = {
    "gentle": (90, 30, 7, 0),
    "normal": (180, 90, 60, 30, 14, 7, 3, 1, 0),
    "intense": (180, 120, 90, 60, 45, 30, 21, 14, 10, 7, 5, 3, 2, 1, 0),
}
FINAL_WEEK = 7
SNOOZE_URGENCY = 500  # below any deadline milestone due at the same time
PACE_LATE = timedelta(hours=2)  # a pace reminder found later than this waits a month
GRACE_EVERY = 30  # days between reminders during the grace period


@dataclass(frozen=True)
class Prefs:
    """The trainer's reminder settings."""

    zone: str
    hour: int
    intensity: str = "normal"
    quiet_start: int | None = None
    quiet_end: int | None = None

    def is_quiet(self, hour: int) -> bool:
        if self.quiet_start is None or self.quiet_end is None:
            return False
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= hour < self.quiet_end
        return hour >= self.quiet_start or hour < self.quiet_end  # across midnight


@dataclass(frozen=True)
class Subject:
    """One credential, as the planner sees it."""

    cycle: Cycle
    grace_days: int | None
    counted: Decimal
    cycle_set_at: datetime  # milestones due before the dates were set are not owed
    snoozed_until: datetime | None = None
    stopped: bool = False
    # The last final-week nudge went unanswered: repeat daily until answered.
    final_unanswered: bool = False


@dataclass(frozen=True)
class Planned:
    milestone: str
    due_at: datetime  # UTC
    urgency: int  # higher is more urgent


def at_local_hour(day: date, prefs: Prefs) -> datetime:
    """`day` at the trainer's hour, in UTC. Out of quiet hours for repeats is the caller's."""
    local = datetime.combine(day, time(prefs.hour), ZoneInfo(prefs.zone))
    return local.astimezone(UTC)


def _out_of_quiet(day: date, prefs: Prefs) -> datetime:
    hour = prefs.hour
    if prefs.is_quiet(hour) and prefs.quiet_end is not None:
        hour = prefs.quiet_end
    return at_local_hour(day, Prefs(prefs.zone, hour))


def milestones(subject: Subject, prefs: Prefs) -> list[Planned]:
    """Every milestone of the current cycle, in time order (pace and repeats excluded)."""
    end = subject.cycle.end
    if end is None:
        return []
    planned = []
    days_before = MILESTONES.get(prefs.intensity, MILESTONES["normal"])
    for days in days_before:
        day = end - timedelta(days=days)
        if day >= subject.cycle.start:
            planned.append(Planned(f"d{days}", at_local_hour(day, prefs), 1000 - days))
    grace = subject.grace_days or 0
    for after in range(1, grace, GRACE_EVERY):
        planned.append(
            Planned(
                f"grace{after}", at_local_hour(end + timedelta(days=after), prefs), 1000 + after
            )
        )
    last = end + timedelta(days=grace + 1)
    planned.append(Planned("after", at_local_hour(last, prefs), 5000))
    return sorted(planned, key=lambda item: item.due_at)


def _pace_nudges(subject: Subject, prefs: Prefs, now: datetime) -> list[Planned]:
    """At most one a month, on the 1st at the reminder hour, while behind a steady pace. This
    month's and next month's are planned, so the sweep looks again on the 1st; whether one is
    owed is decided again when it falls due."""
    cycle = subject.cycle
    if cycle.end is None or not cycle.units_required:
        return []
    today = now.astimezone(ZoneInfo(prefs.zone)).date()
    steady = pace(cycle, subject.counted, today)
    if steady is None or not steady.behind:
        return []
    this_month = today.replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    last_day = cycle.end - timedelta(days=FINAL_WEEK)  # the deadline nudges say it by then
    planned = [
        Planned(f"pace-{first:%Y-%m}", at_local_hour(first, prefs), 1)
        for first in (this_month, next_month)
        if first < last_day
    ]
    # Not at 23:00 on the 14th because a credit was undone then: this month's is owed only
    # around its own time on the 1st.
    return [item for item in planned if item.due_at + PACE_LATE >= now]


def _repeats(subject: Subject, prefs: Prefs, recorded: Collection[str]) -> list[Planned]:
    """In the final week, each day without a milestone repeats the last unanswered nudge."""
    end = subject.cycle.end
    if end is None or not subject.final_unanswered:
        return []
    own_days = {int(m[1:]) for m in recorded if m.startswith("d") and m[1:].isdigit()}
    planned_days = set(MILESTONES.get(prefs.intensity, MILESTONES["normal"]))
    result = []
    for days in range(FINAL_WEEK - 1, 0, -1):
        if days in planned_days or days in own_days:
            continue
        day = end - timedelta(days=days)
        result.append(Planned(f"repeat-d{days}", _out_of_quiet(day, prefs), 1000 - days))
    return result


def owed(
    subject: Subject, prefs: Prefs, now: datetime, recorded: Collection[str]
) -> list[Planned]:
    """Everything owed and not yet recorded, due or not, in time order."""
    if subject.stopped:
        return []
    items = [*milestones(subject, prefs), *_repeats(subject, prefs, recorded)]
    items.extend(_pace_nudges(subject, prefs, now))
    snoozed = subject.snoozed_until
    if snoozed is not None and snoozed >= subject.cycle_set_at and subject.cycle.end is not None:
        # A snooze is a promise: a reminder at the time chosen, whatever the milestones say.
        items.append(Planned(f"snooze-{snoozed:%Y%m%d%H%M}", snoozed, SNOOZE_URGENCY))
    return sorted(
        (
            item
            for item in items
            if item.milestone not in recorded and item.due_at >= subject.cycle_set_at
        ),
        key=lambda item: item.due_at,
    )


def due(subject: Subject, prefs: Prefs, now: datetime, recorded: Collection[str]) -> list[Planned]:
    """What is due now (snoozes respected), most urgent first: after downtime only the first is
    sent and the rest are recorded as skipped."""
    if subject.snoozed_until is not None and now < subject.snoozed_until:
        return []
    items = [item for item in owed(subject, prefs, now, recorded) if item.due_at <= now]
    return sorted(items, key=lambda item: (item.urgency, item.due_at), reverse=True)


def next_at(
    subject: Subject, prefs: Prefs, now: datetime, recorded: Collection[str]
) -> datetime | None:
    """When the sweep should look at this credential again."""
    pending = owed(subject, prefs, now, recorded)
    moment = pending[0].due_at if pending else None
    if subject.snoozed_until is not None and moment is not None:
        moment = max(moment, subject.snoozed_until)
    check = _next_pace_check(subject, prefs, now)
    if check is not None and (moment is None or check < moment):
        moment = check  # ahead of pace today is no promise for next month: look again then
    return moment


def _next_pace_check(subject: Subject, prefs: Prefs, now: datetime) -> datetime | None:
    cycle = subject.cycle
    if (
        subject.stopped
        or cycle.end is None
        or not cycle.units_required
        or subject.counted >= cycle.units_required
    ):
        return None
    today = now.astimezone(ZoneInfo(prefs.zone)).date()
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    if first >= cycle.end - timedelta(days=FINAL_WEEK):
        return None
    return at_local_hour(first, prefs)


def upcoming(subject: Subject, prefs: Prefs, now: datetime) -> datetime | None:
    """The next reminder after `now`, for showing (what is already past is the sweep's)."""
    later = [item.due_at for item in owed(subject, prefs, now, recorded=()) if item.due_at > now]
    if not later:
        return None
    moment = min(later)
    if subject.snoozed_until is not None:
        moment = max(moment, subject.snoozed_until)
    return moment
