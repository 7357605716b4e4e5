"""A new trainer's first minutes: /start, language, time zone, /help, /settings."""

from __future__ import annotations

from storage import trainers
from tests.conftest import Bot
from tests.helpers import onboard


async def test_start_language_zone_help_settings(bot: Bot) -> None:
    ana = bot.person("Ana", language_code="en")

    await ana.send("/start")
    assert "Hi Ana! I'm Recert" in ana.last_text
    assert ana.buttons == ["✓ English", "Español", "Русский"]

    await ana.press("Español")
    # The time-zone question now comes in Spanish, with a location button and suggestions.
    assert ana.keyboard and ana.buttons[0].startswith("Madrid (UTC")
    assert "zona horaria" in ana.inbox[-2]["text"]

    await ana.send("Москва")
    assert "Moscú (UTC+03:00)" in ana.inbox[-2]["text"]
    assert "9:00" in ana.last_text
    assert ana.keyboard == []  # the location keyboard is gone

    stored = await bot.db.run(lambda s: trainers.get(s, ana.id))
    assert stored is not None
    assert (
        stored.name,
        stored.language,
        stored.time_zone,
        stored.reminder_hour,
        stored.active,
    ) == ("Ana", "es", "Europe/Moscow", 9, True)

    await ana.send("/help")
    assert "/settings" in ana.last_text

    await ana.send("/settings")
    assert "Moscú (UTC+03:00)" in ana.last_text
    await ana.press("Hora del recordatorio")
    await ana.press("7:00")
    assert "7:00" in ana.last_text
    stored = await bot.db.run(lambda s: trainers.get(s, ana.id))
    assert stored is not None and stored.reminder_hour == 7


async def test_back_at_the_time_zone_returns_to_the_language(bot: Bot) -> None:
    olga = bot.person("Olga", language_code="ru")
    await olga.send("/start")
    await olga.press("English")
    assert olga.buttons[-1] == "« Back"
    await olga.press("« Back")
    assert olga.last_text == "Which language should I speak?"
    assert olga.buttons == ["✓ English", "Español", "Русский"]
    await olga.press("Русский")
    assert olga.buttons[-1] == "« Назад"
    await olga.send("Сочи")
    stored = await bot.db.run(lambda s: trainers.get(s, olga.id))
    assert stored is not None and (stored.language, stored.time_zone) == ("ru", "Europe/Moscow")


async def test_keep_at_the_time_zone_in_settings_changes_nothing(bot: Bot) -> None:
    luis = bot.person("Luis", language_code="es")
    await luis.send("/start")
    await luis.press("✓ Español")
    await luis.send("Medellín")
    await luis.send("/settings")
    await luis.press("Zona horaria")
    assert luis.buttons[-2:] == ["Mantener Bogotá (UTC-05:00)", "« Atrás"]
    await luis.press("Mantener Bogotá (UTC-05:00)")
    assert "Zona horaria sin cambios: Bogotá (UTC-05:00)." in luis.inbox[-2]["text"]
    assert "Zona horaria: Bogotá (UTC-05:00)" in luis.last_text  # the settings again
    assert luis.keyboard == []  # the location button is gone
    await luis.send("Barcelona")  # no longer asked: not taken as a city
    stored = await bot.db.run(lambda s: trainers.get(s, luis.id))
    assert stored is not None and stored.time_zone == "America/Bogota"

    await luis.press("Zona horaria")
    await luis.send("Barcelona")  # two countries: both offered, Spain first
    assert luis.buttons == ["Barcelona, España (UTC+01:00)", "Barcelona, Venezuela (UTC-04:00)"]
    await luis.press("Barcelona, Venezuela (UTC-04:00)")
    stored = await bot.db.run(lambda s: trainers.get(s, luis.id))
    assert stored is not None and stored.time_zone == "America/Caracas"


async def test_settings_lists_tick_the_current_choice_and_point_out_a_quiet_reminder_hour(
    bot: Bot,
) -> None:
    ben = bot.person("Ben")

    def shown() -> list[str]:  # Babel's English times use a narrow no-break space
        return [b.replace("\u202f", " ") for b in ben.buttons]

    await onboard(ben, "✓ English")
    await ben.send("/settings")
    await ben.press("Reminder hour")
    assert "✓ 9:00 AM" in shown() and "10:00 AM" in shown()
    await ben.press("11:00\u202fPM")
    assert "Note:" not in ben.last_text  # no quiet hours yet
    await ben.press("Quiet hours")
    assert "✓ No quiet hours" in shown()
    await ben.press("10:00\u202fPM–8:00\u202fAM")
    assert (
        "Note: 11:00 PM is inside your quiet hours (10:00 PM–8:00 AM). Reminders still arrive "
        "at 11:00 PM; repeats in a deadline's final week wait until 8:00 AM."
    ) in ben.last_text.replace("\u202f", " ")
    await ben.press("Quiet hours")
    assert "✓ 10:00 PM–8:00 AM" in shown()
    await ben.send("/settings")
    await ben.press("How often")
    assert "✓ Normal" in shown()
