"""A new trainer's first minutes: /start, language, time zone, /help, /settings."""

from __future__ import annotations

from storage import trainers
from tests.conftest import Bot


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
