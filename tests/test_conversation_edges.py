"""What people do that the happy path does not: stray input, old or forged buttons, edits,
stickers, unknown commands, coming back, and the bot's own failures."""

from __future__ import annotations

import json
import logging

import pytest
from telegram.error import NetworkError

from bot.app import FEATURES
from bot.commands import private_menu
from bot.offline import OFFLINE_TOKEN
from handlers.feature import commands
from storage import trainers
from tests.conftest import Bot


async def test_stray_input_during_onboarding_reasks(bot: Bot) -> None:
    ivan = bot.person("Ivan", language_code="ru")
    await ivan.send("/start")
    assert "Привет, Ivan" in ivan.last_text or "Ivan" in ivan.last_text
    assert ivan.buttons == ["English", "Español", "✓ Русский"]

    await ivan.send("по-русски, пожалуйста")
    assert ivan.buttons == ["English", "Español", "✓ Русский"]  # asked again, with buttons
    await ivan.send_sticker()
    assert ivan.buttons == ["English", "Español", "✓ Русский"]

    await ivan.press("✓ Русский")
    await ivan.send_sticker()
    assert "часовой пояс" in ivan.last_text.lower()
    await ivan.send("Нарния")
    assert "Нарния" in ivan.last_text
    await ivan.send("x" * 3000)  # absurdly long: answered, cut, nothing stored
    stored = await bot.db.run(lambda s: trainers.get(s, ivan.id))
    assert stored is not None and stored.time_zone is None

    await ivan.send("UTC+3")
    stored = await bot.db.run(lambda s: trainers.get(s, ivan.id))
    assert stored is not None and stored.time_zone == "Etc/GMT-3"
    assert "UTC+3" in ivan.inbox[-2]["text"]


async def test_ambiguous_city_offers_choices_with_plural_text(bot: Bot) -> None:
    ana = bot.person("Ana", language_code="es-419")
    await ana.send("/start")
    await ana.press("✓ Español")
    await ana.send("córdoba")
    assert ana.buttons == [
        "Córdoba, Argentina (UTC-03:00)",
        "Córdoba, España (UTC+01:00)",
        "Córdoba, México (UTC-06:00)",
    ]
    assert "3 lugares" in ana.last_text
    await ana.press("Córdoba, España (UTC+01:00)")
    stored = await bot.db.run(lambda s: trainers.get(s, ana.id))
    assert stored is not None and stored.time_zone == "Europe/Madrid"
    assert "Madrid (UTC+01:00)" in ana.inbox[-2]["text"]


async def test_location_sets_the_zone(bot: Bot) -> None:
    max_ = bot.person("Max", language_code="en-GB")
    await max_.send("/start")
    await max_.press("✓ English")
    assert max_.keyboard == ["📍 Share my location"]
    await max_.share_location(51.5072, -0.1276)
    stored = await bot.db.run(lambda s: trainers.get(s, max_.id))
    assert stored is not None and stored.time_zone == "Europe/London"
    assert "London" in max_.inbox[-2]["text"]
    assert max_.keyboard == []


async def test_cancel_mid_onboarding_and_outside(bot: Bot) -> None:
    zoe = bot.person("Zoe")
    await zoe.send("/cancel")
    assert "nothing to cancel" in zoe.last_text
    await zoe.send("/start")
    await zoe.press("✓ English")
    await zoe.send("/cancel")
    assert "stopped" in zoe.last_text and zoe.keyboard == []
    await zoe.send("Madrid")  # no longer in the conversation: not taken as a city
    assert "commands and buttons" in zoe.last_text
    stored = await bot.db.run(lambda s: trainers.get(s, zoe.id))
    assert stored is not None and stored.time_zone is None


async def test_returning_and_blocked_trainers(bot: Bot) -> None:
    lea = bot.person("Lea")
    await lea.send("/start")
    await lea.press("✓ English")
    await lea.press("London (UTC+00:00)")
    await bot.db.run(lambda s: trainers.update(s, lea.id, active=False))  # she had blocked us
    await lea.send("/start")
    assert "Welcome back, Lea" in lea.last_text
    assert "these choices" not in lea.last_text  # it shows none: it names what /settings does
    assert "/status" in lea.last_text and "/settings" in lea.last_text
    stored = await bot.db.run(lambda s: trainers.get(s, lea.id))
    assert stored is not None and stored.active and stored.time_zone == "Europe/London"


