"""A credential's one standing, as a trainer meets it: the cases where a certification really
lapses (NSCA's late band, ACSM's grace in a leap year, NASM's credit window), snoozes near the
deadline, and /status agreeing with the sweep about the next reminder."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

import handlers.status
from bot.offline import Person
from handlers.card import CardLine, status_card
from scheduler.cycles import Cycle
from scheduler.jobs import run_sweep
from scheduler.plan import Prefs
from scheduler.standing import Holding, Urgency, standing_of
from storage import credentials
from storage.catalog import Catalog
from storage.models import Credential, Nudge
from tests.conftest import Bot

MADRID = ZoneInfo("Europe/Madrid")
CATALOG = Catalog.load()


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), MADRID).astimezone(UTC)


def test_acsm_grace_ends_on_30_june_of_a_leap_year() -> None:
    acsm = CATALOG.get("acsm-cpt")
    assert acsm is not None
    holding = Holding(acsm.rule, Cycle(date(2025, 1, 1), date(2027, 12, 31), Decimal(45)))
    prefs = Prefs("Europe/Madrid", 9)
    june_30 = standing_of(holding, [], prefs, at(date(2028, 6, 30)))
    assert june_30.grace_end == date(2028, 6, 30) and june_30.urgency is Urgency.GRACE
    assert june_30.pace is None  # no monthly pace after the deadline
    july_1 = standing_of(holding, [], prefs, at(date(2028, 7, 1)))
    assert july_1.urgency is Urgency.LAPSED


def test_short_with_30_days_left_is_urgent_and_on_track_when_complete() -> None:
    nasm = CATALOG.get("nasm-cpt")
    assert nasm is not None
    end = date(2027, 3, 1)
    holding = Holding(nasm.rule, Cycle(end - timedelta(days=730), end, Decimal(2)))
    prefs = Prefs("Europe/Madrid", 9)
    short = standing_of(holding, [], prefs, at(end - timedelta(days=30)))
    assert short.urgency is Urgency.URGENT and short.remaining == 2
    soon = standing_of(holding, [], prefs, at(end - timedelta(days=31)))
    assert soon.urgency is Urgency.SOON


async def in_madrid(person: Person) -> Person:
    await person.send("/start")
    await person.press("✓ English")
    await person.send("Madrid")
    return person


async def test_nsca_certified_late_in_the_period_owes_nothing_for_it(bot: Bot) -> None:
    leo = await in_madrid(bot.person("Leo"))
    today = datetime.now(MADRID).date()
    # The second half of the current period's last year (2024-2026 today: August 2026).
    period_start = 2024 + 3 * ((today.year - 2024) // 3)
    certified = date(period_start + 2, 8, 1)
    if certified > today:  # early in a period: use the previous period's late band
        certified = date(period_start - 1, 8, 1)
        period_start -= 3
    await leo.send("/add")
    await leo.press("NSCA")
    await leo.press(next(b for b in leo.buttons if "CSCS" in b))
    await leo.send(certified.isoformat())
    await leo.press("Skip")
    text = leo.last_text
    next_end = date(period_start + 5, 12, 31)
    assert f"Nothing owed for {period_start}–{period_start + 2}." in text
    assert f"Expires: {next_end:%B} {next_end.day}, {next_end.year}" in text
    assert "Credits required: 6 CEU (60 hours)" in text
    await leo.press("✅ Save")
    [stored] = await bot.db.run(lambda s: list(s.exec(select(Credential))))
    assert (stored.cycle_start, stored.cycle_end, stored.units_required) == (
        date(period_start + 3, 1, 1),
        next_end,
        Decimal("6.00"),
    )
    await leo.send("/status")
    cscs = leo.last_text.split("CSCS: ", 1)[1]
    assert f"Nothing owed for {period_start}–{period_start + 2}." in cscs
    assert "Credits: 0 CEU of 6 CEU" in cscs
    assert "Next reminder:" in cscs  # planned for the real deadline


async def test_snooze_a_week_the_day_before_the_deadline_stops_at_the_deadline(bot: Bot) -> None:
    ana = await in_madrid(bot.person("Ana", user_id=951))
    end = datetime.now(MADRID).date() + timedelta(days=40)

    def register(session):  # type: ignore[no-untyped-def]
        credentials.add(
            session, ana.id, Cycle(end - timedelta(days=730), end, None), catalog_id="aha-cpr"
        )

    await bot.db.run(register)
    await run_sweep(bot.application, at(end - timedelta(days=1)))  # d1
    assert "is due tomorrow" in ana.last_text
    day_before = at(end - timedelta(days=1), 10)
    bot.application.bot_data["clock"] = lambda: day_before
    await ana.press("Snooze a week")
    assert f"Snoozed until {end:%B} {end.day}, {end.year} at 9:00" in ana.last_text
    assert "reminders come back daily" in ana.last_text
    [stored] = await bot.db.run(lambda s: list(s.exec(select(Credential))))
    assert stored.snoozed_until == at(end)


async def test_status_and_the_sweep_agree_in_the_final_week(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = await in_madrid(bot.person("Ana", user_id=952))
    drawn: list[list[CardLine]] = []

    def record(title: str, subtitle: str, lines: list[CardLine]) -> bytes:
        drawn.append(list(lines))
        return status_card(title, subtitle, lines)

    monkeypatch.setattr(handlers.status, "status_card", record)
    end = datetime.now(MADRID).date() + timedelta(days=60)

    def register(session):  # type: ignore[no-untyped-def]
        credentials.add(
            session,
            ana.id,
            Cycle(end - timedelta(days=730), end, Decimal(2)),
            catalog_id="nasm-cpt",
        )

    await bot.db.run(register)
    shown: list[str] = []
    pictured: list[str] = []
    sent: list[datetime] = []
    for days in range(8, -1, -1):
        now = at(end - timedelta(days=days), 12)  # midday: between two reminder hours
        bot.application.bot_data["clock"] = lambda now=now: now
        await ana.send("/status")
        shown.append(ana.last_text.split("Next reminder: ", 1)[1].split("\n")[0])
        await ana.press("🖼 As a picture")
        pictured.append(drawn[-1][0].detail.split("next reminder ", 1)[1])
        await run_sweep(bot.application, at(end - timedelta(days=days - 1)) if days else now)
        nudges = await bot.db.run(
            lambda s: list(s.exec(select(Nudge).where(Nudge.status == "sent")))
        )
        sent = sorted(n.due_at for n in nudges)
    # Every day, /status named the very moment the next reminder then went out.
    for shown_text, moment in zip(shown, sent[-len(shown) :], strict=False):
        local = moment.astimezone(MADRID)
        assert f"{local:%B} {local.day}, {local.year} at 9:00" in shown_text
    # ...and so did the picture.
    for pictured_text, moment in zip(pictured, sent[-len(pictured) :], strict=False):
        local = moment.astimezone(MADRID)
        assert pictured_text.startswith(f"{local:%b} {local.day}, {local.year}, 9:00")
    assert len(pictured) == len(shown) == 9


async def test_saved_in_its_final_week_and_short_is_reminded_at_the_next_reminder_hour(
    bot: Bot,
) -> None:
    ana = await in_madrid(bot.person("Ana", user_id=953))
    end = datetime.now(MADRID).date() + timedelta(days=3)
    saved_at = at(end - timedelta(days=3), 12)  # after today's reminder hour

    def register(session):  # type: ignore[no-untyped-def]
        credential = credentials.add(
            session,
            ana.id,
            Cycle(end - timedelta(days=730), end, Decimal(2)),
            catalog_id="nasm-cpt",
        )
        credential.cycle_set_at = saved_at

    await bot.db.run(register)
    bot.application.bot_data["clock"] = lambda: saved_at
    await ana.send("/status")
    tomorrow = end - timedelta(days=2)
    assert "🔴 NASM-CPT" in ana.last_text  # short, three days left: urgent
    assert "Next reminder: tomorrow at 9:00" in ana.last_text or (
        f"Next reminder: {tomorrow:%B} {tomorrow.day}, {tomorrow.year} at 9:00" in ana.last_text
    )
    await run_sweep(bot.application, at(tomorrow))
    assert "NASM-CPT" in ana.last_text and "in 2 days" in ana.last_text


async def test_adding_one_due_within_a_week_and_short_says_so_at_once(bot: Bot) -> None:
    eva = await in_madrid(bot.person("Eva", user_id=954))
    end = datetime.now(MADRID).date() + timedelta(days=3)
    await eva.send("/add")
    await eva.press("NASM")
    await eva.press("NASM-CPT")
    await eva.send(f"{end:%m/%d/%Y}")
    await eva.press("Skip")
    assert "🔴 2 CEU to go in 3 days: I'll remind you every day" in eva.last_text
    await eva.press("✅ Save")
    await eva.send("/status")
    assert "🔴 NASM-CPT: urgent" in eva.last_text
    assert "1 credential: 1 urgent." in eva.last_text
