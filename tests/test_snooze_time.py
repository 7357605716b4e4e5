"""A snooze's time as the trainer reads it, minutes included, in zones whose offset is not a
whole hour (Kathmandu +05:45, Kolkata +05:30, Chatham +13:45), in each language's format.

The formatted times are cached per language, and an aware datetime equals any other at the same
instant whatever its zone: 04:15 in Kathmandu and 04:00 in Kolkata are both 22:30 UTC. Keyed on
the datetime, the cache gave Kathmandu Kolkata's "4:00"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import I18n
from bot.offline import Person
from scheduler.cycles import Cycle
from scheduler.jobs import run_sweep
from storage import credentials, trainers
from tests.conftest import Bot

KATHMANDU, KOLKATA, CHATHAM = (
    ZoneInfo("Asia/Kathmandu"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Pacific/Chatham"),
)
# 04:15 and 04:00 (and noon) as each language writes a time of day.
SHOWN = {
    "en": ("4:15\u202fAM", "4:00\u202fAM", "12:00\u202fPM"),
    "es": ("4:15", "4:00", "12:00"),
    "ru": ("04:15", "04:00", "12:00"),
}
BUTTONS = {"en": "✓ English", "es": "✓ Español", "ru": "✓ Русский"}


@pytest.mark.parametrize("language", list(SHOWN))
def test_a_time_keeps_its_minutes_whatever_was_formatted_before(i18n: I18n, language: str) -> None:
    tr = i18n.translator(language)
    quarter_past, four, _noon = SHOWN[language]
    in_kolkata = datetime(2026, 12, 14, 4, 0, tzinfo=KOLKATA)
    in_kathmandu = datetime(2026, 12, 14, 4, 15, tzinfo=KATHMANDU)
    assert in_kolkata == in_kathmandu  # the same instant: 22:30 UTC
    assert tr.clock(in_kolkata) == four
    assert tr.clock(in_kathmandu) == quarter_past
    assert tr.clock(in_kolkata.astimezone(UTC), tz=KATHMANDU) == quarter_past
    assert tr.date_time(in_kolkata, "short").endswith(four)
    assert tr.date_time(in_kathmandu, "short").endswith(quarter_past)


async def trainer_in(bot: Bot, language: str, zone: ZoneInfo, hour: int, name: str) -> Person:
    person = bot.person(name, language_code=language)
    await person.send("/start")
    await person.press(BUTTONS[language])
    await person.send("UTC")
    await bot.db.run(
        lambda s: trainers.update(s, person.id, time_zone=str(zone), reminder_hour=hour)
    )
    return person


async def nudged(
    bot: Bot, person: Person, zone: ZoneInfo, hour: int, end_in: int, today: date | None = None
) -> datetime:
    """A card due in `end_in` days (from `today`, or the zone's); its 30-days-before reminder
    arrives at the hour. Returns when it was sent."""
    end = (today or datetime.now(zone).date()) + timedelta(days=end_in)
    await bot.db.run(
        lambda s: credentials.add(
            s, person.id, Cycle(end - timedelta(days=730), end, Decimal(0)), catalog_id="aha-cpr"
        )
    )
    sent = datetime.combine(end - timedelta(days=30), time(hour), zone).astimezone(UTC)
    await run_sweep(bot.application, sent)
    return sent


async def snooze_a_day(bot: Bot, person: Person, at: datetime, language: str) -> str:
    bot.application.bot_data["clock"] = lambda: at
    await person.press(
        bot.application.bot_data["i18n"].translator(language).gettext("Snooze a day")
    )
    return person.last_text.rsplit("\n\n", 1)[1]


@pytest.mark.parametrize("language", list(SHOWN))
async def test_a_snooze_moved_to_kathmandu_comes_back_at_04_15(bot: Bot, language: str) -> None:
    """Snoozed at 04:00 in Kolkata, then moved to Kathmandu: the reminder keeps its moment,
    04:15 there, and /status says so, with the minutes."""
    quarter_past, four, _noon = SHOWN[language]
    asha = await trainer_in(bot, language, KOLKATA, 4, "Asha")
    sent = await nudged(bot, asha, KOLKATA, 4, 40)
    note = await snooze_a_day(bot, asha, sent + timedelta(minutes=5), language)
    assert note.endswith(f"{four}."), note
    await bot.db.run(lambda s: trainers.update(s, asha.id, time_zone="Asia/Kathmandu"))
    await asha.send("/status")
    assert asha.last_text.rstrip().endswith(quarter_past), asha.last_text


@pytest.mark.parametrize("language", list(SHOWN))
async def test_two_snoozes_at_the_same_instant_in_two_zones(bot: Bot, language: str) -> None:
    """Noon in Chatham (+13:45) is 04:00 in Kathmandu: each trainer reads their own time."""
    _quarter_past, four, noon = SHOWN[language]
    chatham = await trainer_in(bot, language, CHATHAM, 12, "Moana")
    kathmandu = await trainer_in(bot, language, KATHMANDU, 4, "Bina")
    # The same calendar day for both (Chatham's today is a day ahead for part of the day).
    today = datetime.now(KATHMANDU).date()
    first = await nudged(bot, chatham, CHATHAM, 12, 40, today)
    second = await nudged(bot, kathmandu, KATHMANDU, 4, 40, today)
    assert first == second  # one instant, two wall clocks
    assert (await snooze_a_day(bot, chatham, first + timedelta(minutes=1), language)).endswith(
        f"{noon}."
    )
    assert (await snooze_a_day(bot, kathmandu, first + timedelta(minutes=2), language)).endswith(
        f"{four}."
    )
    stored = await bot.db.run(lambda s: credentials.held_by(s, kathmandu.id, bot.catalog))
    until = stored[0].credential.snoozed_until
    assert until is not None and until.astimezone(KATHMANDU).time() == time(4, 0)
