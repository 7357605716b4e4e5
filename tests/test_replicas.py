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


async def two_replicas(api: OfflineBotAPI, postgres_url: str, i18n: I18n) -> tuple[Any, Any]:
    """Two running copies of the bot on one database, sharing conversation state."""
    settings = make_settings(postgres_url, shared_state=True)
    first = build_application(settings, request=api, i18n=i18n)
    second = build_application(settings, request=api, i18n=i18n)
    await startup(first)
    await startup(second)
    return first, second


async def test_two_replicas_share_one_trainers_add_conversation(
    postgres_url: str, i18n: I18n
) -> None:
    api = OfflineBotAPI()
    first, second = await two_replicas(api, postgres_url, i18n)
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
        held = await db.run(lambda s: credentials.held_by(s, ana.id, first.bot_data["catalog"]))
        assert [(h.credential.catalog_id, h.credential.number) for h in held] == [
            ("ncsf-cpt", "NC-777")
        ]
        assert held[0].credential.certified_on == date(2025, 2, 3)
    finally:
        await shutdown(first)
        await shutdown(second)


async def test_an_update_posted_again_to_any_replica_is_handled_once(
    postgres_url: str, i18n: I18n
) -> None:
    import asyncio

    import httpx
    from pydantic import SecretStr

    from bot.webhook import WebhookServer
    from storage import updates
    from tests.test_webhook import start_update

    api = OfflineBotAPI()
    secret = "replica-secret"
    settings = make_settings(
        postgres_url, webhook_url="https://bot.example.com/hook", webhook_secret=SecretStr(secret)
    )
    apps = [build_application(settings, request=api, i18n=i18n) for _ in range(2)]
    servers = []
    for application in apps:
        await startup(application)
        server = WebhookServer(application, secret, "/hook")
        servers.append((server, f"http://127.0.0.1:{server.listen('127.0.0.1', 0)}/hook"))
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    Person(api, 42, "Lena")
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            # Telegram re-posts an update it thinks unanswered: to both replicas at once, and
            # to the first again afterwards.
            payload = start_update(42)
            answers = await asyncio.gather(
                *(client.post(url, json=payload, headers=headers) for _server, url in servers)
            )
            again = await client.post(servers[0][1], json=payload, headers=headers)
            statuses = sorted(a.status_code for a in answers)
            # One handled it (200); the other found it in hand (503: asked again later) or
            # already done (200).
            assert statuses in ([200, 200], [200, 503]) and again.status_code == 200
            welcomes = [m for m in api.chat(42).messages if "I'm Recert" in str(m.get("text"))]
            assert len(welcomes) == 1

            # A replica died with an update in hand: once its lease is over, it is handled.
            db = apps[0].bot_data["db"]
            from datetime import UTC, datetime, timedelta

            dead = datetime.now(UTC) - updates.LEASE - timedelta(seconds=1)
            lost = start_update(43)
            lost["update_id"] = 9100
            Person(api, 43, "Max")
            assert await db.run(lambda s: updates.claim(s, 9100, dead)) == "mine"
            answer = await client.post(servers[1][1], json=lost, headers=headers)
            assert answer.status_code == 200
            assert any("I'm Recert" in str(m.get("text")) for m in api.chat(43).messages)
            assert await db.run(lambda s: updates.claim(s, 9100, datetime.now(UTC))) == "done"
            later = datetime.now(UTC) + updates.KEEP + timedelta(hours=1)
            assert await db.run(lambda s: updates.prune(s, later)) == 2
    finally:
        for (server, _url), application in zip(servers, apps, strict=True):
            await server.stop()
            await shutdown(application)


async def test_two_taps_at_once_on_two_replicas_lose_neither(
    postgres_url: str, i18n: I18n
) -> None:
    """A trainer taps two credentials in /log's "which ones" at the same moment; the taps
    reach different replicas. Both are kept: one person's updates go one after another."""
    import asyncio
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from scheduler.cycles import Cycle

    api = OfflineBotAPI()
    first, second = await two_replicas(api, postgres_url, i18n)
    turn = [0]

    async def load_balancer(payload: dict[str, Any]) -> None:
        application = (first, second)[turn[0] % 2]
        turn[0] += 1
        await application.process_update(Update.de_json(payload, application.bot))

    api.deliver_to(load_balancer)
    try:
        kim = Person(api, 4343, "Kim")
        await kim.send("/start")
        await kim.press("✓ English")
        await kim.press(next(b for b in kim.buttons if "New York" in b))
        today = datetime.now(UTC).date()
        for catalog_id in ("nasm-cpt", "ace-cpt"):
            cycle = Cycle(today - timedelta(days=300), today + timedelta(days=400), Decimal(2))
            await first.bot_data["db"].run(
                lambda s, c=catalog_id, cy=cycle: credentials.add(s, kim.id, cy, catalog_id=c)
            )
        await kim.send("/log 0.5 Webinar")
        assert "Which credentials" in kim.last_text
        await asyncio.gather(kim.press("NASM-CPT"), kim.press("ACE-CPT"))
        await kim.press("Done")
        logged = [line for line in kim.last_text.split("\n") if line.startswith("Logged")]
        assert len(logged) == 2, kim.last_text
    finally:
        await shutdown(first)
        await shutdown(second)
