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
from storage.catalog import Catalog
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
    # Next year's 15 April: Madrid moves its clocks on the last Sunday of March, between the
    # 30-days-before and the 14-days-before nudges.
    year = datetime.now(MADRID).year + 1
    end = date(year, 4, 15)

    def register(session):  # type: ignore[no-untyped-def]
        saved = credentials.add(
            session,
            ana.id,
            Cycle(end - timedelta(days=730), end, Decimal("2.0")),
            catalog_id="ace-cpt",
        )
        credentials.add_credit(
            session, ana.id, saved.id, Decimal(2), end - timedelta(days=700), "Complete already"
        )  # credits done: no pace nudges

    await bot.db.run(register)
    sent: list[tuple[date, int, str]] = []
    start = datetime.now(MADRID).date() + timedelta(days=1)
    for now in local_moments(start, end + timedelta(days=190), (8, 9)):
        before = len(ana.inbox)
        await run_sweep(bot.application, now)
        for message in ana.inbox[before:]:
            local = now.astimezone(MADRID)
            sent.append((local.date(), local.hour, message["text"].split("\n")[0]))

    on = f"on April 15, {year}."
    before_end = [
        (180, "⏰"),
        (90, "⏰"),
        (60, "⏰"),
        (30, "⏰"),
        (14, "⏰"),
        (7, "⚠️"),
        # Unanswered in the final week: repeated daily.
        (6, "⚠️"),
        (5, "⚠️"),
        (4, "⚠️"),
        (3, "⚠️"),
        (2, "⚠️"),
        (1, "⚠️"),
    ]
    expected_days = [
        (
            end - timedelta(days=days),
            f"{icon} ACE-CPT is due {'tomorrow' if days == 1 else f'in {days} days'}, {on}",
        )
        for days, icon in before_end
        if end - timedelta(days=days) >= start
    ]
    expected_days += [
        (end, f"🚨 ACE-CPT is due today, April 15, {year}."),
        *[
            (end + timedelta(days=after), f"🚨 ACE-CPT expired on April 15, {year}.")
            for after in (1, 31, 61, 91, 121, 151, 181)
        ],
        (end + timedelta(days=184), "❌ ACE-CPT has lapsed."),
    ]
    # Nine o'clock local on each day, in winter (UTC+1) and in summer (UTC+2) alike.
    assert [d for d, _h, _t in sent if d >= end - timedelta(days=30)][:2] == [
        end - timedelta(days=30),
        end - timedelta(days=14),
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
    # Grace reminders: what ACE still allows, and until when (its grace end), never vague.
    ace = Catalog.load().get("ace-cpt")
    assert ace is not None
    grace = [m["text"] for m in ana.inbox if "expired on April 15" in m["text"]]
    assert grace and all(ace.in_grace["en"] in text for text in grace)
    assert all("A late renewal is accepted until" in text for text in grace)


async def test_blocked_retry_after_and_time_outs(bot: Bot) -> None:
    from telegram.error import RetryAfter, TimedOut

    from bot.offline import ApiError

    # The rate limiter passes the 429 on: the sweep schedules the retry itself.
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
    await run_sweep(bot.application, moments[1] + timedelta(minutes=16))  # after the window
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


async def test_second_trainer_logs_snoozes_and_renews(bot: Bot) -> None:
    """Pace nudges stop once credits are logged; a snooze moves the next nudge; a renewal
    starts the plan again for the new cycle."""
    kim = await madrid_trainer(bot, "Kim", 903)
    today = datetime.now(MADRID).date()
    first_of_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    # Fixed to the 1st of next month, not to today: the d90 nudge must fall after that 1st
    # whatever day of the month the suite runs on.
    end = first_of_next + timedelta(days=100)
    saved = await bot.db.run(
        lambda s: credentials.add(
            s, kim.id, Cycle(end - timedelta(days=730), end, Decimal("2.0")), catalog_id="nasm-cpt"
        )
    )
    credential_id = saved.id

    # Behind pace (nothing logged, most of the cycle gone): a pace nudge on the 1st.
    for now in local_moments(today + timedelta(days=1), first_of_next, (9,)):
        await run_sweep(bot.application, now)
    pace = [m for m in kim.inbox if m.get("text", "").startswith("📈")]
    assert len(pace) == 1 and "behind a steady pace" in pace[0]["text"]
    # What is left, and what that means a month (not only the bar).
    assert "Behind pace: 2 CEU to go, about " in pace[0]["text"]
    assert " CEU a month." in pace[0]["text"]

    # "Log credits" on the nudge starts /log for that credential.
    await kim.press("Log credits")
    assert "✏️ Logging credits…" in kim.inbox[-2]["text"]
    await kim.send("2")
    await kim.press("Today")
    await kim.send("Big workshop")
    for _ in range(3):
        await kim.press("Skip")
    assert "Now 2 CEU of 2 CEU" in kim.last_text

    # Up to 90 days before: no more pace nudges; the d90 nudge comes, and is snoozed a week.
    d90 = end - timedelta(days=90)
    for now in local_moments(first_of_next + timedelta(days=1), d90, (9,)):
        await run_sweep(bot.application, now)
    assert len([m for m in kim.inbox if m.get("text", "").startswith("📈")]) == 1
    assert kim.last_text.startswith("⏰ NASM-CPT is due in 90 days")
    await kim.press("Snooze a week")
    assert "💤 Snoozed until" in kim.last_text
    assert kim.last.get("reply_markup") is None  # the nudge shows what was chosen

    # d60 falls due; the trainer says they renewed.
    for now in local_moments(d90 + timedelta(days=1), end - timedelta(days=60), (9,)):
        await run_sweep(bot.application, now)
    assert kim.last_text.startswith("⏰ NASM-CPT is due in 60 days")
    await kim.press("I renewed")
    await kim.press("Yes, I renewed")
    renewed = await bot.db.run(lambda s: credentials.owned(s, kim.id, credential_id))
    assert renewed is not None and renewed.cycle_end == end + timedelta(days=1) + (
        end.replace(year=end.year + 2) - end
    ) - timedelta(days=1)

    # The old cycle's d30, d14 ... are no longer owed; the new cycle starts its own plan.
    before = len(kim.inbox)
    for now in local_moments(end - timedelta(days=59), end + timedelta(days=5), (9,)):
        await run_sweep(bot.application, now)
    later = [m["text"].split("\n")[0] for m in kim.inbox[before:]]
    assert later == [] or all("2029" in text or "2028" in text for text in later)
    statuses = await bot.db.run(
        lambda s: sorted((n.milestone, n.status) for n in s.exec(select(Nudge)))
    )
    assert ("d90", "sent") in statuses and ("d60", "sent") in statuses
    assert not any(m == "d30" for m, _status in statuses)


def many_due(count: int, end: date, first_id: int, hour: int = 9):  # type: ignore[no-untyped-def]
    """`count` trainers in Madrid, each with a card whose 7-days-before nudge is due."""
    from storage.models import Credential, Trainer

    def create(session):  # type: ignore[no-untyped-def]
        long_ago = datetime(2020, 1, 1, tzinfo=UTC)
        for offset in range(count):
            session.add(
                Trainer(
                    id=first_id + offset,
                    name=f"T{offset}",
                    language="en",
                    time_zone="Europe/Madrid",
                    reminder_hour=hour,
                )
            )
        session.flush()
        for offset in range(count):
            session.add(
                Credential(
                    trainer_id=first_id + offset,
                    catalog_id="aha-cpr",
                    cycle_start=end - timedelta(days=730),
                    cycle_end=end,
                    cycle_set_at=long_ago,
                    next_nudge_at=long_ago,
                )
            )

    return create


async def test_a_restart_in_the_middle_of_a_sweep(database_url: str, i18n) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from bot.offline import OfflineBotAPI
    from tests.conftest import make_settings, start_bot, stop_bot

    telegram = OfflineBotAPI()
    settings = make_settings(database_url, rate_limit=False)
    end = datetime.now(MADRID).date() + timedelta(days=30)
    due_at = datetime.combine(end - timedelta(days=7), time(9), MADRID).astimezone(UTC)
    people = [Person(telegram, 5000 + n, f"T{n}") for n in range(20)]
    first = await start_bot(settings, i18n, telegram)
    await first.bot_data["db"].run(many_due(20, end, 5000))
    telegram.delays["sendMessage"] = 0.01
    halfway = asyncio.Event()
    telegram.on_bot_message = lambda _message: (
        halfway.set() if len(telegram.calls_to("sendMessage")) >= 7 else None
    )
    sweep = asyncio.create_task(run_sweep(first, due_at, worker="first"))
    await halfway.wait()  # about half sent: now the process stops
    sweep.cancel()
    await asyncio.gather(sweep, return_exceptions=True)
    await stop_bot(first)
    sent_before = sum(len(p.inbox) for p in people)
    assert 0 < sent_before < 20

    telegram.delays.clear()
    second = await start_bot(settings, i18n, telegram)
    try:
        await run_sweep(second, due_at + timedelta(minutes=1))  # leases still held: wait
        assert sum(len(p.inbox) for p in people) == sent_before
        await run_sweep(second, due_at + timedelta(minutes=6))  # leases ran out: resumed
    finally:
        await stop_bot(second)
    assert [len(p.inbox) for p in people] == [1] * 20  # nothing twice, nothing lost


async def test_two_copies_on_postgresql_send_each_nudge_once(postgres_url: str, i18n) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from bot.offline import OfflineBotAPI
    from tests.conftest import make_settings, start_bot, stop_bot

    telegram = OfflineBotAPI()  # one Telegram, one bot token, two running copies
    settings = make_settings(postgres_url, rate_limit=False)
    end = datetime.now(MADRID).date() + timedelta(days=30)
    due_at = datetime.combine(end - timedelta(days=7), time(9), MADRID).astimezone(UTC)
    people = [Person(telegram, 10_000 + n, f"T{n}") for n in range(1000)]
    first = await start_bot(settings, i18n, telegram)
    second = await start_bot(settings, i18n, telegram)
    try:
        await first.bot_data["db"].run(many_due(1000, end, 10_000))
        rounds = 0
        while True:
            sweeps = await asyncio.gather(
                run_sweep(first, due_at, worker="first"),
                run_sweep(second, due_at, worker="second"),
            )
            rounds += 1
            if not any(s.claims for s in sweeps):
                break
        counts = [len(p.inbox) for p in people]
        assert counts == [1] * 1000, f"{counts.count(0)} lost, {sum(c > 1 for c in counts)} twice"
        assert len(telegram.calls_to("sendMessage")) == 1000
        assert rounds >= 2
    finally:
        await stop_bot(first)
        await stop_bot(second)


async def test_intensity_quiet_hours_and_stopping(bot: Bot) -> None:
    ola = await madrid_trainer(bot, "Ola", 904)
    await ola.send("/settings")
    await ola.press("How often")
    await ola.press("Gentle")
    assert "Reminders: gentle" in ola.last_text
    await ola.press("Quiet hours")
    await ola.press(next(b for b in ola.buttons if b.startswith("10:00") or b.startswith("10")))
    stored = await bot.db.run(lambda s: trainers.get(s, ola.id))
    assert stored is not None and stored.nudge_intensity == "gentle"
    assert (stored.quiet_start, stored.quiet_end) == (22, 8)

    end = datetime.now(MADRID).date() + timedelta(days=100)
    saved = await bot.db.run(
        lambda s: credentials.add(
            s, ola.id, Cycle(end - timedelta(days=730), end, None), catalog_id="aha-cpr"
        )
    )
    for now in local_moments(
        datetime.now(MADRID).date() + timedelta(days=1), end - timedelta(days=30), (9,)
    ):
        await run_sweep(bot.application, now)
    texts = [m["text"].split("\n")[0] for m in ola.inbox if m.get("text", "").startswith("⏰")]
    assert texts == [  # gentle: 90 and 30 days before, not 60
        f"⏰ AHA CPR/AED is due in 90 days, on {end:%B} {end.day}, {end.year}.",
        f"⏰ AHA CPR/AED is due in 30 days, on {end:%B} {end.day}, {end.year}.",
    ]
    await ola.press("Stop these reminders")
    await ola.press("Yes, stop them")
    assert "Reminders about AHA CPR/AED are off" in ola.last_text
    before = len(ola.inbox)
    for now in local_moments(end - timedelta(days=29), end + timedelta(days=3), (9,)):
        await run_sweep(bot.application, now)
    assert len(ola.inbox) == before
    await ola.send("/credentials")
    await ola.press("AHA CPR/AED")
    await ola.press("Resume reminders")
    stopped = await bot.db.run(lambda s: credentials.owned(s, ola.id, saved.id or 0))
    assert stopped is not None and not stopped.nudges_stopped


async def test_cpr_nudge_names_what_is_at_risk_and_downtime_sends_one(bot: Bot) -> None:
    from storage.models import Credential

    max_ = await madrid_trainer(bot, "Max", 905)
    end = datetime.now(MADRID).date() + timedelta(days=31)  # 30 days before it is tomorrow
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)

    def register(session):  # type: ignore[no-untyped-def]
        credentials.add(
            session,
            max_.id,
            Cycle(end - timedelta(days=300), end + timedelta(days=400), Decimal("2.0")),
            catalog_id="nasm-cpt",
        )
        card = credentials.add(
            session, max_.id, Cycle(end - timedelta(days=730), end, None), catalog_id="aha-cpr"
        )
        card.cycle_set_at = long_ago  # on file for years: every milestone so far is owed

    await bot.db.run(register)
    # The bot was down for months: d180, d90, d60 and d30 of the card are all due at once.
    await run_sweep(
        bot.application,
        datetime.combine(end - timedelta(days=30), time(9), MADRID).astimezone(UTC),
    )
    cards = [m["text"] for m in max_.inbox if m.get("text", "").startswith("⏰ AHA")]
    assert len(cards) == 1 and cards[0].startswith("⏰ AHA CPR/AED is due in 30 days")
    assert "Without a current CPR/AED card these cannot be renewed: NASM-CPT." in cards[0]
    rows = await bot.db.run(
        lambda s: sorted(
            (n.milestone, n.status)
            for n in s.exec(
                select(Nudge)
                .join(Credential, Credential.id == Nudge.credential_id)
                .where(Credential.catalog_id == "aha-cpr")
            )
        )
    )
    assert rows == [("d180", "skipped"), ("d30", "sent"), ("d60", "skipped"), ("d90", "skipped")]


async def test_a_sweep_costs_round_trips_by_batch_not_by_nudge(bot: Bot) -> None:
    """40 trainers due at once: each nudged exactly once, in a handful of round trips (one to
    claim, then outcomes written together), not two per nudge."""
    end = datetime.now(MADRID).date() + timedelta(days=30)
    people = [Person(bot.api, 6000 + n, f"T{n}") for n in range(40)]
    await bot.db.run(many_due(40, end, 6000))
    due_at = datetime.combine(end - timedelta(days=7), time(9), MADRID).astimezone(UTC)
    trips, statements = bot.db.round_trips, bot.db.statements
    sweep = await run_sweep(bot.application, due_at)
    assert len(sweep.claims) == 40
    assert [len(p.inbox) for p in people] == [1] * 40
    assert bot.db.round_trips - trips <= 1 + 40 // 8 + 2
    assert bot.db.statements - statements <= 20
    statuses = await bot.db.run(lambda s: [n.status for n in s.exec(select(Nudge))])
    assert statuses.count("sent") == 40 and set(statuses) == {"sent", "skipped"}
