"""/credentials: view, edit, renew and remove; only ever one's own."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from scheduler.cycles import cycle_from_start
from storage import credentials
from storage.catalog import Catalog
from tests.conftest import Bot
from tests.helpers import onboard


async def add_ncsf(bot: Bot, user_id: int, certified: date) -> int:
    entry = Catalog.load().get("ncsf-cpt")
    assert entry is not None
    cycle = cycle_from_start(entry.rule, certified, date(2026, 11, 24))
    saved = await bot.db.run(
        lambda s: credentials.add(
            s, user_id, cycle, catalog_id="ncsf-cpt", certified_on=certified, number="N-1"
        )
    )
    assert saved.id is not None
    return saved.id


async def test_list_edit_number_and_dates(bot: Bot) -> None:
    ana = bot.person("Ana")
    await onboard(ana, "✓ English")
    await ana.send("/credentials")
    assert "no credentials on file yet" in ana.last_text
    credential_id = await add_ncsf(bot, ana.id, date(2025, 2, 3))
    await ana.send("/credentials")
    assert "NCSF-CPT: expires February 28, 2027" in ana.last_text
    await ana.press("NCSF-CPT")
    assert (
        "Number: N-1" in ana.last_text and "Credits this cycle: 0 CEU of 10 CEU" in ana.last_text
    )

    await ana.press("Edit number")
    await ana.send("NC\n99")
    assert "at most 40 characters" in ana.last_text
    await ana.send("NC-99")
    assert "Number updated." in ana.last_text and "NC-99" in ana.last_text

    await ana.press("Edit dates")
    assert "date you certified" in ana.last_text
    await ana.send("not a date")
    assert "couldn't read" in ana.last_text
    await ana.send("4/10/2025")
    assert "Dates updated." in ana.last_text and "April 30, 2027" in ana.last_text
    stored = await bot.db.run(lambda s: credentials.owned(s, ana.id, credential_id))
    assert stored is not None
    assert (stored.number, stored.certified_on, stored.cycle_end) == (
        "NC-99",
        date(2025, 4, 10),
        date(2027, 4, 30),
    )


async def test_renew_rolls_the_cycle_and_keeps_the_past(bot: Bot) -> None:
    leo = bot.person("Leo")
    await onboard(leo, "✓ English")
    credential_id = await add_ncsf(bot, leo.id, date(2025, 2, 3))
    await bot.db.run(
        lambda s: credentials.add_credit(
            s, leo.id, credential_id, Decimal(4), date(2025, 6, 1), "Workshop"
        )
    )
    await leo.send("/credentials")
    await leo.press("NCSF-CPT")
    await leo.press("I renewed")
    assert "from March 1, 2027 to February 28, 2029" in leo.last_text
    confirm = leo.last
    data = confirm["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await leo.press("Yes, I renewed")
    assert "Renewed" in leo.last_text and "1 earlier cycle" in leo.last_text
    assert "Credits this cycle: 0 CEU of 10 CEU" in leo.last_text
    await leo.press_data(data, confirm)  # the same confirmation again: no second roll
    stored = await bot.db.run(lambda s: credentials.owned(s, leo.id, credential_id))
    assert stored is not None and stored.cycle_end == date(2029, 2, 28)
    [past] = await bot.db.run(lambda s: credentials.past_cycles(s, leo.id, credential_id))
    assert (past.cycle_start, past.cycle_end, past.units_earned) == (
        date(2025, 2, 3),
        date(2027, 2, 28),
        Decimal("4.00"),
    )


async def test_remove_with_confirmation(bot: Bot) -> None:
    eva = bot.person("Eva")
    await onboard(eva, "✓ English")
    credential_id = await add_ncsf(bot, eva.id, date(2025, 2, 3))
    await eva.send("/credentials")
    await eva.press("NCSF-CPT")
    await eva.press("Remove")
    assert "Remove NCSF-CPT? This can't be undone." in eva.last_text  # no "0 credit entries"
    await eva.press("Keep it")
    assert await bot.db.run(lambda s: credentials.owned(s, eva.id, credential_id)) is not None
    await eva.press("Remove")
    await eva.press("Yes, remove it")
    assert "Removed NCSF-CPT." in eva.last_text
    assert await bot.db.run(lambda s: credentials.held_by(s, eva.id, bot.catalog)) == []


async def test_nobody_touches_what_is_not_theirs(bot: Bot) -> None:
    owner, other = bot.person("Owner"), bot.person("Mallory")
    await onboard(owner, "✓ English")
    await onboard(other, "✓ English")
    credential_id = await add_ncsf(bot, owner.id, date(2025, 2, 3))
    await other.send("/credentials")
    screen = other.last
    for forged in (
        f"cred:v:{credential_id}",
        f"cred:xy:{credential_id}",
        f"cred:ry:{credential_id}:2027-02-28",
        f"cred:d:{credential_id}",
        f"add:spec:{credential_id}:{credential_id}",
        "cred:v:abc",
        "cred:zz",
    ):
        before = len(other.inbox)
        await other.press_data(forged, screen)
        assert len(other.inbox) == before  # nothing shown, an alert instead
        assert "N-1" not in str(other.inbox)
    stored = await bot.db.run(lambda s: credentials.owned(s, owner.id, credential_id))
    assert stored is not None and stored.cycle_end == date(2027, 2, 28)
