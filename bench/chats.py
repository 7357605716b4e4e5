"""Chats: does a private chat wait while groups are flooded?

The bot runs as in production (`rate_limit=True`: `bot.ratelimit.TelegramLimits`, a group's
messages 3 s apart) on the offline Bot API, and updates reach it through its update queue, as
the poller (or the webhook) hands them over. `--groups` teams (default 4) are set up; then a
trainer in private chat sends `/help` `--samples` times (default 100), one after another as
a quick person would (0.1 s after each answer), each timed from the moment the update is
queued to the moment the bot's answer reaches the offline API (its `on_bot_message` hook):

1. quiet: no group traffic;
2. flooded: first `--commands` group commands (default 20, spread over the groups, half
   `/team`, half `/announce`) are queued at once, each of which the bot answers in its group
   under the group's limit; the private samples run while those wait their turn.

Figures: the private chat's p50 and p99 in each phase, and how long the groups took to be
answered. Goal (issue 18): the flooded p99 within 20% of the quiet one. `--sequential` runs
the same with updates handled one after another (PTB's default, what the bot did before
`bot.turns`), for comparison; `--samples` is best kept small there.

Run from the repository root: `python bench/chats.py [--groups 4] [--commands 20]
[--samples 40] [--sequential] [--json]`. SQLite in a temporary directory by default;
DATABASE_URL=postgresql:// uses a throwaway database recert_bench_<pid>_chats.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import SimpleUpdateProcessor

from bench.common import (
    Report,
    bench_database,
    goal_mark,
    header,
    make_settings,
    percentiles_ms,
    quiet_logs,
    shown,
)
from bot import app as app_module
from bot.app import build_application, shutdown, startup
from bot.i18n import I18n
from bot.offline import Chat, OfflineBotAPI, Person

GOAL_RATIO = 1.2  # flooded p99 within 20% of the quiet one
PAUSE = 0.1  # seconds between a sample's answer and the next /help


class Timed:
    """The running bot, the offline API, and when each chat got each message from the bot."""

    def __init__(self, api: OfflineBotAPI, application: Any) -> None:
        self.api = api
        self.application = application
        self.sent: list[tuple[int, float]] = []
        self.more = asyncio.Event()  # set on each message the bot sends
        api.on_bot_message = self._note

    def _note(self, message: dict[str, Any]) -> None:
        self.sent.append((message["chat"]["id"], time.perf_counter()))
        self.more.set()

    async def next_message(self) -> None:
        self.more.clear()
        await self.more.wait()

    def queue_updates(self) -> None:
        application = self.application
        self.api.deliver_to(
            lambda payload: application.update_queue.put(Update.de_json(payload, application.bot))
        )

    def count(self, chat_id: int) -> int:
        return sum(1 for chat, _at in self.sent if chat == chat_id)

    async def reply_time(self, person: Person, text: str) -> float:
        """Seconds from queuing `text` to the bot's next message in the person's chat."""
        before = self.count(person.id)
        started = time.perf_counter()
        await person.send(text)
        while self.count(person.id) == before:
            await self.next_message()
        return [at for chat, at in self.sent if chat == person.id][before] - started


async def set_up_team(api: OfflineBotAPI, number: int) -> tuple[Chat, Person]:
    boss = Person(api, 10_000 + number, f"Boss{number}")
    await boss.send("/start")
    await boss.press("✓ English")
    await boss.send("Madrid")
    group = api.new_group(f"Gym {number}")
    await api.join(group, boss, "creator")
    await api.add_bot(group, boss)
    await boss.send("/team@recert_bot", chat=group)
    return group, boss


async def samples(timed: Timed, person: Person, count: int) -> list[float]:
    measured = []
    for _ in range(count):
        measured.append(await timed.reply_time(person, "/help"))
        # A person reads before typing again (and a faster one would meet the bot's overall
        # 29 messages a second, with nothing else going on).
        await asyncio.sleep(PAUSE)
    return measured


async def measure(args: argparse.Namespace, report: Report) -> None:
    if args.sequential:  # PTB's default: one update at a time, in the order they came
        app_module.ChatOrderedProcessor = lambda: SimpleUpdateProcessor(1)  # type: ignore[assignment,misc]
    i18n = I18n.load()
    async with bench_database("chats") as url:
        report.line(f"database: {shown(url)}")
        api = OfflineBotAPI()
        application = build_application(
            make_settings(url, rate_limit=True), request=api, i18n=i18n
        )
        api.deliver_to(
            lambda payload: application.process_update(Update.de_json(payload, application.bot))
        )
        await startup(application)
        timed = Timed(api, application)
        try:
            teams = await asyncio.gather(*(set_up_team(api, n) for n in range(args.groups)))
            ana = Person(api, 42, "Ana")
            await ana.send("/start")
            await ana.press("✓ English")
            await ana.send("Madrid")
            timed.queue_updates()

            quiet = await samples(timed, ana, args.samples)
            _mean, quiet_p50, quiet_p99 = percentiles_ms(quiet)
            report.line(
                f"quiet:   private /help p50 {quiet_p50:.1f} ms, p99 {quiet_p99:.1f} ms "
                f"({args.samples} samples)"
            )

            flood_started = time.perf_counter()
            expected = {group.id: timed.count(group.id) for group, _boss in teams}
            for number in range(args.commands):
                group, boss = teams[number % len(teams)]
                text = "/team@recert_bot" if number % 2 == 0 else f"/announce Drill {number}"
                await boss.send(text, chat=group)
                expected[group.id] += 1
            flooded = await samples(timed, ana, args.samples)
            _mean, flooded_p50, flooded_p99 = percentiles_ms(flooded)
            while any(timed.count(chat) < count for chat, count in expected.items()):
                await timed.next_message()
            groups_done = time.perf_counter() - flood_started
            ratio = flooded_p99 / quiet_p99 if quiet_p99 else float("inf")
            report.line(
                f"flooded: private /help p50 {flooded_p50:.1f} ms, p99 {flooded_p99:.1f} ms, "
                f"while {args.commands} commands in {args.groups} groups were answered in "
                f"{groups_done:.1f} s"
            )
            report.line(
                f"goal: flooded p99 within 20% of quiet p99: {ratio:.2f}x, "
                f"{goal_mark(ratio <= GOAL_RATIO)}"
                + (" (sequential, as before bot.turns)" if args.sequential else "")
            )
            report.put(
                "chats",
                {
                    "sequential": args.sequential,
                    "groups": args.groups,
                    "commands": args.commands,
                    "samples": args.samples,
                    "quiet_p50_ms": quiet_p50,
                    "quiet_p99_ms": quiet_p99,
                    "flooded_p50_ms": flooded_p50,
                    "flooded_p99_ms": flooded_p99,
                    "p99_ratio": ratio,
                    "groups_answered_s": groups_done,
                },
            )
        finally:
            await shutdown(application)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--commands", type=int, default=20)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--sequential", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = Report("chats")
    report.line(header("private replies while groups are flooded"))
    with quiet_logs():
        asyncio.run(measure(args, report))
    report.dump(args.json)


if __name__ == "__main__":
    main()
