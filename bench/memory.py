"""Memory: resident memory (VmRSS) of the running bot after start-up with 100,000 trainers
stored, and after 10,000 different users have each sent a few messages.

The database is filled once (`bench/populate.py`: `--trainers`, three credentials and twenty
credits each), then each stage runs in a fresh Python process, so its figure is clean:

- imports: the bot's modules imported, nothing started (what the libraries cost);
- start-up: the Application built as the tests build it and started (`startup`: migrations
  checked, persistence loaded, catalogs, the zone index, the command menus);
- users: start-up, then `--users` different stored trainers (default 10,000) each send
  `--messages` (default /status, /help and a stray "hello"), one after the other, with RSS read
  after 0, 10 %, 25 %, 50 % and 100 % of the users. The offline Bot API used here forgets each
  chat once its user is done and keeps no call log, so what grows is the bot's.

RSS is read from /proc/self/status after `gc.collect()`; the peak (VmHWM) is printed too.
`--trace` adds a tracemalloc comparison (first checkpoint against last, by file and line) to
the users stage, to name what grows; tracing itself costs memory, so it is off by default.

Goals: RSS < 150 MB after start-up with 100,000 trainers, and no growth with the number of
distinct users beyond a bounded cache. The second is judged on the users after the first
quarter (caches are warm by then): met when RSS grows by less than 0.05 KB per further user
and the Application does not keep an entry per user.

Run from the repository root: `python bench/memory.py [--trainers 100000] [--users 10000]
[--trace] [--json]`. SQLite in a temporary directory by default; DATABASE_URL=postgresql://
uses a throwaway database recert_bench_<pid>_memory there.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = 150.0
MESSAGES = ("/status", "/help", "hello")
CHECKPOINTS = (0.0, 0.1, 0.25, 0.5, 1.0)
LATE_KB_PER_USER = 0.05  # growth per user once warm that still counts as "none"


def memory_now() -> dict[str, float]:
    gc.collect()
    figures = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = int(value.split()[0]) / 1024
    return figures


# --- the stages, each in its own process ---------------------------------------------------------


def stage_imports() -> dict[str, Any]:
    import bot.app  # noqa: F401  (everything the bot imports at start)
    from bench.common import make_settings  # noqa: F401

    return {"stage": "imports", **memory_now()}


def lean_api() -> Any:
    """The offline Bot API, keeping nothing it does not need: no call log, no chat history."""
    from bot.offline import Chat, OfflineBotAPI

    class LeanOfflineBotAPI(OfflineBotAPI):
        def _append(self, chat: Chat, message: dict[str, Any]) -> dict[str, Any]:
            message = {
                "message_id": chat.next_id,
                "date": self._now(),
                "chat": chat.info,
                **message,
            }
            chat.next_id += 1
            return message

        async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            result = await super().do_request(*args, **kwargs)
            self.calls.clear()
            return result

        def forget(self, user_id: int) -> None:
            self.chats.pop(user_id, None)
            self.users.pop(user_id, None)

    return LeanOfflineBotAPI()


async def stage_started(
    url: str, users: int, messages: tuple[str, ...], trace: bool
) -> dict[str, Any]:
    from telegram import Update

    from bench.common import make_settings
    from bench.populate import FIRST_TRAINER_ID
    from bench.updates import message_update, user_of
    from bot.app import build_application, shutdown, startup

    api = lean_api()
    settings = make_settings(url, rate_limit=False, migrate_on_start=True)
    application = build_application(settings, request=api)
    await startup(application)
    result: dict[str, Any] = {"stage": "start-up" if not users else "users", "checkpoints": []}
    started = memory_now()
    result.update(started)
    if not users:
        await shutdown(application)
        return result
    if trace:
        import tracemalloc

        tracemalloc.start(1)
    marks = sorted({round(users * share) for share in CHECKPOINTS})
    snapshots = []
    errors = 0
    start = time.perf_counter()
    for done in range(users + 1):
        if done in marks:
            await application.update_persistence()  # what the 5 s job would have written
            figures = memory_now()
            result["checkpoints"].append(
                {
                    "users": done,
                    **figures,
                    "user_data": len(application.user_data),
                    "chat_data": len(application.chat_data),
                }
            )
            if trace:
                import tracemalloc

                snapshots.append(tracemalloc.take_snapshot())
        if done == users:
            break
        user = user_of(FIRST_TRAINER_ID + done)
        api.register_user(user)
        for text in messages:
            payload = message_update(api, user, text)
            await application.process_update(Update.de_json(payload, application.bot))
        replies = api.chat(user["id"]).next_id - 1 - len(messages)
        errors += replies < len(messages)
        api.forget(user["id"])
    result["seconds"] = time.perf_counter() - start
    result["users_without_all_replies"] = errors
    if trace and len(snapshots) >= 2:
        diff = snapshots[-1].compare_to(snapshots[0], "lineno")
        result["growth_top"] = [
            f"{stat.size_diff / 1024:+.0f} KiB {stat.count_diff:+d} blocks "
            f"{stat.traceback[0].filename}:{stat.traceback[0].lineno}"
            for stat in diff[:12]
        ]
    await shutdown(application)
    return result


def run_stage(args: argparse.Namespace) -> None:
    if args.stage == "imports":
        result = stage_imports()
    else:
        users = args.users if args.stage == "users" else 0
        result = asyncio.run(stage_started(args.url, users, tuple(args.messages), args.trace))
    print(json.dumps(result), flush=True)


# --- the parent: fill the database once, then one process per stage ----------------------------


def child(stage: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--stage",
        stage,
        "--url",
        url,
        "--users",
        str(args.users),
        "--messages",
        *args.messages,
    ]
    if args.trace:
        command.append("--trace")
    env = dict(os.environ)
    completed = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, env=env, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"stage {stage} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


async def parent(args: argparse.Namespace) -> Any:
    from bench.common import Report, bench_database, header, shown
    from bench.populate import populate_async

    report = Report("memory")
    report.line(header("memory (VmRSS after gc.collect(), one process per stage)"))
    async with bench_database("memory") as url:
        population = await populate_async(url, args.trainers, seed=args.seed)
        report.line(population.line() + f" [{shown(url)}]")
        imports = await asyncio.to_thread(child, "imports", url, args)
        report.line(f"imports only: RSS {imports['VmRSS']:.1f} MB")
        started = await asyncio.to_thread(child, "startup", url, args)
        report.line(
            f"after start-up with {args.trainers:,} trainers stored: "
            f"RSS {started['VmRSS']:.1f} MB (peak {started['VmHWM']:.1f} MB)"
        )
        users = await asyncio.to_thread(child, "users", url, args)
    report.line(
        f"users stage: start-up RSS {users['VmRSS']:.1f} MB, then {args.users:,} users x "
        f"{len(args.messages)} messages ({' '.join(args.messages)}) in {users['seconds']:.0f} s"
    )
    first = users["checkpoints"][0]
    for point in users["checkpoints"]:
        report.line(
            f"  after {point['users']:>6,} users: RSS {point['VmRSS']:.1f} MB "
            f"({point['VmRSS'] - first['VmRSS']:+.1f} MB), peak {point['VmHWM']:.1f} MB, "
            f"application.user_data {point['user_data']:,} entries, "
            f"chat_data {point['chat_data']:,}"
        )
    if users.get("users_without_all_replies"):
        report.line(f"  note: {users['users_without_all_replies']} users did not get every reply")
    for line in users.get("growth_top", []):
        report.line(f"  grew: {line}")
    last = users["checkpoints"][-1]
    growth = last["VmRSS"] - first["VmRSS"]
    per_user_kb = growth * 1024 / max(last["users"], 1)
    # After the first quarter of the users the caches (SQLite's pages, compiled statements,
    # zone data) are warm: what still grows after it grows with the number of users.
    warm = next(p for p in users["checkpoints"] if p["users"] >= last["users"] / 4)
    late_users = max(last["users"] - warm["users"], 1)
    late_kb = (last["VmRSS"] - warm["VmRSS"]) * 1024 / late_users
    per_user_entries = (last["user_data"] - warm["user_data"]) / late_users
    bounded = late_kb < LATE_KB_PER_USER and per_user_entries < 0.5
    report.line(
        f"goal RSS < {GOAL_MB:.0f} MB after start-up with {args.trainers:,} trainers: "
        f"{started['VmRSS']:.1f} MB ({'met' if started['VmRSS'] < GOAL_MB else 'MISSED'})"
    )
    report.line(
        f"goal no growth with distinct users beyond a bounded cache: {growth:+.1f} MB over "
        f"{last['users']:,} users ({per_user_kb:.2f} KB per user), of which "
        f"{last['VmRSS'] - warm['VmRSS']:+.1f} MB after the first {warm['users']:,} "
        f"({late_kb:.2f} KB per further user; application.user_data keeps "
        f"{per_user_entries:.2f} entries per user) ({'met' if bounded else 'MISSED'})"
    )
    report.put("trainers", args.trainers)
    report.put("imports", imports)
    report.put("startup", started)
    report.put("users", users)
    report.put(
        "goals",
        {
            "startup_mb": started["VmRSS"],
            "startup_ok": started["VmRSS"] < GOAL_MB,
            "growth_mb": growth,
            "per_user_kb": per_user_kb,
            "late_kb_per_user": late_kb,
            "bounded": bounded,
        },
    )
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainers", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000, help="distinct users who write")
    parser.add_argument(
        "--messages", nargs="+", default=list(MESSAGES), help="what each user sends, in order"
    )
    parser.add_argument("--trace", action="store_true", help="name what grows (tracemalloc)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print one JSON line at the end")
    parser.add_argument("--stage", choices=("imports", "startup", "users"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.stage:
        run_stage(arguments)
    else:
        asyncio.run(parent(arguments)).dump(arguments.json)
