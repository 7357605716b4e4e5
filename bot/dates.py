"""Dates typed as people type them, read in the user's language with dateparser."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from dateparser.date import DateDataParser
from dateutil.relativedelta import relativedelta

# The order of an ambiguous 04/05/25: Americans write month first, Spanish and Russian
# speakers day first. What was understood is always shown back for confirmation.
DATE_ORDER = {"en": "MDY", "es": "DMY", "ru": "DMY"}
EARLIEST = date(1970, 1, 1)
YEARS_AHEAD = 10


# Days before today, as typed in each language (dateparser knows these too, but only as
# moments relative to the machine's clock, not to the trainer's today).
RELATIVE_DAYS = {
    "today": 0,
    "yesterday": 1,
    "day before yesterday": 2,
    "the day before yesterday": 2,
    "hoy": 0,
    "ayer": 1,
    "anteayer": 2,
    "antier": 2,
    "сегодня": 0,
    "вчера": 1,
    "позавчера": 2,
}


@dataclass(frozen=True)
class TypedDate:
    value: date
    day_given: bool  # False for "March 2025": the day was filled in


def parse_date(
    text: str, language: str, *, month_end: bool = False, today: date | None = None
) -> TypedDate | None:
    """`2025-03-15`, `15.03.2025`, `March 2025`, `15 марта 2025`, `3/15/25` to a date.

    A month without a day means its first day, or its last with `month_end` (an expiry
    printed as 03/2027 is good through the end of March). Given `today` (a date in the
    past is asked for), "yesterday", "ayer", "вчера" and the like are read, and a day and
    month without a year ("Nov 28", "11/28", "28 нояб.") mean the most recent such day.
    CPU-bound and, on first use, loads language data: call it off the event loop."""
    cleaned = " ".join(text.split())[:64]
    if today is not None:
        relative = RELATIVE_DAYS.get(cleaned.casefold().strip(" .!"))
        if relative is not None:
            return TypedDate(today - timedelta(days=relative), True)
    if not cleaned or not any(ch.isdigit() for ch in cleaned):
        return None
    settings = {
        "DATE_ORDER": DATE_ORDER.get(language, "DMY"),
        "PREFER_DAY_OF_MONTH": "first",
        "REQUIRE_PARTS": ["month", "year"],
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    languages = [language, "en"] if language != "en" else ["en"]
    data = DateDataParser(languages=languages, settings=settings).get_date_data(cleaned)
    if data.date_obj is None:
        return None if today is None else _without_year(cleaned, languages, settings, today)
    value = data.date_obj.date()
    day_given = data.period == "day"
    if not day_given and month_end:
        value = value.replace(day=calendar.monthrange(value.year, value.month)[1])
    return TypedDate(value, day_given)


def _without_year(
    cleaned: str, languages: list[str], settings: dict[str, object], today: date
) -> TypedDate | None:
    """A day and a month, no year (the year was required and missing): the latest such
    day up to today; 29 February in the latest leap year."""
    if sum(ch.isdigit() for ch in cleaned) > 4:  # "11/28/2" is not a day and a month
        return None
    settings = {**settings, "REQUIRE_PARTS": ["day", "month"], "PREFER_DATES_FROM": "past"}
    data = DateDataParser(languages=languages, settings=settings).get_date_data(cleaned)
    if data.date_obj is None:
        return None
    month, day = data.date_obj.month, data.date_obj.day
    for year in range(today.year, today.year - 8, -1):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) <= today:
            return TypedDate(date(year, month, day), True)
    return None


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
