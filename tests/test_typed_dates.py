"""Dates as people type them: "yesterday" in three languages, a day and month without the
year, and the /log and /history replies about a date in the future."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from bot.dates import parse_date
from storage.models import Credit
from tests.conftest import Bot
from tests.helpers import onboard
from tests.test_log import give, stored_credits

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("en", "yesterday", date(2026, 12, 1)),
        ("en", "Yesterday.", date(2026, 12, 1)),
        ("en", "today", TODAY),
        ("en", "the day before yesterday", date(2026, 11, 30)),
        ("es", "ayer", date(2026, 12, 1)),
        ("es", "Anteayer", date(2026, 11, 30)),
        ("es", "hoy", TODAY),
        ("ru", "вчера", date(2026, 12, 1)),
        ("ru", "Позавчера", date(2026, 11, 30)),
        ("ru", "сегодня", TODAY),
        # A day and a month: this year's when it has come, else last year's.
        ("en", "Nov 28", date(2026, 11, 28)),
        ("en", "11/28", date(2026, 11, 28)),
        ("en", "December 25", date(2025, 12, 25)),
        ("en", "12/3", date(2025, 12, 3)),  # tomorrow: last year's
        ("en", "12/2", TODAY),
        ("ru", "28 нояб.", date(2026, 11, 28)),
        ("ru", "28.11", date(2026, 11, 28)),
        ("ru", "5 января", date(2026, 1, 5)),
        ("es", "28 nov", date(2026, 11, 28)),
        ("es", "28/11", date(2026, 11, 28)),
        ("es", "3 de diciembre", date(2025, 12, 3)),
        ("es", "29/02", date(2024, 2, 29)),  # the latest leap year
        # A year given is kept, as before.
        ("en", "3/15/25", date(2025, 3, 15)),
        ("ru", "15 марта 2025", date(2025, 3, 15)),
    ],
)
def test_relative_days_and_dates_without_a_year(language: str, typed: str, expected: date) -> None:
    parsed = parse_date(typed, language, today=TODAY)
    assert parsed is not None and (parsed.value, parsed.day_given) == (expected, True)


@pytest.mark.parametrize("typed", ["yesterday", "Nov 28", "28.11"])
def test_without_today_nothing_is_guessed(typed: str) -> None:
    """Expiry dates (in the future) are not asked with `today`: no year, no date."""
    assert parse_date(typed, "en") is None


@pytest.mark.parametrize("typed", ["Nov", "15", "tomorrow", "28 of something"])
def test_what_is_not_a_day_and_month_is_refused(typed: str) -> None:
    assert parse_date(typed, "en", today=TODAY) is None


LANGUAGES = [
    # button, zone onboard() picks, "yesterday", how a day and month is typed, "future" reply
    ("✓ English", "America/New_York", "yesterday", "MMM d", "the date you earned the credit"),
    ("Español", "Europe/Madrid", "ayer", "d MMM", "la fecha en que obtuviste el crédito"),
    ("Русский", "Europe/Moscow", "вчера", "d MMM", "дата получения баллов"),
]


@pytest.mark.parametrize(("button", "zone", "yesterday", "pattern", "future"), LANGUAGES)
async def test_log_takes_yesterday_and_a_date_without_the_year(
    bot: Bot, button: str, zone: str, yesterday: str, pattern: str, future: str
) -> None:
    today = datetime.now(ZoneInfo(zone)).date()
    eva = bot.person("Eva")
    await onboard(eva, button)
    language = {"✓ English": "en", "Español": "es", "Русский": "ru"}[button]
    nasm = await give(
        bot, eva, "nasm-cpt", today - timedelta(days=60), today + timedelta(days=700), "2.0"
    )
    await eva.send("/log 0.5 Webinar")  # the one-liner logs it for today
    await eva.send("/log")
    await eva.send("0.3")
    await eva.send(yesterday)
    await eva.send("Kettlebell basics")
    await eva.press(eva.buttons[0])  # skip the provider
    await eva.press(eva.buttons[0])  # skip the cost
    await eva.press(eva.buttons[0])  # skip the proof

    ten_days_ago = today - timedelta(days=10)
    typed = format_date(ten_days_ago, pattern, locale=language)
    tomorrow = (today + timedelta(days=1)).isoformat()
    await eva.send("/log")
    await eva.send("0.2")
    await eva.send(tomorrow)
    assert future in eva.last_text
    await eva.send(typed)
    await eva.send("Mobility course")
    for _step in range(3):
        await eva.press(eva.buttons[0])
    credits: list[Credit] = await stored_credits(bot, nasm)
    assert sorted((c.units, c.earned_on) for c in credits) == [
        (Decimal("0.20"), ten_days_ago),
        (Decimal("0.30"), today - timedelta(days=1)),
        (Decimal("0.50"), today),
    ]
