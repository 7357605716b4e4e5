"""Delivery: how fast nudges leave through the send path, and whether the rate limiter keeps
them under Telegram's limits.

1. Limiter off (`rate_limit=False`), against the offline Bot API: `--due` nudges (default
   1,000) claimed, then sent the way the sweep sends them (`scheduler.jobs.send_claims`:
   several in flight, each rendered in the trainer's language, `bot.send_message`, outcomes
   recorded as they come). Figures: nudges per second through that send path alone, and
   through whole sweeps
   (`run_sweep`: claim + send) until nothing is left. Then the same with `--latency-ms`
   (default 50) added to every sendMessage, as a network round trip to Telegram would, for
   `--latency-nudges` nudges (default 100): how fast one sweep sends when Telegram is not
   answering instantly.
2. Limiter on (the bot's default, `bot.ratelimit.TelegramLimits`): a bounded run of `--limited`
   nudges (default 200; several trainers have more than one due, as happens when deadlines
   fall together) sent by sweeps, while `--group` members (default 25) of one group send a
   personal command there at the same moment (the bot answers each in the group: "let's talk
   in private"). Every message the offline API accepts is timestamped by its `on_bot_message`
   hook. Figures: the achieved rate, and the largest bursts: overall in any 1 s, per private
   chat in any 1 s, per group in any 60 s (and in any 1 s).

Telegram's limits (Bot FAQ): about 30 messages per second overall, at most 20 messages per
minute in one group, and no more than about one message per second in one chat.

Goals: >= 1,000 nudges/s with the limiter off; never over Telegram's limits with it on.

Run from the repository root: `python bench/delivery.py [--due 1000] [--limited 200]
[--group 25] [--json]`. SQLite in a temporary directory by default; DATABASE_URL=postgresql://
uses throwaway databases recert_bench_<pid>_delivery*.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update

from bench.common import Report, bench_database, header, make_settings, quiet_logs, shown
from bench.populate import Population, populate_async
from bench.sweep import make_due_again, trainer_of
from bench.updates import user_of
from bot.app import build_application, shutdown, startup
from bot.i18n import I18n
from bot.offline import OfflineBotAPI
from scheduler.jobs import run_sweep, send_claims
from storage import nudges
from storage.db import Database

OVERALL_PER_S = 30  # Telegram: about 30 messages a second overall
GROUP_PER_MIN = 20  # at most 20 a minute in one group
CHAT_PER_S = 1  # about one a second in one chat


def max_in_window(times: list[float], window: float) -> int:
    """The most timestamps (sorted) within any span of `window` seconds."""
    best = 0
    for i, start in enumerate(times):
        best = max(best, bisect_left(times, start + window, lo=i) - i)
    return best


@dataclass
class Unlimited:
    nudges: int
    send_seconds: float
    send_per_s: float
    sweeps: int
    sweep_seconds: float
    sweep_per_s: float
    statements_per_nudge: float

    def lines(self) -> list[str]:
        return [
            f"limiter off, send path (render + send + record): {self.send_per_s:,.0f} nudges/s "
            f"({self.nudges} in {self.send_seconds:.2f} s, "
            f"{self.statements_per_nudge:.1f} statements per nudge)",
            f"limiter off, whole sweeps (claim + send): {self.sweep_per_s:,.0f} nudges/s "
            f"({self.nudges} in {self.sweeps} sweeps, {self.sweep_seconds:.2f} s)",
        ]


@dataclass
class WithLatency:
    latency_ms: float
    nudges: int
    seconds: float
    per_s: float

    def line(self) -> str:
        return (
            f"limiter off, {self.latency_ms:.0f} ms per sendMessage (network round trip): "
            f"{self.per_s:,.1f} nudges/s ({self.nudges} in one sweep, {self.seconds:.1f} s)"
        )


@dataclass
class Limited:
    messages: int
    nudges: int
    group_messages: int
    seconds: float
    rate_per_s: float
    nudge_seconds: float
    nudge_rate_per_s: float
    max_overall_1s: int
    max_chat_1s: int
    chats_with_several: int
    max_group_60s: int
    max_group_1s: int

    def lines(self) -> list[str]:
        over = self.max_overall_1s > OVERALL_PER_S
        group_over = self.max_group_60s > GROUP_PER_MIN
        chat_over = self.max_chat_1s > CHAT_PER_S
        return [
            f"limiter on: {self.messages} messages ({self.nudges} nudges, "
            f"{self.group_messages} in one group) in {self.seconds:.1f} s: "
            f"{self.rate_per_s:.1f} msg/s achieved; nudges alone {self.nudge_rate_per_s:.1f}/s "
            f"over {self.nudge_seconds:.1f} s",
            f"limiter on, largest burst overall: {self.max_overall_1s} in 1 s "
            f"(Telegram ~{OVERALL_PER_S}/s: {'OVER' if over else 'within'})",
            f"limiter on, largest burst per group: {self.max_group_60s} in 60 s, "
            f"{self.max_group_1s} in 1 s "
            f"(Telegram {GROUP_PER_MIN}/min: {'OVER' if group_over else 'within'})",
            f"limiter on, largest burst per private chat: {self.max_chat_1s} in 1 s; "
            f"{self.chats_with_several} chats got several nudges "
            f"(Telegram ~{CHAT_PER_S}/s per chat: {'OVER' if chat_over else 'within'})",
        ]


def register_due(api: OfflineBotAPI, population: Population) -> set[int]:
    users = set()
    for credential_id in population.due_credential_ids:
        user_id = trainer_of(population, credential_id)
        if user_id not in users:
            api.register_user(user_of(user_id))
            users.add(user_id)
    return users


async def unlimited(args: argparse.Namespace, report: Report) -> Unlimited:
    async with bench_database("delivery") as url:
        population = await populate_async(url, args.trainers, due=args.due, seed=args.seed)
        report.line(population.line() + f" [{shown(url)}]")
        api = OfflineBotAPI()
        register_due(api, population)
        settings = make_settings(url, rate_limit=False, migrate_on_start=False)
        application = build_application(settings, request=api, i18n=I18n.load())
        await startup(application)
        db: Database = application.bot_data["db"]
        catalog = application.bot_data["catalog"]
        try:
            # The send path alone: claim everything first (untimed), then send each.
            now = datetime.now(UTC)
            claims = []
            while True:
                sweep = await db.run(
                    lambda session: nudges.claim_due(session, catalog, now, "bench", "UTC")
                )
                if not sweep.claims:
                    break
                claims += sweep.claims
            statements = db.statements
            start = time.perf_counter()
            await send_claims(application, claims, now, "bench")
            send_seconds = time.perf_counter() - start
            statements = db.statements - statements
            sent = sum(1 for call in api.calls if call.method == "sendMessage" and call.ok)
            if sent != len(claims):
                report.line(f"  note: {len(claims)} claimed, {sent} sent")

            # Whole sweeps, from the same state again.

            await db.run(make_due_again(population, datetime.now(UTC)))
            sweeps = sent_by_sweeps = 0
            start = time.perf_counter()
            while True:
                sweep = await run_sweep(application, datetime.now(UTC), "bench")
                if not sweep.claims:
                    break
                sweeps += 1
                sent_by_sweeps += len(sweep.claims)
            sweep_seconds = time.perf_counter() - start
        finally:
            await shutdown(application)
    return Unlimited(
        len(claims),
        send_seconds,
        len(claims) / send_seconds,
        sweeps,
        sweep_seconds,
        sent_by_sweeps / sweep_seconds,
        statements / max(len(claims), 1),
    )


async def with_latency(args: argparse.Namespace, report: Report) -> WithLatency:
    async with bench_database("delivery_latency") as url:
        population = await populate_async(
            url, max(args.latency_nudges, 1) * 2, due=args.latency_nudges, seed=args.seed
        )
        report.line(population.line() + f" [{shown(url)}]")
        api = OfflineBotAPI()
        register_due(api, population)
        api.delays["sendMessage"] = args.latency_ms / 1000
        settings = make_settings(url, rate_limit=False, migrate_on_start=False)
        application = build_application(settings, request=api, i18n=I18n.load())
        await startup(application)
        try:
            start = time.perf_counter()
            sweep = await run_sweep(application, datetime.now(UTC), "bench")
            seconds = time.perf_counter() - start
        finally:
            await shutdown(application)
    count = len(sweep.claims)
    return WithLatency(args.latency_ms, count, seconds, count / seconds)


async def limited(args: argparse.Namespace, report: Report) -> Limited:
    sent: list[tuple[float, int, str]] = []

    def stamp(message: dict[str, Any]) -> None:
        sent.append((time.perf_counter(), int(message["chat"]["id"]), message["chat"]["type"]))

    async with bench_database("delivery_limited") as url:
        # Few trainers, so that several have more than one credential due at once.
        trainers = max(args.limited // 2, 1)
        population = await populate_async(url, trainers, due=args.limited, seed=args.seed)
        report.line(population.line() + f" [{shown(url)}]")
        api = OfflineBotAPI(on_bot_message=stamp)
        register_due(api, population)
        group = api.new_group("Gym team")
        group.members[api.bot_user["id"]] = {"status": "member"}
        members = [user_of(9_000_000 + k) for k in range(args.group)]
        for member in members:
            api.register_user(member)
            group.members[member["id"]] = {"status": "member"}
        settings = make_settings(url, rate_limit=True, migrate_on_start=False)
        application = build_application(settings, request=api, i18n=I18n.load())
        await startup(application)
        try:
            sent.clear()  # start-up's calls are not messages, but be sure
            start = time.perf_counter()

            async def group_commands() -> None:
                await asyncio.gather(
                    *(
                        application.process_update(
                            Update.de_json(
                                message_update_in(api, group.id, member, "/status"),
                                application.bot,
                            )
                        )
                        for member in members
                    )
                )

            async def sweeps() -> float:
                while True:
                    sweep = await run_sweep(application, datetime.now(UTC), "bench")
                    if not sweep.claims:
                        return time.perf_counter()

            group_task = asyncio.create_task(group_commands())
            nudges_done = await sweeps()
            await group_task
            seconds = time.perf_counter() - start
        finally:
            await shutdown(application)
    times = sorted(t for t, _, _ in sent)
    per_chat: dict[int, list[float]] = defaultdict(list)
    for t, chat_id, _kind in sent:
        per_chat[chat_id].append(t)
    private = {c: ts for c, ts in per_chat.items() if c > 0}
    groups = {c: ts for c, ts in per_chat.items() if c < 0}
    nudge_times = sorted(t for t, c, _ in sent if c > 0)
    nudge_span = (nudges_done - start) if nudge_times else 0.0
    return Limited(
        messages=len(sent),
        nudges=len(nudge_times),
        group_messages=sum(len(ts) for ts in groups.values()),
        seconds=seconds,
        rate_per_s=len(sent) / seconds,
        nudge_seconds=nudge_span,
        nudge_rate_per_s=len(nudge_times) / nudge_span if nudge_span else 0.0,
        max_overall_1s=max_in_window(times, 1.0),
        max_chat_1s=max((max_in_window(sorted(ts), 1.0) for ts in private.values()), default=0),
        chats_with_several=sum(1 for ts in private.values() if len(ts) > 1),
        max_group_60s=max((max_in_window(sorted(ts), 60.0) for ts in groups.values()), default=0),
        max_group_1s=max((max_in_window(sorted(ts), 1.0) for ts in groups.values()), default=0),
    )


def message_update_in(
    api: OfflineBotAPI, chat_id: int, user: dict[str, Any], text: str
) -> dict[str, Any]:
    """A message typed by `user` in the chat `chat_id` (a group), as Telegram sends it."""
    content: dict[str, Any] = {
        "from": user,
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }
    message = api._append(api.chat(chat_id), content)
    return {"update_id": next(api._update_ids), "message": message}


async def main(args: argparse.Namespace) -> Report:
    report = Report("delivery")
    report.line(header("delivery"))
    with quiet_logs():
        off = await unlimited(args, report)
        for line in off.lines():
            report.line(line)
        slow = await with_latency(args, report)
        report.line(slow.line())
        on = await limited(args, report)
        for line in on.lines():
            report.line(line)
    report.put("unlimited", asdict(off))
    report.put("with_latency", asdict(slow))
    report.put("limited", asdict(on))
    within = (
        on.max_overall_1s <= OVERALL_PER_S
        and on.max_group_60s <= GROUP_PER_MIN
        and on.max_chat_1s <= CHAT_PER_S
    )
    report.line(
        f"goal limiter off >= 1,000 nudges/s through the send path: {off.send_per_s:,.0f}/s "
        f"({'met' if off.send_per_s >= 1000 else 'MISSED'})"
    )
    report.line(
        "goal limiter on never over Telegram's limits: "
        f"overall {on.max_overall_1s}/1 s (<= {OVERALL_PER_S}), "
        f"group {on.max_group_60s}/60 s (<= {GROUP_PER_MIN}), "
        f"private chat {on.max_chat_1s}/1 s (<= {CHAT_PER_S}) "
        f"({'met' if within else 'MISSED'})"
    )
    report.put(
        "goals",
        {"send_per_s": off.send_per_s, "send_ok": off.send_per_s >= 1000, "within_limits": within},
    )
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=1_000, help="nudges, limiter off")
    parser.add_argument("--trainers", type=int, default=2_000, help="trainers, limiter off")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="per sendMessage")
    parser.add_argument("--latency-nudges", type=int, default=100, help="nudges sent with latency")
    parser.add_argument("--limited", type=int, default=200, help="nudges, limiter on")
    parser.add_argument("--group", type=int, default=25, help="group messages, limiter on")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print one JSON line at the end")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    asyncio.run(main(arguments)).dump(arguments.json)
