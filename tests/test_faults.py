"""Faults: Telegram's (RetryAfter, time-outs, 5xx, Forbidden, from the offline Bot API) and the
database's (connections dropped by the server mid-sweep). Nothing is lost, nothing is sent
twice, and the bot recovers by itself."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from sqlmodel import select
from telegram.error import NetworkError, TimedOut

from bot.i18n import I18n
from bot.offline import ApiError, OfflineBotAPI, Person
from scheduler.jobs import run_sweep
from storage import trainers
from storage.models import Nudge
from tests.conftest import POSTGRES_URL, Bot, make_settings, start_bot, stop_bot
from tests.test_nudges import many_due

MADRID = ZoneInfo("Europe/Madrid")


async def sweep_until_done(application: object, start: datetime, step: timedelta) -> int:
    """Sweeps with time moving on until nothing is claimed; returns how many it took."""
    now, sweeps = start, 0
    while True:
        result = await run_sweep(application, now)  # type: ignore[arg-type]
        sweeps += 1
        if not result.claims:
            return sweeps
        now += step
        assert sweeps < 50, "the sweep never settled"


async def test_telegram_faults_lose_nothing_and_send_nothing_twice(bot: Bot) -> None:
    end = datetime.now(MADRID).date() + timedelta(days=30)
    due_at = datetime.combine(end - timedelta(days=7), time(9), MADRID).astimezone(UTC)
    people = [Person(bot.api, 7000 + n, f"T{n}") for n in range(30)]
    await bot.db.run(many_due(30, end, 7000))
    people[3].block_bot()  # Forbidden: marked inactive, not lost in a retry loop
    bot.api.faults["sendMessage"] = [
        ApiError(429, "Too Many Requests: retry after 5", retry_after=5),
        TimedOut(),
        ApiError(502, "Bad Gateway"),
        ApiError(500, "Internal Server Error"),
        NetworkError("connection reset by peer"),
        ApiError(429, "Too Many Requests: retry after 1", retry_after=1),
        TimedOut(),
        ApiError(503, "Service Unavailable"),
    ]
    # Each step past the retry of a time-out (15 minutes: scheduler.jobs).
    sweeps = await sweep_until_done(bot.application, due_at, timedelta(minutes=16))
    counts = [len(p.inbox) for p in people]
    assert counts == [0 if n == 3 else 1 for n in range(30)], counts
    assert not bot.api.faults["sendMessage"]  # every fault was met
    assert sweeps >= 2  # the faulted ones went out on a later sweep
    statuses = await bot.db.run(lambda s: sorted(n.status for n in s.exec(select(Nudge))))
    # (Older milestones missed before the first sweep are skipped: no floods.)
    assert [s for s in statuses if s != "skipped"] == ["failed"] + ["sent"] * 29
    blocked = await bot.db.run(lambda s: trainers.get(s, people[3].id))
    assert blocked is not None and not blocked.active


async def _terminate_others(stop: asyncio.Event, killed: list[int]) -> None:
    """What an operator's pg_terminate_backend (or a fail-over) does to the bot's connections,
    several times while the sweep runs, a few tenths of a second apart."""
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        for _ in range(6):
            if stop.is_set():
                break
            rows = await connection.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            killed.append(sum(1 for row in rows if row[0]))
            await asyncio.sleep(0.15)
    finally:
        await connection.close()


async def test_database_connections_dropped_mid_sweep(postgres_url: str, i18n: I18n) -> None:
    api = OfflineBotAPI()
    application = await start_bot(make_settings(postgres_url), i18n, api)
    try:
        end = datetime.now(MADRID).date() + timedelta(days=30)
        due_at = datetime.combine(end - timedelta(days=7), time(9), MADRID).astimezone(UTC)
        people = [Person(api, 8000 + n, f"T{n}") for n in range(40)]
        await application.bot_data["db"].run(many_due(40, end, 8000))
        api.delays["sendMessage"] = 0.05  # the sweep takes about a second
        stop, killed = asyncio.Event(), []
        killer = asyncio.create_task(_terminate_others(stop, killed))
        await asyncio.sleep(0.05)
        try:
            first = await run_sweep(application, due_at)
        finally:
            stop.set()
            await killer
        assert sum(killed) > 0  # connections really were dropped under the sweep
        assert first.claims
        # Whatever the drops left claimed (leases) goes out once its lease ends.
        await sweep_until_done(application, due_at + timedelta(minutes=6), timedelta(minutes=6))
        counts = [len(p.inbox) for p in people]
        lost, twice = counts.count(0), sum(c - 1 for c in counts if c > 1)
        print(f"\nconnections dropped: {sum(killed)}; nudges lost: {lost}; duplicates: {twice}")
        assert lost == 0 and twice == 0, counts
        # And the bot answers people as before.
        ana = Person(api, 8999, "Ana")
        await ana.send("/start")
        assert "I'm Recert" in ana.last_text
    finally:
        await stop_bot(application)
