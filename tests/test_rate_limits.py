"""Sending under Telegram's limits: never more than allowed in any window, from the first
message on; reminders to one trainer a second apart; answers to people not held back."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import I18n
from bot.offline import OfflineBotAPI, Person
from bot.ratelimit import KEEP_CHATS, PACED, REPLY_RESERVE, TelegramLimits
from scheduler.cycles import Cycle
from scheduler.jobs import run_sweep
from storage import credentials
from tests.conftest import make_settings, start_bot, stop_bot

MADRID = ZoneInfo("Europe/Madrid")


def most_in_any_window(moments: list[float], window: float) -> int:
    moments = sorted(moments)
    best, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


async def send_through(
    limits: TelegramLimits, chat_ids: list[int], rate_limit_args: str | None = None
) -> dict[int, list[float]]:
    """All at once, as a sweep or a busy minute would; when each reached "Telegram"."""
    sent: dict[int, list[float]] = {}

    async def one(chat_id: int) -> None:
        async def telegram() -> dict[str, Any]:
            sent.setdefault(chat_id, []).append(time.monotonic())
            return {"ok": True}

        await limits.process_request(
            telegram, (), {}, "sendMessage", {"chat_id": chat_id}, rate_limit_args
        )

    await asyncio.gather(*(one(chat_id) for chat_id in chat_ids))
    return sent


async def test_overall_rate_holds_from_the_first_message() -> None:
    """PTB's own limiter let 30 go at once and 30 more in the same second; not here: never more
    than the limit in any second. Answers to people may go at once, up to it; bulk sends (here
    reminders) leave evenly spaced and keep part of each second for those answers."""
    limits = TelegramLimits(overall_per_second=50)
    sent = await send_through(limits, list(range(1, 61)))  # answers to 60 people
    moments = [moment for times in sent.values() for moment in times]
    assert len(moments) == 60
    assert most_in_any_window(moments, 1.0) <= 50
    assert max(moments) - min(moments) >= 0.95  # the 51st waited for the first to age

    limits = TelegramLimits(overall_per_second=50)
    sent = await send_through(limits, list(range(100, 160)), rate_limit_args=PACED)
    moments = [moment for times in sent.values() for moment in times]
    assert most_in_any_window(moments, 1.0) <= 50 - REPLY_RESERVE
    assert most_in_any_window(moments, 0.5) <= 24  # 46/s, evenly: one at once, 23 more
    assert max(moments) - min(moments) >= 59 / 46 * 0.95


async def test_an_answer_is_not_queued_behind_bulk_sends() -> None:
    limits = TelegramLimits(overall_per_second=10)
    bulk = asyncio.ensure_future(send_through(limits, list(range(200, 220)), PACED))
    await asyncio.sleep(0.3)  # the reminders are under way, 6 a second
    asked = time.monotonic()
    answered = await send_through(limits, [7])
    assert answered[7][0] - asked < 0.05
    await bulk


async def test_a_group_gets_its_share_and_other_chats_are_not_held_up() -> None:
    limits = TelegramLimits(overall_per_second=1000, group_gap_seconds=0.1)
    group, private = -100123, 42
    sent = await send_through(limits, [group] * 5 + [private] * 5)
    gaps = [b - a for a, b in itertools.pairwise(sent[group])]
    assert len(sent[group]) == 5 and min(gaps) >= 0.1
    assert max(sent[private]) - min(sent[private]) < 0.05  # answers to a person: not paced


async def test_paced_sends_to_one_chat_are_spaced_and_buckets_stay_bounded() -> None:
    limits = TelegramLimits(overall_per_second=1000, chat_gap_seconds=0.1)
    sent = await send_through(limits, [7, 7, 7, 8], rate_limit_args=PACED)
    gaps = [b - a for a, b in itertools.pairwise(sent[7])]
    assert min(gaps) >= 0.1 and sent[8][0] - min(sent[7]) < 0.05

    # Many trainers at once: their buckets live while they are pacing, then are forgotten.
    await send_through(limits, list(range(1000, 1000 + KEEP_CHATS + 50)), rate_limit_args=PACED)
    await asyncio.sleep(0.15)  # nobody is being paced any more
    await send_through(limits, [5], rate_limit_args=PACED)
    assert len(limits._chats) <= KEEP_CHATS


async def test_a_sweep_with_the_limiter_spaces_one_trainers_nudges(
    sqlite_url: str, i18n: I18n
) -> None:
    """Three nudges due at once for one trainer arrive a second apart; another trainer's are
    not delayed by them."""
    telegram = OfflineBotAPI()
    arrivals: dict[int, list[float]] = {}
    telegram.on_bot_message = lambda message: arrivals.setdefault(
        message["chat"]["id"], []
    ).append(time.monotonic())
    application = await start_bot(make_settings(sqlite_url, rate_limit=True), i18n, telegram)
    try:
        eve, max_ = Person(telegram, 9101, "Eve"), Person(telegram, 9102, "Max")
        for person in (eve, max_):
            await person.send("/start")
            await person.press("✓ English")
            await person.send("Madrid")
        end = datetime.now(MADRID).date() + timedelta(days=30)
        long_ago = datetime(2020, 1, 1, tzinfo=UTC)
        held = [(eve, "nasm-cpt"), (eve, "ace-cpt"), (eve, "aha-cpr"), (max_, "ace-cpt")]

        def register(session):  # type: ignore[no-untyped-def]
            for person, catalog_id in held:
                cycle = Cycle(end - timedelta(days=700), end, None)
                saved = credentials.add(session, person.id, cycle, catalog_id=catalog_id)
                saved.cycle_set_at = saved.next_nudge_at = long_ago

        await application.bot_data["db"].run(register)
        arrivals.clear()
        # The 7-days-before reminders, all due at 9:00 in Madrid that day.
        nine = datetime.combine(end - timedelta(days=7), clock(9, 1), MADRID)
        sweep = await run_sweep(application, nine.astimezone(UTC))
        assert len(sweep.claims) == 4
        assert len(arrivals[eve.id]) == 3 and len(arrivals[max_.id]) == 1
        eve_times = arrivals[eve.id]
        gaps = [b - a for a, b in itertools.pairwise(eve_times)]
        assert min(gaps) >= 1.0
        assert arrivals[max_.id][0] - eve_times[0] < 0.5
        assert all("due in 7 days" in m["text"] for m in eve.inbox[-3:])
    finally:
        await stop_bot(application)


async def test_questions_to_the_bot_api_are_not_paced() -> None:
    """getChatMember names a group but is not a message: a manager paging the roster never
    waits on the group's 20 messages a minute."""
    limits = TelegramLimits(group_gap_seconds=60)
    asked: list[float] = []

    async def telegram() -> dict[str, Any]:
        asked.append(time.monotonic())
        return {"ok": True}

    for _ in range(5):
        await limits.process_request(
            telegram, (), {}, "getChatMember", {"chat_id": -100, "user_id": 1}, None
        )
    assert len(asked) == 5 and asked[-1] - asked[0] < 0.05
