"""A deploy in the middle of /add: the trainer goes on where they were."""

from __future__ import annotations

from datetime import date

from bot.i18n import I18n
from bot.offline import OfflineBotAPI
from storage import credentials
from tests.conftest import make_settings, start_bot, stop_bot
from tests.helpers import onboard


async def test_add_survives_a_restart(database_url: str, i18n: I18n) -> None:
    telegram = OfflineBotAPI()  # Telegram itself stays up while the bot restarts
    settings = make_settings(database_url)
    first = await start_bot(settings, i18n, telegram)
    try:
        from bot.offline import Person

        ana = Person(telegram, 501, "Ana", "es")
        await onboard(ana, "✓ Español")
        await ana.send("/add")
        await ana.press("NCSF")
        await ana.press("NCSF-CPT")
        await ana.send("3/2/2025")  # 3 February: day first in Spanish
    finally:
        await stop_bot(first)

    second = await start_bot(settings, i18n, telegram)
    try:
        await ana.press(ana.buttons[0])  # Skip, in Spanish: the question was the number
        assert "28 de febrero de 2027" in ana.last_text
        await ana.press(ana.buttons[0])  # Save
        held = await second.bot_data["db"].run(
            lambda s: credentials.held_by(s, ana.id, second.bot_data["catalog"])
        )
        assert [h.credential.cycle_end for h in held] == [date(2027, 2, 28)]
    finally:
        await stop_bot(second)
