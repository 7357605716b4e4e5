"""One chat never waits for another (issue 18): updates reach the Application through its
queue, as with polling, and a group waiting for its turn to send (Telegram's 20 a minute)
holds up no private chat; each chat's updates are still handled in order."""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.i18n import I18n
from bot.offline import OfflineBotAPI, Person
from bot.ratelimit import TelegramLimits
from scheduler.cycles import Cycle
from storage import credentials
from tests.conftest import make_settings, start_bot, stop_bot
from tests.helpers import onboard
from tests.test_log import TODAY

GROUP_GAP = 0.5  # seconds between a group's messages (3 s in production)


@dataclass
class Queued:
    api: OfflineBotAPI
    application: Any
    sent_at: list[tuple[int, float, str]] = field(default_factory=list)

    def through_the_queue(self) -> None:
        """From now on updates are queued, as the poller queues them, not handled inline."""
        application = self.application
        self.api.deliver_to(
            lambda payload: application.update_queue.put(Update.de_json(payload, application.bot))
        )

    def to(self, chat_id: int, since: float = 0.0) -> list[float]:
        """When the bot's messages to `chat_id` were sent, from `since` on."""
        return [at for chat, at, _text in self.sent_at if chat == chat_id and at >= since]

    async def until(self, count: int, chat_id: int, since: float = 0.0) -> None:
        deadline = time.monotonic() + 20
        while len(self.to(chat_id, since)) < count:
            assert time.monotonic() < deadline, f"{chat_id}: {self.sent_at}"
            await asyncio.sleep(0.01)


@pytest.fixture
async def queued(
    tmp_path: Path, i18n: I18n, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Queued]:
    # The limiter as in production, pacing groups; only the gap is shorter, for time's sake.
    monkeypatch.setattr(
        "bot.app.TelegramLimits", functools.partial(TelegramLimits, group_gap_seconds=GROUP_GAP)
    )
    running = Queued(OfflineBotAPI(), None)
    running.api.on_bot_message = lambda message: running.sent_at.append(
        (message["chat"]["id"], time.monotonic(), message.get("text", ""))
    )
    settings = make_settings(f"sqlite:///{tmp_path / 'turns.db'}", rate_limit=True)
    running.application = await start_bot(settings, i18n, running.api)
    try:
        yield running
    finally:
        await stop_bot(running.application)


async def test_a_private_chat_is_answered_while_a_group_waits_its_turn(queued: Queued) -> None:
    api = queued.api
    boss = Person(api, 501, "Maria")
    await boss.send("/start")
    group = api.new_group("Iron Gym trainers")
    await api.join(group, boss, "creator")
    await api.add_bot(group, boss)
    await boss.send("/team@recert_bot", chat=group)  # the team is set up
    ana = Person(api, 502, "Ana")
    await onboard(ana, "✓ English")

    queued.through_the_queue()
    flood = time.monotonic()
    for _ in range(4):
        await boss.send("/team@recert_bot", chat=group)  # four settings screens, paced
    asked = time.monotonic()
    await ana.send("/help")
    await queued.until(1, ana.id, since=asked)
    answered = queued.to(ana.id, since=asked)[0]
    await queued.until(4, group.id, since=flood)
    group_done = max(queued.to(group.id, since=flood))
    # Handled one after another, /help came after the four group screens, 2 s and more.
    assert answered - asked < GROUP_GAP, answered - asked
    assert answered < group_done - 2 * GROUP_GAP
    assert "Recert keeps your certifications" in ana.last_text


async def test_each_chats_updates_are_handled_in_order(queued: Queued) -> None:
    api = queued.api
    leo = Person(api, 601, "Leo")
    await onboard(leo, "✓ English")
    await queued.application.bot_data["db"].run(
        lambda s: credentials.add(
            s,
            leo.id,
            Cycle(TODAY - timedelta(days=30), TODAY + timedelta(days=700), Decimal(20)),
            catalog_id="nasm-cpt",
        )
    )
    before = len(leo.inbox)
    queued.through_the_queue()
    for number in range(12):  # typed as fast as a client can send them
        await leo.send(f"/log 0.5 Course {number}")
    await queued.until(before + 12, leo.id)
    totals = [
        Decimal(match[1])
        for text in (m["text"] for m in leo.inbox[before:])
        if (match := re.search(r"Now ([\d.]+) CEU", text))
    ]
    assert totals == [Decimal("0.5") * (n + 1) for n in range(12)], totals


async def test_a_persons_group_and_private_updates_never_run_at_once() -> None:
    from bot.turns import ChatTurns

    turns = ChatTurns()
    user = {"id": 7, "is_bot": False, "first_name": "Ana"}
    private = {"id": 7, "type": "private"}
    group = {"id": -100, "type": "group", "title": "Gym"}

    def update(update_id: int, chat: dict[str, Any]) -> Update:
        message = {"message_id": 1, "date": 0, "chat": chat, "from": user, "text": "x"}
        return Update.de_json({"update_id": update_id, "message": message}, None)

    inside: list[int] = []
    most = 0

    async def handle(one: Update) -> None:
        nonlocal most
        async with turns.turn(one):
            inside.append(one.update_id)
            most = max(most, len(inside))
            await asyncio.sleep(0.01)
            inside.remove(one.update_id)

    chats = [group, private, group, private, {"id": -200, "type": "group", "title": "B"}]
    await asyncio.gather(*(handle(update(n, chat)) for n, chat in enumerate(chats)))
    assert most == 1  # one person: one update at a time, wherever it came from
    assert len(turns) == 0  # nothing kept once done
