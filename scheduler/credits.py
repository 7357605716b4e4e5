"""The fine print of continuing education, as pure functions: what a credit counts for,
category caps and pace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from scheduler.cycles import Cycle

AVERAGE_MONTH_DAYS = Decimal("30.44")
CENT = Decimal("0.01")


class Refusal(StrEnum):
    FUTURE = "future"  # earned after today
    BEFORE_CYCLE = "before_cycle"  # earned before the current cycle began
    AFTER_CYCLE = "after_cycle"  # earned after the cycle ended
    REPEAT = "repeat"  # the same course twice, where the body forbids it


@dataclass(frozen=True)
class Earned:
    units: Decimal
    earned_on: date
    title: str
    category: str | None = None


@dataclass(frozen=True)
class Fineprint:
    """What the body's rules say about one credential's credits."""

    no_repeats: bool = False
    no_rollover: bool = False
    # Category letter -> the most that counts, and how many categories must be used (NSCA).
    caps: Mapping[str, Decimal] | None = None
    min_categories: int | None = None


def refusal(
    cycle: Cycle,
    earned: Sequence[Earned],
    new: Earned,
    rules: Fineprint,
    today: date,
    last_day: date | None = None,
) -> Refusal | None:
    """Why this credit cannot count toward this cycle, or None when it can. `last_day` is the
    last day credits count (the body's window after the deadline; default the cycle's end)."""
    last_day = last_day or cycle.end
    if new.earned_on > today:
        return Refusal.FUTURE
    if new.earned_on < cycle.start:
        return Refusal.BEFORE_CYCLE
    if last_day is not None and new.earned_on > last_day:
        return Refusal.AFTER_CYCLE
    if rules.no_repeats and any(_same_course(old.title, new.title) for old in earned):
        return Refusal.REPEAT
    return None


def _same_course(first: str, second: str) -> bool:
    return " ".join(first.casefold().split()) == " ".join(second.casefold().split())


def counted(earned: Sequence[Earned], rules: Fineprint) -> Decimal:
    """What counts toward the requirement: everything, or each category up to its cap."""
    if not rules.caps:
        return sum((credit.units for credit in earned), Decimal(0))
    per_category = by_category(earned)
    return sum(
        (min(total, rules.caps.get(category, total)) for category, total in per_category.items()),
        Decimal(0),
    )


def by_category(earned: Sequence[Earned]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for credit in earned:
        key = credit.category or "?"
        totals[key] = totals.get(key, Decimal(0)) + credit.units
    return totals


def over_cap(earned: Sequence[Earned], new: Earned, rules: Fineprint) -> Decimal:
    """How much of a new credit its category's cap leaves uncounted."""
    if not rules.caps or new.category is None or new.category not in rules.caps:
        return Decimal(0)
    before = by_category(earned).get(new.category, Decimal(0))
    cap = rules.caps[new.category]
    return max(Decimal(0), min(new.units, before + new.units - cap))


def excess(required: Decimal | None, counted_before: Decimal, new_units: Decimal) -> Decimal:
    """Units beyond the requirement (which bodies with no rollover will not carry over)."""
    if required is None:
        return Decimal(0)
    return max(Decimal(0), counted_before + new_units - max(required, counted_before))


@dataclass(frozen=True)
class Pace:
    remaining: Decimal
    per_month: Decimal  # what remains, spread over the months left
    behind: bool  # less than a steady pace would have earned by today
    expected: Decimal  # what a steady pace would have earned by today


def pace(cycle: Cycle, counted_units: Decimal, today: date) -> Pace | None:
    """Where the trainer stands against a steady pace; None without requirement or end."""
    if not cycle.units_required or cycle.end is None:
        return None
    remaining = max(Decimal(0), cycle.units_required - counted_units)
    total_days = max((cycle.end - cycle.start).days, 1)
    elapsed = min(max((today - cycle.start).days, 0), total_days)
    expected = (cycle.units_required * elapsed / total_days).quantize(CENT, ROUND_HALF_UP)
    days_left = (cycle.end - today).days
    months_left = max(Decimal(days_left) / AVERAGE_MONTH_DAYS, Decimal(1))
    per_month = (
        (remaining / months_left).quantize(CENT, ROUND_HALF_UP) if remaining else Decimal(0)
    )
    return Pace(remaining, per_month, counted_units < expected and remaining > 0, expected)
