"""Several replicas on one PostgreSQL database: one trainer's updates alternate between two
running copies of the bot, and the conversation goes on as if there were one."""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import Update

from bot.app import build_application, shutdown, startup
from bot.i18n import I18n
from bot.offline import OfflineBotAPI, Person
from storage import credentials
from tests.conftest import make_settings


async def test_two_replicas_share_one_trainers_add_conversation(
    postgres_url: str, i18n: I18n
) -> None:
    api = OfflineBotAPI()
    settings = make_settings(postgres_url, shared_state=True)
    first = build_application(settings, request=api, i18n=i18n)
    second = build_application(settings, request=api, i18n=i18n)
    await startup(first)
    await startup(second)
    handled_by: list[str] = []
    replicas = [("first", first), ("second", second)]

    async def load_balancer(payload: dict[str, Any]) -> None:
        # Round robin, as a load balancer in front of two replicas would do.
        name, application = replicas[len(handled_by) % 2]
        handled_by.append(name)
        await application.process_update(Update.de_json(payload, application.bot))

    api.deliver_to(load_balancer)
    try:
        ana = Person(api, 4242, "Ana")
        await ana.send("/start")  # first
        await ana.press("✓ English")  # second
        await ana.press(next(b for b in ana.buttons if "New York" in b))  # first
        await ana.send("/add")  # second
        assert "Which organization" in ana.last_text
        await ana.press("NCSF")  # first
        await ana.press("NCSF-CPT")  # second
        assert "When did you earn NCSF-CPT" in ana.last_text
        await ana.send("2/3/25")  # first: a replica that did not see the question
        assert "credential number" in ana.last_text
        await ana.send("NC-777")  # second
        assert "Expires: February 28, 2027" in ana.last_text
        await ana.press("✅ Save")  # first
        assert "Saved: NCSF-CPT" in ana.inbox[-2]["text"]
        # Once ended on one replica, the conversation is over on the other too.
        await ana.send("NC-888")  # second
        assert "I answer to commands and buttons" in ana.last_text
        assert set(handled_by) == {"first", "second"} and len(handled_by) == 10
        db = first.bot_data["db"]
        held = await db.run(lambda s: credentials.held_by(s, ana.id))
        assert [(h.credential.catalog_id, h.credential.number) for h in held] == [
            ("ncsf-cpt", "NC-777")
        ]
        assert held[0].credential.certified_on == date(2025, 2, 3)
    finally:
        await shutdown(first)
        await shutdown(second)
