"""/add: registering credentials from the catalog and custom ones, with every way back out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from storage import credentials
from storage.models import Credential
from tests.conftest import Bot
from tests.helpers import nsca_now, onboard


async def held(bot: Bot, user_id: int) -> list[Credential]:
    return [
        h.credential
        for h in await bot.db.run(lambda s: credentials.held_by(s, user_id, bot.catalog))
    ]


async def test_ncsf_by_certification_date_with_number(bot: Bot) -> None:
    ana = bot.person("Ana")
    await onboard(ana, "✓ English", "New York")
    await ana.send("/add")
    assert "Which organization" in ana.last_text and "NCSF" in ana.buttons
    await ana.press("NCSF")
    await ana.press("NCSF-CPT")
    assert "When did you earn NCSF-CPT" in ana.last_text and "3/15/25" in ana.last_text
    await ana.send("2/3/25")  # month first in English
    assert "credential number" in ana.last_text
    await ana.send("NC-12345")
    text = ana.last_text
    assert "Certified: February 3, 2025" in text
    assert "Expires: February 28, 2027" in text  # NCSF: the last day of the month
    assert "Credits required: 10 CEU (20 hours)" in text
    assert "CPR/AED card: required" in text and "NC-12345" in text
    await ana.press("✅ Save")
    assert "Saved: NCSF-CPT" in ana.inbox[-2]["text"]
    assert "needs a current CPR/AED card" in ana.last_text
    [stored] = await held(bot, ana.id)
    assert (
        stored.catalog_id,
        stored.certified_on,
        stored.cycle_start,
        stored.cycle_end,
        stored.units_required,
        stored.number,
    ) == (
        "ncsf-cpt",
        date(2025, 2, 3),
        date(2025, 2, 3),
        date(2027, 2, 28),
        Decimal("10.00"),
        "NC-12345",
    )

    # The offer leads straight into adding the CPR/AED card, by the date on the card.
    await ana.press("Add my CPR/AED card")
    assert ana.buttons[:2] == ["AHA CPR/AED", "Red Cross CPR/AED"] or "AHA" in ana.buttons[0]
    await ana.press(ana.buttons[0])
    assert "expiry date printed" in ana.last_text
    await ana.send("March 2027")  # month only: good through its last day
    await ana.press("Skip")
    assert "March 31, 2027" in ana.last_text and "without a day" in ana.last_text
    await ana.press("✅ Save")
    cards = [c for c in await held(bot, ana.id) if c.catalog_id == "aha-cpr"]
    assert cards and cards[0].cycle_end == date(2027, 3, 31) and cards[0].certified_on is None


async def test_nsca_prorated_and_acsm_december(bot: Bot) -> None:
    leo = bot.person("Leo")
    await onboard(leo, "✓ English", "Chicago")
    await leo.send("/add")
    await leo.press("NSCA")
    await leo.press(next(b for b in leo.buttons if "CSCS" in b))
    await leo.send("2025-05-20")
    await leo.press("Skip")
    nsca_end, nsca_units = nsca_now(date(2025, 5, 20))  # 2026-12-31 and 2 CEU until 2027
    assert f"Expires: {nsca_end:%B} {nsca_end.day}, {nsca_end.year}" in leo.last_text
    hours = int(nsca_units * 10)
    assert f"Credits required: {nsca_units.normalize()} CEU ({hours} hours)" in leo.last_text
    await leo.press("✅ Save")

    await leo.send("/add")
    await leo.press("ACSM")
    await leo.press("ACSM-CPT")
    await leo.send("May 10, 2024")
    await leo.press("Skip")
    assert "Expires: December 31, 2027" in leo.last_text
    assert "45 CEC" in leo.last_text
    await leo.press("✅ Save")
    stored = {c.catalog_id: c for c in await held(bot, leo.id)}
    assert stored["nsca-cscs"].cycle_end == nsca_end
    assert stored["nsca-cscs"].units_required == nsca_units
    assert stored["acsm-cpt"].cycle_end == date(2027, 12, 31)


async def test_back_cancel_and_stray_input(bot: Bot) -> None:
    eva = bot.person("Eva")
    await onboard(eva, "✓ English")
    await eva.send("/add")
    await eva.send("NASM please")  # text where buttons are expected
    assert "use the buttons" in eva.last_text and "NASM" in eva.buttons
    await eva.press("NASM")
    await eva.press("« Back")
    assert "Which organization" in eva.last_text
    await eva.press("NASM")
    await eva.press("NASM-CPT")
    # NASM does not publish the day a cycle ends: the card's date is asked.
    assert "expiry date printed on your NASM-CPT card" in eva.last_text
    await eva.send_sticker()
    assert "can't use that" in eva.last_text
    await eva.send("32/13/2025")
    assert "couldn't read" in eva.last_text
    await eva.send("1/1/2040")
    assert "more than ten years away" in eva.last_text
    await eva.send("6/30/2027")
    await eva.send("x" * 41)
    assert "at most 40 characters" in eva.last_text
    await eva.send("AB\u200b12")  # a zero-width character
    assert "at most 40 characters" in eva.last_text
    await eva.press("« Back")
    assert "expiry date printed" in eva.last_text
    await eva.press("Cancel")
    assert "nothing was saved" in eva.last_text
    assert await held(bot, eva.id) == []
    await eva.send("6/30/2027")  # the conversation is over: not taken as a date
    assert "commands and buttons" in eva.last_text


async def test_future_certification_date_and_duplicate(bot: Bot) -> None:
    max_ = bot.person("Max")
    await onboard(max_, "✓ English")
    for attempt in range(2):
        await max_.send("/add")
        await max_.press("ACE")
        await max_.press("ACE-CPT")
        if attempt == 1:
            assert "already have ACE-CPT on file" in max_.last_text
            await max_.press("Update it")
        await max_.send("12/31/2027" if attempt == 0 else "1/31/2028")
        await max_.press("Skip")
        await max_.press("✅ Save")
    assert "Updated: ACE-CPT" in max_.inbox[-2]["text"]
    stored = await held(bot, max_.id)
    assert len(stored) == 1 and stored[0].cycle_end == date(2028, 1, 31)

    await max_.send("/add")
    await max_.press("NCSF")
    await max_.press("NCSF-CPT")
    await max_.send("12/31/2030")
    assert "in the future" in max_.last_text


async def test_custom_credential(bot: Bot) -> None:
    kai = bot.person("Kai")
    await onboard(kai, "✓ English")
    await kai.send("/add")
    await kai.press("Something else…")
    await kai.send("Kettlebell Level 1")
    await kai.send("500")
    assert "from 1 to 120" in kai.last_text
    await kai.press("24 months")
    await kai.send("-3")
    assert "from 0 to 1,000" in kai.last_text
    await kai.send("1,5")
    await kai.send("1/15/2026")
    await kai.press("Skip")
    assert "Expires: January 15, 2028" in kai.last_text
    assert "Credits required: 1.5" in kai.last_text
    await kai.press("✅ Save")
    [stored] = await held(bot, kai.id)
    assert (
        stored.custom_name,
        stored.custom_cycle_months,
        stored.units_required,
        stored.cycle_end,
    ) == ("Kettlebell Level 1", 24, Decimal("1.50"), date(2028, 1, 15))


async def test_specialization_counts_toward_the_base_in_one_tap(bot: Bot) -> None:
    zoe = bot.person("Zoe")
    await onboard(zoe, "✓ English")
    await zoe.send("/add")
    await zoe.press("NASM")
    await zoe.press("NASM-CPT")
    await zoe.send("9/30/2027")
    await zoe.press("Skip")
    await zoe.press("✅ Save")
    await zoe.press("Not now")  # no CPR card yet

    await zoe.send("/add")
    await zoe.press("NASM")
    await zoe.press("NASM-CES")
    # NASM publishes no cycle for the CES: the card's date first, earning it the alternative.
    assert "expiry date printed on your NASM-CES card" in zoe.last_text
    await zoe.press("I only know when I earned it")
    assert "When did you earn NASM-CES" in zoe.last_text
    await zoe.send("4/2/2026")
    await zoe.press("Skip")
    assert "no expiry date on file" not in zoe.last_text
    assert "Expiry date unknown: NASM publishes no renewal rule for it" in zoe.last_text
    await zoe.press("✅ Save")
    assert "counts as 1.9 CEU toward your NASM-CPT renewal" in zoe.last_text
    offer = zoe.last
    log_data = offer["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await zoe.press("Log 1.9 CEU")
    assert "Logged to NASM-CPT: now 1.9 CEU of 2 CEU" in zoe.last_text
    await zoe.press_data(log_data, offer)
    assert "already logged" in zoe.last_text  # a second tap logs nothing more
    cpt = next(c for c in await held(bot, zoe.id) if c.catalog_id == "nasm-cpt")
    earned = await bot.db.run(lambda s: credentials.units_earned(s, cpt, bot.catalog))
    assert earned == Decimal("1.9")


async def test_a_custom_name_already_on_file_is_not_overwritten(bot: Bot) -> None:
    kai = bot.person("Kai")
    await onboard(kai, "✓ English")
    for _attempt in range(2):
        await kai.send("/add")
        await kai.press("Something else…")
        await kai.send("Kettlebell Level 1")
        if _attempt == 0:
            await kai.press("24 months")
            await kai.send("2")
            await kai.send("1/15/2026")
            await kai.press("Skip")
            await kai.press("✅ Save")
    assert "already have “Kettlebell Level 1” on file" in kai.last_text
    [stored] = await held(bot, kai.id)
    assert stored.custom_cycle_months == 24
