"""Nudge planning: which reminders a credential is owed, and when, as pure functions.

Every reminder is a `Milestone` (a value: its kind, its days from the deadline, its urgency,
whether it belongs to the final week), stored under a stable key (`d90`, `d0`, `grace31`,
`after`, `pace-2026-11`, `repeat-d5`, `snooze-202612011530`) and placed at the trainer's
reminder hour in their own time zone (zoneinfo, so the hour stays right across daylight-saving
changes). The sweep records each milestone once; the planner only says what is owed, what is
due now and what comes next. `scheduler.standing` is the only caller outside the tests.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from scheduler.credits import pace
from scheduler.cycles import Cycle

MILESTONES = {
    "gentle": (90, 30, 7, 0),
    "normal": (180, 90, 60, 30, 14, 7, 3, 1, 0),
    "intense": (180, 120, 90, 60, 45, 30, 21, 14, 10, 7, 5, 3, 2, 1, 0),
}
FINAL_WEEK = 7  # days before the deadline in which an unanswered reminder repeats daily
PACE_LATE = timedelta(hours=2)  # a pace reminder found later than this waits a month
GRACE_EVERY = 30  # days between reminders during the grace period
# A reminder found later than this (the bot was down) waits for the trainer's next reminder
# hour: never a catch-up at 3 a.m.
CATCH_UP_LATE = timedelta(hours=2)


class Kind(StrEnum):
    BEFORE = "d"  # days before the deadline (d0: the day itself)
    REPEAT = "repeat"  # a final-week day without its own milestone
    GRACE = "grace"  # days after the deadline, inside the grace period
    AFTER = "after"  # the one message once the grace period is over
    PACE = "pace"  # behind a steady pace (once a month)
    SNOOZE = "snooze"  # the moment the trainer asked for


@dataclass(frozen=True)
class Milestone:
    """One reminder of a cycle. `days` counts from the deadline: before it for BEFORE and
    REPEAT, after it for GRACE; `tag` is the month of a pace reminder or the snooze's time."""

    kind: Kind
    days: int = 0
    tag: str = ""

    @functools.cached_property
    def key(self) -> str:
        """The stored name: one row per (credential, cycle end, key)."""
        if self.kind is Kind.BEFORE:
            return f"d{self.days}"
        if self.kind is Kind.REPEAT:
            return f"repeat-d{self.days}"
        if self.kind is Kind.GRACE:
            return f"grace{self.days}"
        if self.kind is Kind.AFTER:
            return "after"
        return f"{self.kind.value}-{self.tag}"

    @property
    def urgency(self) -> int:
        """Higher is more urgent: after downtime only the most urgent due one is sent."""
        if self.kind in (Kind.BEFORE, Kind.REPEAT):
            return 1000 - self.days
        if self.kind is Kind.GRACE:
            return 1000 + self.days
        if self.kind is Kind.AFTER:
            return 5000
        if self.kind is Kind.SNOOZE:
            return 500  # below any deadline milestone due at the same time
        return 1  # pace

    @property
    def final_week(self) -> bool:
        """Left unanswered, it is repeated daily until the deadline (a snooze counts: it was a
        promise to come back)."""
        if self.kind is Kind.BEFORE:
            return self.days <= FINAL_WEEK
        return self.kind in (Kind.REPEAT, Kind.SNOOZE)

    @classmethod
    def parse(cls, key: str) -> Milestone:
        """The value behind a stored key (the inverse of `key`)."""
        if key == "after":
            return cls(Kind.AFTER)
        if key.startswith("repeat-d"):
            return cls(Kind.REPEAT, int(key.removeprefix("repeat-d")))
        if key.startswith("grace"):
            return cls(Kind.GRACE, int(key.removeprefix("grace")))
        if key.startswith("pace-"):
            return cls(Kind.PACE, tag=key.removeprefix("pace-"))
        if key.startswith("snooze-"):
            return cls(Kind.SNOOZE, tag=key.removeprefix("snooze-"))
        if key.startswith("d") and key[1:].isdecimal():
            return cls(Kind.BEFORE, int(key[1:]))
        raise ValueError(f"not a milestone: {key!r}")


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

    @functools.cached_property
    def tz(self) -> ZoneInfo:
        # Looked up once per Prefs: a standing places some twenty milestones in this zone.
        return ZoneInfo(self.zone)

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()


@dataclass(frozen=True)
class Subject:
    """One credential, as the planner sees it."""

    cycle: Cycle
    grace_end: date | None  # the last day of the grace period, if the body allows one
    counted: Decimal
    cycle_set_at: datetime  # milestones due before the dates were set are not owed
    snoozed_until: datetime | None = None
    stopped: bool = False
    # The local day the last final-week reminder went out unanswered: from the day after,
    # each final-week day without its own milestone repeats it.
    final_unanswered_since: date | None = None