async def test_unknown_commands_edits_stickers_and_forged_buttons(bot: Bot) -> None:
    tom = bot.person("Tom")
    await tom.send("/frobnicate now")
    assert "don't know that command" in tom.last_text
    await tom.send_sticker()
    assert "can't use that" in tom.last_text
    await tom.send_document(b"PK\x03\x04", "notes.docx", "application/msword")
    assert "photos and PDFs" in tom.last_text
    sent = tom.chat.messages[-2]  # his own document message; edit a text one instead
    await tom.send("hello")
    mine = [m for m in tom.chat.messages if m["from"]["id"] == tom.id and "text" in m][-1]
    await tom.edit(mine, "hello again")
    assert "edited a message" in tom.last_text
    assert sent["from"]["id"] == tom.id

    await tom.send("/settings")
    settings_message = tom.last
    for forged in ("hour:99", "lang:fr", "tz:Mars/Olympus", "set:nothing", "zz" * 30):
        await tom.press_data(forged, settings_message)
        answer = list(bot.api.answered_callbacks.values())[-1]
        assert answer.get("show_alert") or forged.startswith(("tz:", "set:"))
    stored = await bot.db.run(lambda s: trainers.get(s, tom.id))
    assert stored is not None
    assert (stored.reminder_hour, stored.language, stored.time_zone) == (9, "en", None)


async def test_language_changes_replies_and_this_chats_menu(bot: Bot) -> None:
    kim = bot.person("Kim", language_code="en")
    await kim.send("/language")
    await kim.press("Русский")
    assert "Русский" in kim.last_text and "Время напоминаний" in kim.last_text
    await kim.send("/help")
    assert "/settings" in kim.last_text and "напомина" in kim.last_text.lower()
    chat_scope = json.dumps({"chat_id": kim.id, "type": "chat"}, sort_keys=True)
    menu = bot.api.commands[(chat_scope, "")]
    assert [c["command"] for c in menu] == [c.name for c in private_menu(commands(FEATURES))]
    assert next(c for c in menu if c["command"] == "help")["description"] == "Что я умею"


async def test_command_menus_are_registered_per_language(bot: Bot) -> None:
    private = json.dumps({"type": "all_private_chats"}, sort_keys=True)
    descriptions = {
        language: bot.api.commands[(private, language)][0]["description"]
        for language in ("en", "es", "ru", "")
    }
    assert descriptions[""] == descriptions["en"] == "Start, or start again"
    assert len(set(descriptions.values())) == 3


async def test_settings_zone_by_typing(bot: Bot) -> None:
    eva = bot.person("Eva")
    await eva.send("/settings")
    assert "not set yet" in eva.last_text
    await eva.press("Time zone")
    await eva.send("Chicago")
    assert "Chicago (UTC-06:00)" in eva.last_text  # the settings, shown again
    stored = await bot.db.run(lambda s: trainers.get(s, eva.id))
    assert stored is not None and stored.time_zone == "America/Chicago"


async def test_an_error_gets_a_translated_apology_and_a_clean_log(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.expected_errors = 1
    rosa = bot.person("Rosa", language_code="es")
    # Twice: a reply is sent again once after a transient error (bot.ratelimit).
    reset = NetworkError(f"connection reset at /bot{OFFLINE_TOKEN}/x")
    bot.api.faults["sendMessage"] = [reset, reset]
    with caplog.at_level(logging.ERROR):
        await rosa.send("/help")
    assert rosa.last_text.startswith("Lo siento, algo falló")
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged and logged[0].exc_info is not None


async def test_the_conversation_started_last_takes_the_text(bot: Bot) -> None:
    """A city asked for in /settings is not taken from text meant for /add, or typed later."""
    ola = bot.person("Ola")
    await ola.send("/settings")
    await ola.press("Time zone")  # /settings now waits for a city
    await ola.send("/add")
    await ola.press("Something else…")
    await ola.send("Madrid")  # the name of a custom credential, not a city
    assert "How many months" in ola.last_text
    await ola.send("/cancel")
    await ola.send("Madrid")  # nobody is waiting now
    assert "commands and buttons" in ola.last_text
    stored = await bot.db.run(lambda s: trainers.get(s, ola.id))
    assert stored is not None and stored.time_zone is None
