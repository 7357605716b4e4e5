"""Nudges through the real Application: a whole cycle lived day by day, answers to nudges,
restarts, two copies of the bot, and Telegram's failures. Time moves forward; nobody sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.offline import Person
from scheduler.cycles import Cycle
from scheduler.jobs import run_sweep
from storage import credentials, trainers
from storage.models import Nudge
from tests.conftest import Bot

MADRID = ZoneInfo("Europe/Madrid")


def local_moments(first: date, last: date, hours: tuple[int, ...]) -> Iterator[datetime]:
    day = first
    while day <= last:
        for hour in hours:
            yield datetime.combine(day, time(hour), MADRID).astimezone(UTC)
        day += timedelta(days=1)


async def madrid_trainer(bot: Bot, name: str, user_id: int) -> Person:
    person = bot.person(name, user_id=user_id)
    await person.send("/start")
    await person.press("✓ English")
    await person.send("Madrid")
    return person


async def test_a_whole_cycle_day_by_day_across_dst(bot: Bot) -> None:
    ana = await madrid_trainer(bot, "Ana", 901)
    end = date(2027, 4, 15)  # Madrid moves its clocks on 28 March 2027

    def register(session):  # type: ignore[no-untyped-def]
        saved = credentials.add(
            session, ana.id, Cycle(date(2025, 4, 16), end, Decimal("2.0")), catalog_id="ace-cpt"
        )
        credentials.add_credit(
            session, ana.id, saved.id, Decimal(2), date(2025, 6, 1), "Complete already"
        )  # credits done: no pace nudges

    await bot.db.run(register)
    sent: list[tuple[date, int, str]] = []
    start = datetime.now(MADRID).date() + timedelta(days=1)
    for now in local_moments(start, date(2027, 10, 20), (8, 9)):
        before = len(ana.inbox)
        await run_sweep(bot.application, now)
        for message in ana.inbox[before:]:
            local = now.astimezone(MADRID)
            sent.append((local.date(), local.hour, message["text"].split("\n")[0]))

    expected_days = [
        (date(2027, 1, 15), "⏰ ACE-CPT is due in 90 days, on April 15, 2027."),
        (date(2027, 2, 14), "⏰ ACE-CPT is due in 60 days, on April 15, 2027."),
        (date(2027, 3, 16), "⏰ ACE-CPT is due in 30 days, on April 15, 2027."),
        (date(2027, 4, 1), "⏰ ACE-CPT is due in 14 days, on April 15, 2027."),
        (date(2027, 4, 8), "⚠️ ACE-CPT is due in 7 days, on April 15, 2027."),
        # Unanswered in the final week: repeated daily.
        (date(2027, 4, 9), "⚠️ ACE-CPT is due in 6 days, on April 15, 2027."),
        (date(2027, 4, 10), "⚠️ ACE-CPT is due in 5 days, on April 15, 2027."),
        (date(2027, 4, 11), "⚠️ ACE-CPT is due in 4 days, on April 15, 2027."),
        (date(2027, 4, 12), "⚠️ ACE-CPT is due in 3 days, on April 15, 2027."),
        (date(2027, 4, 13), "⚠️ ACE-CPT is due in 2 days, on April 15, 2027."),
        (date(2027, 4, 14), "⚠️ ACE-CPT is due in 1 day, on April 15, 2027."),
        (date(2027, 4, 15), "🚨 ACE-CPT is due today."),
        *[
            (
                end + timedelta(days=after),
                "🟠 ACE-CPT expired on Apr 15, 2027. A late renewal is "
                "still possible, but not for long.",
            )
            for after in (1, 31, 61, 91, 121, 151, 181)
        ],
        (end + timedelta(days=184), "❌ ACE-CPT has lapsed."),
    ]
    assert sent == [(day, 9, text) for day, text in expected_days]
    # The final-week nudges carry the ready-to-renew checklist.
    final = next(m for m in ana.inbox if m["text"].startswith("⚠️ ACE-CPT is due in 7 days"))
    assert "✅ credits complete" in final["text"] and "⬜ CPR/AED card current" in final["text"]
    assert "renew at: https://" in final["text"]
    assert Person.buttons_of(final) == [
        "Log credits",
        "I renewed",
        "Snooze a day",
        "Snooze a week",
        "Stop these reminders",
    ]
    lapsed = ana.inbox[-1]
    assert "ACE" in lapsed["text"] and not lapsed.get("reply_markup")


async def test_blocked_retry_after_and_time_outs(bot: Bot) -> None:
    from telegram.error import RetryAfter, TimedOut

    from bot.offline import ApiError

    # PTB's rate limiter logs the 429 it passes on (it is told not to sleep: the sweep
    # schedules the retry itself).
    bot.expected_errors = 1
    lea = await madrid_trainer(bot, "Lea", 902)
    soon = datetime.now(MADRID).date() + timedelta(days=20)
    await bot.db.run(
        lambda s: credentials.add(
            s, lea.id, Cycle(soon - timedelta(days=700), soon, None), catalog_id="aha-cpr"
        )
    )
    moments = list(local_moments(soon - timedelta(days=7), soon - timedelta(days=4), (9,)))
    bot.api.faults["sendMessage"] = [
        ApiError(429, "Too Many Requests: retry after 30", retry_after=30)
    ]
    await run_sweep(bot.application, moments[0])  # d7 due: Telegram says wait 30 s
    assert not [m for m in lea.inbox if "CPR/AED" in m.get("text", "")]
    await run_sweep(bot.application, moments[0] + timedelta(seconds=10))  # too early
    assert not [m for m in lea.inbox if "CPR/AED" in m.get("text", "")]
    await run_sweep(bot.application, moments[0] + timedelta(seconds=31))
    assert [m["text"].split("\n")[0] for m in lea.inbox if "CPR/AED" in m.get("text", "")] == [
        "⚠️ AHA CPR/AED is due in 7 days, on " + f"{soon:%B} {soon.day}, {soon.year}."
    ]

    bot.api.faults["sendMessage"] = [TimedOut()]
    await run_sweep(bot.application, moments[1])  # d6 repeat: the network times out
    await run_sweep(bot.application, moments[1] + timedelta(minutes=3))
    assert len([m for m in lea.inbox if "CPR/AED" in m.get("text", "")]) == 2
    assert RetryAfter  # (the error PTB raises for a 429, exercised above)

    lea.block_bot()
    await run_sweep(bot.application, moments[2])
    trainer = await bot.db.run(lambda s: trainers.get(s, lea.id))
    assert trainer is not None and not trainer.active
    statuses = await bot.db.run(lambda s: [n.status for n in s.exec(select(Nudge))])
    assert statuses.count("failed") == 1 and statuses.count("sent") == 2
    calls = len(bot.api.calls_to("sendMessage"))
    await run_sweep(bot.application, moments[3])  # inactive: not tried at all
    assert len(bot.api.calls_to("sendMessage")) == calls

    lea.unblock_bot()
    await lea.send("/start")  # back: active, and planned again
    trainer = await bot.db.run(lambda s: trainers.get(s, lea.id))
    assert trainer is not None and trainer.active