@dataclass(frozen=True)
class Planned:
    milestone: Milestone
    due_at: datetime  # UTC

    @property
    def urgency(self) -> int:
        return self.milestone.urgency


def at_local_hour(day: date, prefs: Prefs) -> datetime:
    """`day` at the trainer's hour, in UTC. Out of quiet hours for repeats is the caller's."""
    local = datetime.combine(day, time(prefs.hour), prefs.tz)
    return local.astimezone(UTC)


def _out_of_quiet(day: date, prefs: Prefs) -> datetime:
    hour = prefs.hour
    if prefs.is_quiet(hour) and prefs.quiet_end is not None:
        hour = prefs.quiet_end
    return at_local_hour(day, replace(prefs, hour=hour))


@functools.cache
def _milestone(kind: Kind, days: int = 0) -> Milestone:
    """One value per deadline milestone (a few hundred at most), its key worked out once."""
    return Milestone(kind, days)


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
            planned.append(Planned(_milestone(Kind.BEFORE, days), at_local_hour(day, prefs)))
    last = subject.grace_end or end
    for after in range(1, (last - end).days, GRACE_EVERY):
        day = end + timedelta(days=after)
        planned.append(Planned(_milestone(Kind.GRACE, after), at_local_hour(day, prefs)))
    planned.append(Planned(_milestone(Kind.AFTER), at_local_hour(last + timedelta(days=1), prefs)))
    return sorted(planned, key=lambda item: item.due_at)


def _pace_nudges(subject: Subject, prefs: Prefs, now: datetime) -> list[Planned]:
    """At most one a month, on the 1st at the reminder hour, while behind a steady pace. This
    month's and next month's are planned, so the sweep looks again on the 1st; whether one is
    owed is decided again when it falls due."""
    cycle = subject.cycle
    if cycle.end is None or not cycle.units_required:
        return []
    today = prefs.today(now)
    steady = pace(cycle, subject.counted, today)
    if steady is None or not steady.behind:
        return []
    this_month = today.replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    last_day = cycle.end - timedelta(days=FINAL_WEEK)  # the deadline nudges say it by then
    planned = [
        Planned(Milestone(Kind.PACE, tag=f"{first:%Y-%m}"), at_local_hour(first, prefs))
        for first in (this_month, next_month)
        if first < last_day
    ]
    # Not at 23:00 on the 14th because a credit was undone then: this month's is owed only
    # around its own time on the 1st.
    return [item for item in planned if item.due_at + PACE_LATE >= now]


def _repeats(subject: Subject, prefs: Prefs, recorded: Collection[str]) -> list[Planned]:
    """In the final week, each day after the last unanswered reminder that has no milestone of
    its own repeats it (never the same day: a catch-up is not followed by its own repeat)."""
    end, since = subject.cycle.end, subject.final_unanswered_since
    if end is None or since is None:
        return []
    planned_days = set(MILESTONES.get(prefs.intensity, MILESTONES["normal"]))
    result = []
    for days in range(FINAL_WEEK - 1, 0, -1):
        day = end - timedelta(days=days)
        if days in planned_days or day <= since or f"d{days}" in recorded:
            continue
        result.append(Planned(Milestone(Kind.REPEAT, days), _out_of_quiet(day, prefs)))
    return result


def _snooze(subject: Subject) -> list[Planned]:
    snoozed = subject.snoozed_until
    if snoozed is None or snoozed < subject.cycle_set_at or subject.cycle.end is None:
        return []
    # A snooze is a promise: a reminder at the time chosen, whatever the milestones say.
    return [Planned(Milestone(Kind.SNOOZE, tag=f"{snoozed:%Y%m%d%H%M}"), snoozed)]


def owed(
    subject: Subject, prefs: Prefs, now: datetime, recorded: Collection[str]
) -> list[Planned]:
    """Everything owed and not yet recorded, due or not, in time order."""
    if subject.stopped:
        return []
    items = [
        *milestones(subject, prefs),
        *_repeats(subject, prefs, recorded),
        *_pace_nudges(subject, prefs, now),
        *_snooze(subject),
    ]
    return sorted(
        (
            item
            for item in items
            if item.milestone.key not in recorded and item.due_at >= subject.cycle_set_at
        ),
        key=lambda item: item.due_at,
    )


