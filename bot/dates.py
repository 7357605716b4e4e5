"""Dates typed as people type them, read in the user's language with dateparser."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from dateparser.date import DateDataParser
from dateutil.relativedelta import relativedelta

# The order of an ambiguous 04/05/25: Americans write month first, Spanish and Russian
# speakers day first. What was understood is always shown back for confirmation.
DATE_ORDER = {"en": "MDY", "es": "DMY", "ru": "DMY"}
EARLIEST = date(1970, 1, 1)
YEARS_AHEAD = 10


@dataclass(frozen=True)
class TypedDate:
    value: date
    day_given: bool  # False for "March 2025": the day was filled in


def parse_date(text: str, language: str, *, month_end: bool = False) -> TypedDate | None:
    """`2025-03-15`, `15.03.2025`, `March 2025`, `15 марта 2025`, `3/15/25` to a date.

    A month without a day means its first day, or its last with `month_end` (an expiry
    printed as 03/2027 is good through the end of March). CPU-bound and, on first use,
    loads language data: call it off the event loop."""
    cleaned = " ".join(text.split())[:64]
    if not cleaned or not any(ch.isdigit() for ch in cleaned):
        return None
    parser = DateDataParser(
        languages=[language, "en"] if language != "en" else ["en"],
        settings={
            "DATE_ORDER": DATE_ORDER.get(language, "DMY"),
            "PREFER_DAY_OF_MONTH": "first",
            "REQUIRE_PARTS": ["month", "year"],
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    data = parser.get_date_data(cleaned)
    if data.date_obj is None:
        return None
    value = data.date_obj.date()
    day_given = data.period == "day"
    if not day_given and month_end:
        value = value.replace(day=calendar.monthrange(value.year, value.month)[1])
    return TypedDate(value, day_given)


def date_problem(value: date, today: date, *, expiry: bool) -> str | None:
    """Why a date cannot be right: `future` (a certification date ahead of today),
    `too_old` (before 1970), `too_far` (an expiry more than ten years away)."""
    if value < EARLIEST:
        return "too_old"
    if not expiry and value > today:
        return "future"
    if expiry and value > today + relativedelta(years=YEARS_AHEAD):  # 29 Feb is fine too
        return "too_far"
    return None
