"""Every catalog entry registered through the chat: the deadline, the requirement, the grace
period and the CPR/AED need the trainer is told at /add's confirmation and in /status, checked
against the entry's rule restated here (not computed by the bot's own functions).

The clock is fixed, so every expected date is a plain date; NSCA's shared period is restated
in `tests.helpers.nsca_now`."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal
from dateutil.relativedelta import relativedelta

from bot.offline import Person
from scheduler.cycles import CycleEnd
from storage import credentials
from storage.catalog import Catalog, CatalogEntry
from tests.conftest import Bot
from tests.helpers import nsca_now, onboard

CATALOG = Catalog.load()
NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # noon in New York
TODAY = date(2026, 12, 2)
# What the trainer types: the card's expiry date where the body does not publish the end day,
# else the day they earned it. ACSM's is chosen so that its grace period ends in a leap year.
EXPIRY = date(2027, 9, 30)
EARNED = {CycleEnd.DECEMBER_31: date(2024, 5, 10)}
EARNED_DEFAULT = date(2025, 5, 20)


def long(day: date) -> str:
    return format_date(day, "long", locale="en")


def amount(value: Decimal, entry: CatalogEntry) -> str:
    number = format_decimal(value, format="#,##0.##", locale="en")
    return f"{number} {entry.unit_name}" if entry.unit_name else number


def left(day: date) -> str:
    days = (day - TODAY).days
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")


def deadline_by_rule(entry: CatalogEntry, earned: date) -> tuple[date, Decimal | None]:
    """The rule, restated: the cycle's end and what it owes, from the day it was earned."""
    rule = entry.rule
    if rule.cycle_end is CycleEnd.FIXED_PERIOD:
        return nsca_now(earned, TODAY)
    assert rule.cycle_months is not None
    end = earned + relativedelta(months=rule.cycle_months)
    if rule.cycle_end is CycleEnd.END_OF_MONTH:
        end = end.replace(day=calendar.monthrange(end.year, end.month)[1])
    elif rule.cycle_end is CycleEnd.DECEMBER_31:
        end = date(end.year, 12, 31)
    return end, rule.units_required


def grace_by_rule(entry: CatalogEntry, deadline: date) -> date | None:
    """ACSM: the first 30 June after the deadline (a date, leap years too); "a year" or "six
    months" (NASM, ISSA, ACE, PMA): the same day so many months on; others: a count of days
    after it; none where the body allows no late renewal."""
    if entry.grace_end is not None:
        month, day = entry.grace_end
        candidate = date(deadline.year, month, day)
        return candidate if candidate > deadline else date(deadline.year + 1, month, day)
    if entry.rule.grace_months:
        return deadline + relativedelta(months=entry.rule.grace_months)
    if entry.rule.grace_period_days:
        return deadline + timedelta(days=entry.rule.grace_period_days)
    return None


async def register(
    bot: Bot, person: Person, entry: CatalogEntry, typed: date, by_card: bool
) -> str:
    """/add through the chat up to the confirmation; returns its text (not saved yet)."""
    await person.send("/add")
    await person.press(entry.body)
    await person.press(entry.name)
    asked_card = "expiry date printed on your" in person.last_text
    # The card's date first exactly where the body does not publish the end day.
    assert asked_card == entry.ask_card_date, person.last_text
    if entry.ask_card_date:
        assert f"{entry.body} does not publish on which day a cycle ends" in person.last_text
        assert "I only know when I earned it" in person.buttons
    if by_card and not asked_card:
        await person.press("I have the expiry date instead")
    elif not by_card and asked_card:
        await person.press("I only know when I earned it")
        assert f"When did you earn {entry.name}" in person.last_text
    await person.send(f"{typed.month}/{typed.day}/{typed.year}")
    await person.press("Skip")
    text = person.last_text
    assert text.startswith("Please check:"), text
    return text


