"""Certification cycles: when a cycle ends, what it requires, and where a credential stands.

Pure functions of a `Rule` (from the catalog, or a trainer's custom credential) and dates.
Planning and the handlers both use them; nothing here does I/O or knows about Telegram.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from dateutil.relativedelta import relativedelta

DUE_SOON_DAYS = 90
NO_KNOWN_START = date(1970, 1, 1)


class CycleEnd(StrEnum):
    ANNIVERSARY = "anniversary"  # start + cycle, same day
    END_OF_MONTH = "end_of_month"  # last day of the month a cycle after the start (NCSF)
    DECEMBER_31 = "december_31"  # 31 December of the year the cycle ends (ACSM)
    FIXED_PERIOD = "fixed_period"  # one reporting period for everyone (NSCA)
    CARD_ONLY = "card_only"  # no published cycle: only what the card says


class State(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    IN_GRACE = "in_grace"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Rule:
    cycle_end: CycleEnd
    cycle_months: int | None = None
    units_required: Decimal | None = None
    grace_period_days: int | None = None
    # The grace period in calendar months where the body says "a year" or "six months": a
    # count of days would end it a day early across a leap day.
    grace_months: int | None = None
    period_anchor: date | None = None
    period_years: int | None = None
    # (certified before, units owed) bands for the anchor period, oldest first (NSCA).
    prorated: tuple[tuple[date, Decimal], ...] = field(default_factory=tuple)
    # The grace period ends on this (month, day), the first after the deadline (ACSM: 30 June,
    # a date, not a count of days: leap years move it).
    grace_end: tuple[int, int] | None = None
    # Credits earned up to this many days after the deadline still count (NASM: 90).
    credits_until_days: int | None = None


@dataclass(frozen=True)
class Cycle:
    start: date
    end: date | None  # None: the credential does not expire
    units_required: Decimal | None


class RuleError(ValueError):
    """The rule cannot place that date (for example a card-only credential's cycle)."""


def _last_day_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _period_containing(rule: Rule, day: date) -> tuple[date, date]:
    assert rule.period_anchor is not None and rule.period_years is not None
    offset = (day.year - rule.period_anchor.year) // rule.period_years
    start = rule.period_anchor + relativedelta(years=offset * rule.period_years)
    end = start + relativedelta(years=rule.period_years) - timedelta(days=1)
    return start, end


def _prorated_units(rule: Rule, period_start: date, certified: date) -> Decimal | None:
    """NSCA owes less to people certified during the period; the table is given for the
    anchor period and moves with each later period."""
    assert rule.period_anchor is not None
    shift = relativedelta(years=period_start.year - rule.period_anchor.year)
    for certified_before, units in rule.prorated:
        if certified < certified_before + shift:
            return units
    return rule.units_required


def _end_after(rule: Rule, start: date) -> date:
    assert rule.cycle_months is not None
    end = start + relativedelta(months=rule.cycle_months)
    if rule.cycle_end is CycleEnd.END_OF_MONTH:
        return _last_day_of_month(end)
    if rule.cycle_end is CycleEnd.DECEMBER_31:
        return date(end.year, 12, 31)
    return end


def cycle_from_start(rule: Rule, start: date, today: date) -> Cycle:
    """The cycle that began when the trainer certified (or last renewed) on `start`."""
    if rule.cycle_end is CycleEnd.CARD_ONLY:
        return Cycle(start, None, rule.units_required)
    if rule.cycle_end is CycleEnd.FIXED_PERIOD:
        period_start, period_end = _period_containing(rule, max(start, today))
        units = (
            _prorated_units(rule, period_start, start)
            if start >= period_start
            else rule.units_required
        )
        if units is not None and units == 0:
            # Certified too late in the period to owe anything for it (NSCA: 1 July to
            # 31 December of its last year): the real deadline is the next period's end.
            following = period_end + timedelta(days=1)
            return Cycle(following, _period_containing(rule, following)[1], rule.units_required)
        return Cycle(max(start, period_start), period_end, units)
    return Cycle(start, _end_after(rule, start), rule.units_required)


def waived_period(rule: Rule, certified_on: date | None, cycle: Cycle) -> tuple[date, date] | None:
    """The reporting period that owed nothing because the trainer certified late in it (NSCA),
    when the current cycle is the one after it."""
    if rule.cycle_end is not CycleEnd.FIXED_PERIOD or certified_on is None:
        return None
    if certified_on >= cycle.start:
        return None
    period_start, period_end = _period_containing(rule, certified_on)
    if period_end + timedelta(days=1) != cycle.start:
        return None
    units = _prorated_units(rule, period_start, certified_on)
    return (period_start, period_end) if units is not None and units == 0 else None


def grace_end(rule: Rule, deadline: date) -> date | None:
    """The last day a late renewal is accepted, or None where the body allows none."""
    if rule.grace_end is not None:
        month, day = rule.grace_end
        candidate = _month_day(deadline.year, month, day)
        return candidate if candidate > deadline else _month_day(deadline.year + 1, month, day)
    if rule.grace_months:
        return deadline + relativedelta(months=rule.grace_months)
    if rule.grace_period_days:
        return deadline + timedelta(days=rule.grace_period_days)
    return None


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def credits_close(rule: Rule, deadline: date) -> date:
    """The last day a credit can be earned toward the cycle ending on `deadline`: the body's
    own window after expiry (NASM: 90 days), else the end of the grace period (a late renewal
    still needs the credits), else the deadline."""
    if rule.credits_until_days is not None:
        return deadline + timedelta(days=rule.credits_until_days)
    return grace_end(rule, deadline) or deadline


def counts_on(rule: Rule, cycle: Cycle, day: date) -> bool:
    """Whether a credit earned on `day` belongs to this cycle."""
    if day < cycle.start:
        return False
    return cycle.end is None or day <= credits_close(rule, cycle.end)


def cycle_from_expiry(rule: Rule, expiry: date) -> Cycle:
    """The cycle that ends on the expiry date printed on the card."""
    if rule.cycle_end is CycleEnd.CARD_ONLY or rule.cycle_months is None:
        # No published cycle: every credit so far counts, every reminder before the card's
        # date is owed.
        return Cycle(NO_KNOWN_START, expiry, rule.units_required)
    if rule.cycle_end is CycleEnd.FIXED_PERIOD:
        period_start, period_end = _period_containing(rule, expiry)
        return Cycle(period_start, period_end, rule.units_required)
    start = expiry - relativedelta(months=rule.cycle_months)
    if rule.cycle_end is CycleEnd.DECEMBER_31:
        start = date(start.year + 1, 1, 1)
    return Cycle(start, expiry, rule.units_required)


def next_cycle(rule: Rule, cycle: Cycle) -> Cycle:
    """After a renewal: the following cycle, with the full requirement."""
    if cycle.end is None:
        raise RuleError("a credential without expiry has no next cycle")
    if rule.cycle_end is CycleEnd.FIXED_PERIOD:
        start = cycle.end + timedelta(days=1)
        return Cycle(start, _period_containing(rule, start)[1], rule.units_required)
    if rule.cycle_months is None:  # card-only: the trainer types the new date
        raise RuleError("no published cycle: ask for the new expiry date")
    end = _end_after(rule, cycle.end)
    return Cycle(cycle.end + timedelta(days=1), end, rule.units_required)


def state_of(rule: Rule, cycle: Cycle, today: date) -> State:
    """Where the cycle is in its life: the one rule every screen's state word comes from."""
    if cycle.end is None or today <= cycle.end - timedelta(days=DUE_SOON_DAYS):
        return State.ON_TRACK
    if today <= cycle.end:
        return State.DUE_SOON
    last = grace_end(rule, cycle.end)
    if last is not None and today <= last:
        return State.IN_GRACE
    return State.EXPIRED
