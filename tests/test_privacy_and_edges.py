"""Found in review: a trainer's data never shows in a group, edits never act twice, a quick
command never ends the conversation under way, forged digits and zones are refused, and
writing again after blocking the bot turns reminders back on."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from scheduler.cycles import Cycle
from storage import credentials, trainers
from tests.conftest import Bot
from tests.helpers import onboard

TODAY = datetime.now(ZoneInfo("America/New_York")).date()


async def test_personal_commands_and_buttons_stay_out_of_groups(bot: Bot) -> None:
    ana = bot.person("Ana")
    await onboard(ana, "✓ English")
    saved = await bot.db.run(
        lambda s: credentials.add(
            s,
            ana.id,
            Cycle(TODAY - timedelta(days=100), TODAY + timedelta(days=500), Decimal("2.0")),
            catalog_id="nasm-cpt",
            number="NASM-SECRET-123",
        )
    )
    group = bot.api.new_group("Gym trainers")
    group.members[bot.api.bot_user["id"]] = {"status": "member"}
    for text in (
        "/credentials",
        "/export",
        "/audit",
        "/history",
        "/status",
        "/log 1 X",
        "/settings",
    ):
        await ana.send(text, chat=group)
    texts = [m.get("text", "") for m in group.messages if m["from"]["id"] != ana.id]
    assert texts and all("let's talk in private" in t for t in texts)
    assert not any("document" in m for m in group.messages)
    assert "NASM-SECRET-123" not in str(group.messages)
    # A personal button pressed in the group (forged, or forwarded) does nothing.
    await ana.press_data(f"cred:v:{saved.id}", group.messages[-1], chat=group)
    answer = list(bot.api.answered_callbacks.values())[-1]
    assert answer["show_alert"] and "private chat" in answer["text"]
    assert "NASM-SECRET-123" not in str(group.messages)
    held = await bot.db.run(lambda s: credentials.held_by(s, ana.id, bot.catalog))
    assert held[0].units_earned == Decimal(0)  # the /log in the group logged nothing


async def test_an_edited_log_is_not_logged_twice(bot: Bot) -> None:
    leo = bot.person("Leo")
    await onboard(leo, "✓ English")
    await bot.db.run(
        lambda s: credentials.add(
            s,
            leo.id,
            Cycle(TODAY - timedelta(days=100), TODAY + timedelta(days=500), Decimal("2.0")),
            catalog_id="nasm-cpt",
        )
    )
    await leo.send("/log 0.5 Wbinar")
    mine = [m for m in leo.chat.messages if m["from"]["id"] == leo.id][-1]
    await leo.edit(mine, "/log 0.5 Webinar")
    assert "edited a message" in leo.last_text
    held = await bot.db.run(lambda s: credentials.held_by(s, leo.id, bot.catalog))
    assert held[0].units_earned == Decimal("0.5")


async def test_settings_mid_add_keeps_the_add_going(bot: Bot) -> None:
    eva = bot.person("Eva")
    await onboard(eva, "✓ English")
    await eva.send("/add")
    await eva.press("NCSF")
    await eva.press("NCSF-CPT")
    await eva.send("/settings")  # a look at the settings, then back to the date
    assert "Your settings" in eva.last_text
    await eva.send("2/3/25")
    assert "credential number" in eva.last_text


async def test_forged_digits_and_zones(bot: Bot) -> None:
    tom = bot.person("Tom")
    await onboard(tom, "✓ English")
    await tom.send("/credentials")
    screen = tom.last
    for forged in (
        "cred:v:²",
        "hist:i:³",
        "nudge:snz:¹:1",
        "audit:²:c",
        "tz:America",
        "tz:../../etc/passwd",
        "cred:v:99999999999999999999999",
    ):
        await tom.press_data(forged, screen)  # answered, nothing breaks
    stored = await bot.db.run(lambda s: trainers.get(s, tom.id))
    assert stored is not None and stored.time_zone == "America/New_York"


async def test_writing_again_after_blocking_resumes_reminders(bot: Bot) -> None:
    kim = bot.person("Kim")
    await onboard(kim, "✓ English")
    await bot.db.run(lambda s: trainers.update(s, kim.id, active=False))  # she had blocked us
    await kim.send("/status")
    stored = await bot.db.run(lambda s: trainers.get(s, kim.id))
    assert stored is not None and stored.active


def test_expiry_checks_on_29_february() -> None:
    from bot.dates import date_problem

    assert date_problem(date(2031, 1, 1), date(2028, 2, 29), expiry=True) is None
    assert date_problem(date(2038, 3, 1), date(2028, 2, 29), expiry=True) == "too_far"