def check_facts(
    text: str, entry: CatalogEntry, deadline: date | None, owed: Decimal | None, computed: bool
) -> None:
    """What every confirmation says, whatever the way the dates came in. `computed`: the bot
    worked the deadline out (then its date facts are uncertain too)."""
    if deadline is None:
        assert f"Expiry date unknown: {entry.body} publishes no renewal rule" in text
        assert "no expiry date on file" not in text
    else:
        assert f"Expires: {long(deadline)} ({left(deadline)})" in text, text
    if owed:
        requirement = amount(owed, entry)
        if entry.hours_per_unit:
            hours = format_decimal(owed * entry.hours_per_unit, format="#,##0.##", locale="en")
            requirement += f" ({hours} hours)"
        assert f"Credits required: {requirement}\n" in text + "\n", text
    else:
        assert "Credits required" not in text, text
    grace = None if deadline is None else grace_by_rule(entry, deadline)
    if grace is not None:
        assert f"Grace period: a late renewal is accepted until {long(grace)}." in text, text
    else:
        assert "Grace period" not in text, text
    if deadline is not None:
        assert f"After that: {entry.after_grace['en']}" in text, text
    if entry.is_cpr:
        assert "Current CPR/AED card" not in text
    elif entry.cpr_aed_required:
        assert "Current CPR/AED card: required" in text
    else:
        assert "Current CPR/AED card: not required" in text
    shown_uncertain = [
        name for name in entry.uncertain if computed or name not in ("cycle_end", "cycle_months")
    ]
    if shown_uncertain:
        assert f"❔ Not confirmed by {entry.body}" in text, text
        where = entry.check_url or f"Check with {entry.body}."  # no address: the body itself
        assert where in text, text
    else:
        assert "❔" not in text, text


async def check_status(
    bot: Bot, person: Person, entry: CatalogEntry, deadline: date | None, owed: Decimal | None
) -> None:
    await person.send("/status")
    text = person.last_text
    assert f"{entry.name}:" in text, text
    if deadline is None:
        assert f"Expiry date unknown: {entry.body} publishes no renewal rule" in text
    else:
        assert f"Deadline: {long(deadline)} ({left(deadline)})" in text, text
    if owed:
        assert f"Credits: {amount(Decimal(0), entry)} of {amount(owed, entry)}" in text, text
    elif owed is not None:
        assert "Credits: nothing owed this cycle." in text, text
    else:
        assert "Credits:" not in text, text
    needs_card = f"⚠️ CPR/AED: no card on file, and {entry.name} needs one to renew."
    assert (needs_card in text) == (entry.cpr_aed_required and not entry.is_cpr), text


async def check_lapsed(bot: Bot, person: Person, entry: CatalogEntry, deadline: date) -> None:
    """The day after the deadline, /status tells the grace period (until when a late renewal
    is accepted) or, where there is none, what remains."""
    day_after = deadline + timedelta(days=1)
    bot.application.bot_data["clock"] = lambda: datetime.combine(day_after, NOW.timetz())
    await person.send("/status")
    text = person.last_text
    grace = grace_by_rule(entry, deadline)
    if grace is not None:
        days = (grace - day_after).days
        assert f"{entry.name}: in the grace period" in text, text
        assert f"A late renewal is accepted until {long(grace)} (in {days} days)." in text, text
    else:
        assert f"{entry.name}: expired" in text, text
        assert entry.after_grace["en"] in text, text


async def stored_end(bot: Bot, person: Person) -> tuple[date | None, Decimal | None]:
    [held] = await bot.db.run(lambda s: credentials.held_by(s, person.id, bot.catalog))
    return held.credential.cycle_end, held.credential.units_required


def ids(entry: CatalogEntry) -> str:
    return entry.id


