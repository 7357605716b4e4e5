"""Small steps many chat tests share."""

from __future__ import annotations

from bot.offline import Person


async def onboard(person: Person, language_button: str, zone_button_prefix: str = "") -> None:
    """/start, pick a language, pick the first suggested city (or the one named)."""
    await person.send("/start")
    await person.press(language_button)
    choice = next(b for b in person.buttons if b.startswith(zone_button_prefix))
    await person.press(choice)