def next_window(prefs: Prefs, now: datetime) -> datetime:
    """The start of the trainer's next reminder hour (now, if it is running)."""
    today = prefs.today(now)
    for day in (today, today + timedelta(days=1)):
        start = at_local_hour(day, prefs)
        if start <= now < start + CATCH_UP_LATE:
            return now
        if start > now:
            return start
    return at_local_hour(today + timedelta(days=2), prefs)


def _sendable_at(item: Planned, prefs: Prefs, now: datetime) -> datetime:
    """When a due item may go out: at once when it is fresh, else (after downtime) at the
    trainer's next reminder hour."""
    if now - item.due_at <= CATCH_UP_LATE:
        return now
    return next_window(prefs, now)


def _due_of(
    pending: list[Planned], subject: Subject, prefs: Prefs, now: datetime
) -> list[Planned]:
    if subject.snoozed_until is not None and now < subject.snoozed_until:
        return []
    items = [item for item in pending if item.due_at <= now]
    items.sort(key=lambda item: (item.urgency, item.due_at), reverse=True)
    if items and _sendable_at(items[0], prefs, now) > now:
        return []
    return items


def due(subject: Subject, prefs: Prefs, now: datetime, recorded: Collection[str]) -> list[Planned]:
    """What is due now (snoozes respected), most urgent first: after downtime only the first is
    sent and the rest are recorded as skipped. A catch-up waits for the trainer's hour."""
    return _due_of(owed(subject, prefs, now, recorded), subject, prefs, now)


@dataclass(frozen=True)
class Outlook:
    """What comes next for a credential, from one planner run: the reminder the sweep will send
    next and when (`None` when none is owed), and when the sweep should look again."""

    reminder: Planned | None
    reminder_at: datetime | None
    look_at: datetime | None


def outlook(subject: Subject, prefs: Prefs, now: datetime, recorded: Collection[str]) -> Outlook:
    """The next reminder (the one every screen shows) and the sweep's next look, planning the
    cycle once."""
    pending = owed(subject, prefs, now, recorded)
    found = _next_of(pending, subject, prefs, now)
    moment = found[1] if found else None
    check = _next_pace_check(subject, prefs, now)
    look = moment
    if check is not None and (moment is None or check < moment):
        look = check  # ahead of pace today is no promise for next month: look again then
    return Outlook(found[0] if found else None, moment, look)


def _next_of(
    pending: list[Planned], subject: Subject, prefs: Prefs, now: datetime
) -> tuple[Planned, datetime] | None:
    now_due = _due_of(pending, subject, prefs, now)
    if now_due:
        return now_due[0], now
    if not pending:
        return None
    overdue = [item for item in pending if item.due_at <= now]
    if overdue:  # waiting for a snooze, or for the trainer's hour after downtime
        first = max(overdue, key=lambda item: (item.urgency, item.due_at))
        moment = next_window(prefs, now)
    else:
        first = pending[0]
        moment = first.due_at
    if subject.snoozed_until is not None:
        moment = max(moment, subject.snoozed_until)
    return first, moment


def next_reminder(
    subject: Subject, prefs: Prefs, now: datetime, recorded: Collection[str]
) -> tuple[Planned, datetime] | None:
    """The next reminder the sweep will send, and when: the one shown on every screen."""
    found = outlook(subject, prefs, now, recorded)
    if found.reminder is None or found.reminder_at is None:
        return None
    return found.reminder, found.reminder_at


def next_at(
    subject: Subject, prefs: Prefs, now: datetime, recorded: Collection[str]
) -> datetime | None:
    """When the sweep should look at this credential again."""
    return outlook(subject, prefs, now, recorded).look_at


def _next_pace_check(subject: Subject, prefs: Prefs, now: datetime) -> datetime | None:
    cycle = subject.cycle
    if (
        subject.stopped
        or cycle.end is None
        or not cycle.units_required
        or subject.counted >= cycle.units_required
    ):
        return None
    today = prefs.today(now)
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    if first >= cycle.end - timedelta(days=FINAL_WEEK):
        return None
    return at_local_hour(first, prefs)


def snooze_until(
    cycle_end: date | None, prefs: Prefs, now: datetime, days: int
) -> tuple[datetime, bool]:
    """When a snooze of `days` ends, and whether it was shortened: never past the deadline
    day, and in the final week never past tomorrow (the daily repeats go on)."""
    today = prefs.today(now)
    wanted = today + timedelta(days=days)
    if cycle_end is None or today > cycle_end:
        return at_local_hour(wanted, prefs), False
    latest = cycle_end
    if (cycle_end - today).days <= FINAL_WEEK:
        latest = min(latest, today + timedelta(days=1))
    latest = max(latest, today + timedelta(days=1))
    day = min(wanted, latest)
    return at_local_hour(day, prefs), day < wanted