@pytest.mark.parametrize("entry", list(CATALOG), ids=ids)
async def test_every_entry_registered_through_the_chat(bot: Bot, entry: CatalogEntry) -> None:
    bot.application.bot_data["clock"] = lambda: NOW
    ana = bot.person("Ana")
    await onboard(ana, "✓ English", "New York")
    if entry.ask_card_date:
        # The date printed on the card is the deadline; the bot worked nothing out.
        text = await register(bot, ana, entry, EXPIRY, by_card=True)
        deadline, owed = EXPIRY, entry.rule.units_required
        assert "Worked out from" not in text, text
        assert "the exact expiry day" not in text, text
        computed = False
    else:
        earned = EARNED.get(entry.rule.cycle_end, EARNED_DEFAULT)
        text = await register(bot, ana, entry, earned, by_card=False)
        deadline, owed = deadline_by_rule(entry, earned)
        assert f"Certified: {long(earned)}" in text
        assert f"Worked out from {entry.body}'s published rule" in text, text
        computed = True
    check_facts(text, entry, deadline, owed, computed)
    await ana.press("✅ Save")
    assert f"Saved: {entry.name}" in "\n".join(m.get("text", "") for m in ana.inbox[-3:])
    assert await stored_end(bot, ana) == (deadline, owed)
    await check_status(bot, ana, entry, deadline, owed)
    await check_lapsed(bot, ana, entry, deadline)
    bot.application.bot_data["clock"] = lambda: NOW

    if not entry.ask_card_date:
        return
    # The alternative: only the day it was earned. Worked out from the rule where there is
    # one, said to be unknown where the body publishes none.
    leo = bot.person("Leo")
    await onboard(leo, "✓ English", "New York")
    text = await register(bot, leo, entry, EARNED_DEFAULT, by_card=False)
    if entry.rule.cycle_end is CycleEnd.CARD_ONLY:
        deadline, owed = None, entry.rule.units_required
        assert "Worked out from" not in text, text
    else:
        deadline, owed = deadline_by_rule(entry, EARNED_DEFAULT)
        assert f"Worked out from {entry.body}'s published rule" in text, text
    check_facts(text, entry, deadline, owed, computed=deadline is not None)
    await leo.press("✅ Save")
    assert await stored_end(bot, leo) == (deadline, owed)
    await check_status(bot, leo, entry, deadline, owed)
    if deadline is not None:
        await check_lapsed(bot, leo, entry, deadline)


async def test_nsca_certified_in_the_last_half_year_owes_nothing_for_the_period(bot: Bot) -> None:
    bot.application.bot_data["clock"] = lambda: NOW
    entry = CATALOG.get("nsca-cscs")
    assert entry is not None
    ana = bot.person("Ana")
    await onboard(ana, "✓ English", "New York")
    text = await register(bot, ana, entry, date(2026, 8, 15), by_card=False)
    # 1 July to 31 December of 2026, the period's last year: the next period's end, in full.
    assert nsca_now(date(2026, 8, 15), TODAY) == (date(2029, 12, 31), Decimal("6.0"))
    assert "Nothing owed for 2024–2026." in text
    check_facts(text, entry, date(2029, 12, 31), Decimal("6.0"), computed=True)
    assert "in 29 days" not in text
    await ana.press("✅ Save")
    await check_status(bot, ana, entry, date(2029, 12, 31), Decimal("6.0"))
    assert "Nothing owed for 2024–2026." in ana.last_text
    assert "Next reminder:" in ana.last_text  # planned for the real deadline


@pytest.mark.parametrize(
    ("earned", "deadline", "grace"),
    [
        (date(2023, 3, 1), date(2026, 12, 31), date(2027, 6, 30)),  # 181 days
        (date(2024, 5, 10), date(2027, 12, 31), date(2028, 6, 30)),  # leap year: 182 days
    ],
)
async def test_acsm_grace_ends_on_30_june_in_leap_years_too(
    bot: Bot, earned: date, deadline: date, grace: date
) -> None:
    bot.application.bot_data["clock"] = lambda: NOW
    entry = CATALOG.get("acsm-cpt")
    assert entry is not None
    ana = bot.person("Ana")
    await onboard(ana, "✓ English", "New York")
    text = await register(bot, ana, entry, earned, by_card=False)
    assert f"Expires: {long(deadline)}" in text
    assert f"Grace period: a late renewal is accepted until {long(grace)}." in text


async def test_an_ask_card_date_specialization_asks_the_card_first(bot: Bot) -> None:
    bot.application.bot_data["clock"] = lambda: NOW
    entry = CATALOG.get("nasm-ces")
    assert entry is not None and entry.ask_card_date and entry.kind == "specialization"
    ana = bot.person("Ana")
    await onboard(ana, "✓ English", "New York")
    text = await register(bot, ana, entry, EXPIRY, by_card=True)
    assert f"Expires: {long(EXPIRY)}" in text
    assert "no expiry date on file" not in text and "Worked out from" not in text
    # What NASM does not confirm is said so, with where to check.
    assert "❔ Not confirmed by NASM: whether a CPR/AED card is required" in text
    assert entry.check_url is not None and entry.check_url in text
    assert "Current CPR/AED card: not required" in text
