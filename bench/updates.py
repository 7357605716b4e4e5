"""Update handling: updates per second and latency through the real Application and the offline
Bot API, next to a bare python-telegram-bot echo measured in the same run.

The bot is built exactly as the tests build it: `build_application` with `OfflineBotAPI` as the
request, settings with `sweep_interval=0` and `rate_limit=False`, then `startup`. Each update is
a message as Telegram sends it (the JSON of `Person._send_message` in `bot/offline.py`, with the
`bot_command` entity), turned into an `Update` with `Update.de_json` and handed to
`application.process_update`, one after the other, as the Application's own update loop does
(it processes updates sequentially unless `concurrent_updates` is set). Latency is from
`de_json` to the reply having been sent; building the payload (the user's side) is not timed.
Throughput includes one `application.update_persistence()` at the end: what the persistence
job, every five seconds, writes for the users of these updates.

Workloads (users rotate through different trainers, stored by `bench/populate.py`):

- echo: a second, bare Application (`ApplicationBuilder().token(OFFLINE_TOKEN)
  .request(OfflineBotAPI()).build()`) with one MessageHandler replying with the same text; run
  first and again last, and the ratio uses their mean;
- /status: a trainer with three credentials (NASM-CPT, ACE-CPT, an AHA CPR/AED card) and twenty
  credits;
- /log one-liner: `/log 0.5 Corrective exercise webinar N` from a trainer with one credential
  that takes credits (NASM-CPT, plus an AHA card): the credit is logged and the progress shown,
  in one update;
- /log one-liner, asks which: the same text from a /status trainer, who holds two credentials
  that take credits: the bot asks which ones (and keeps the conversation's state).

By default the process is pinned to one CPU (the goals say "one core"; the database thread
shares it); `--no-pin` leaves it free. `--concurrency C` hands updates of C different users at
once (what `concurrent_updates=C` would do); the default 1 is the bot's configuration today.

Each line also gives the CPU time per update (`time.process_time`, all threads of the process,
the database thread included, over the timed updates and the final persistence), for the bot
and the echo in the same run: on a shared machine wall time is noise, CPU time much less so.

Goals: on SQLite /status >= 1,000 updates/s and /log >= 300/s on one core; on PostgreSQL
/status >= 600/s and /log >= 300/s; /status at most 4 echo updates of CPU, the /log one-liner
at most 6.

Run from the repository root: `python bench/updates.py [--n 2000] [--trainers 10000]
[--concurrency 1] [--no-pin] [--json]`. SQLite in a temporary directory by default;
DATABASE_URL=postgresql://... uses a throwaway database recert_bench_<pid>_updates there.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters

from bench.common import (
    Report,
    backend,
    bench_database,
    header,
    make_settings,
    percentiles_ms,
    pin_to_one_cpu,
    shown,
)
from bench.populate import FIRST_TRAINER_ID, Population, populate_async
from bot.app import build_application, shutdown, startup
from bot.i18n import I18n
from bot.offline import OFFLINE_TOKEN, OfflineBotAPI
from storage.db import Database

WARM_UP = 200
LOG_TRAINER_OFFSET = 50_000_000  # the /log trainers' ids start here (+ FIRST_TRAINER_ID)
GOALS = {
    "sqlite": {"/status": 1_000.0, "/log one-liner": 300.0},
    "postgresql": {"/status": 600.0, "/log one-liner": 300.0},
}
# CPU time per update (time.process_time: every thread of the process, the database thread
# included) against the echo's in the same run: wall time on a shared machine is noise.
CPU_GOALS = {"/status": 4.0, "/log one-liner": 6.0}


@dataclass
class Result:
    workload: str
    updates: int
    seconds: float
    per_s: float
    mean_ms: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float = 0.0
    persist_s: float = 0.0
    statements_per_update: float = 0.0
    errors: int = 0
    replies_ok: int = 0

    def line(self) -> str:
        extra = ""
        if self.statements_per_update:
            extra = (
                f"  {self.statements_per_update:.1f} statements/update, final persistence "
                f"{self.persist_s * 1000:.0f} ms"
            )
        check = f"  replies ok {self.replies_ok}/{self.updates}"
        if self.errors:
            check += f", {self.errors} ERRORS logged"
        return (
            f"{self.workload}: {self.per_s:,.0f} updates/s  CPU {self.cpu_ms:.3f} ms/update  "
            f"mean {self.mean_ms:.2f} ms  p50 {self.p50_ms:.2f}  p99 {self.p99_ms:.2f}"
            f"{extra}{check}"
        )


class ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = record.getMessage()[:300]


def user_of(user_id: int, language: str = "en") -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": f"T{user_id}",
        "language_code": language,
    }


def buttons_start(prefix: str) -> Callable[[dict[str, Any]], bool]:
    """The reply is the right screen (in any language): its first button's data."""

    def check(message: dict[str, Any]) -> bool:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return bool(rows) and str(rows[0][0].get("callback_data", "")).startswith(prefix)

    return check


def message_update(api: OfflineBotAPI, user: dict[str, Any], text: str) -> dict[str, Any]:
    """What Telegram sends when `user` types `text` in private chat (see Person.send)."""
    content: dict[str, Any] = {"from": user, "text": text}
    if text.startswith("/"):
        content["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
        ]
    message = api._append(api.chat(user["id"]), content)
    return {"update_id": next(api._update_ids), "message": message}


async def drive(
    workload: str,
    application: Application[Any, Any, Any, Any, Any, Any],
    api: OfflineBotAPI,
    users: list[dict[str, Any]],
    text_of: Callable[[int], str],
    n: int,
    concurrency: int,
    reply_ok: Callable[[dict[str, Any]], bool],
    errors: ErrorCount,
    db: Database | None = None,
) -> Result:
    """Hand `n` updates to the application; user i % len(users) sends text_of(i)."""
    warm = users[-min(WARM_UP, len(users) // 4) :]
    for i, user in enumerate(warm):  # statements compiled, caches filled
        payload = message_update(api, user, text_of(10_000_000 + i))
        await application.process_update(Update.de_json(payload, application.bot))
    await application.update_persistence()
    latencies: list[float] = []
    errors_before = errors.count
    statements_before = db.statements if db else 0
    counter = itertools.count()

    async def worker() -> None:
        while (i := next(counter)) < n:
            payload = message_update(api, users[i % len(users)], text_of(i))
            start = time.perf_counter()
            await application.process_update(Update.de_json(payload, application.bot))
            latencies.append(time.perf_counter() - start)

    cpu_start = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    handled = time.perf_counter()
    await application.update_persistence()
    end = time.perf_counter()
    cpu = time.process_time() - cpu_start
    statements = (db.statements - statements_before) if db else 0
    replies_ok = 0
    for user in users[: min(n, len(users))]:
        messages = api.chat(user["id"]).messages
        last = messages[-1] if messages else {}
        if last.get("from", {}).get("id") == api.bot_user["id"] and reply_ok(last):
            replies_ok += 1
    mean, p50, p99 = percentiles_ms(latencies)
    return Result(
        workload,
        n,
        end - start,
        n / (end - start),
        mean,
        p50,
        p99,
        cpu_ms=cpu * 1000 / n,
        persist_s=end - handled,
        statements_per_update=statements / n,
        errors=errors.count - errors_before,
        replies_ok=round(replies_ok * n / min(n, len(users))),
    )


async def echo_run(
    users: list[dict[str, Any]], n: int, concurrency: int, errors: ErrorCount
) -> Result:
    api = OfflineBotAPI()
    for user in users:
        api.register_user(user)

    async def echo(update: Update, _context: Any) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    application = ApplicationBuilder().token(OFFLINE_TOKEN).request(api).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    await application.initialize()
    await application.start()
    try:
        return await drive(
            "echo (bare PTB)",
            application,
            api,
            users,
            lambda i: "/status",
            n,
            concurrency,
            lambda message: message.get("text") == "/status",
            errors,
        )
    finally:
        await application.stop()
        await application.shutdown()


async def main(args: argparse.Namespace) -> Report:
    report = Report("updates")
    pinned = "not pinned (--no-pin)" if args.no_pin else pin_to_one_cpu()
    report.line(
        header(
            f"update handling, {args.n} updates per line, concurrency {args.concurrency}, {pinned}"
        )
    )
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    results: list[Result] = []
    async with bench_database("updates") as url:
        status_pop: Population = await populate_async(url, args.trainers, seed=args.seed)
        log_pop: Population = await populate_async(
            url,
            args.trainers // 2,
            credentials_per=2,
            seed=args.seed + 1,
            catalog_ids=("nasm-cpt", "aha-cpr"),
            id_offset=LOG_TRAINER_OFFSET,
            first_credential_id=status_pop.credentials + 1,
            migrate=False,
            now=status_pop.now,
        )
        report.line(status_pop.line() + f" [{shown(url)}]")
        report.line(log_pop.line() + "  (the /log trainers: NASM-CPT and a CPR card)")
        status_users = [user_of(uid) for uid in status_pop.trainer_ids]
        log_users = [user_of(uid) for uid in log_pop.trainer_ids]
        assert log_users[0]["id"] == LOG_TRAINER_OFFSET + FIRST_TRAINER_ID

        results.append(await echo_run(status_users, args.n, args.concurrency, errors))
        report.line(results[-1].line())

        api = OfflineBotAPI()
        for user in status_users + log_users:
            api.register_user(user)
        settings = make_settings(url, rate_limit=False, migrate_on_start=False)
        application = build_application(settings, request=api, i18n=I18n.load())
        await startup(application)
        db: Database = application.bot_data["db"]
        try:
            results.append(
                await drive(
                    "/status",
                    application,
                    api,
                    status_users,
                    lambda i: "/status",
                    args.n,
                    args.concurrency,
                    buttons_start("status:card"),
                    errors,
                    db,
                )
            )
            report.line(results[-1].line())
            results.append(
                await drive(
                    "/log one-liner",
                    application,
                    api,
                    log_users,
                    lambda i: f"/log 0.5 Corrective exercise webinar {i}",
                    args.n,
                    args.concurrency,
                    buttons_start("log:undo:"),
                    errors,
                    db,
                )
            )
            report.line(results[-1].line())
            results.append(
                await drive(
                    "/log one-liner, asks which",
                    application,
                    api,
                    status_users,
                    lambda i: f"/log 0.5 Corrective exercise webinar {i}",
                    args.n,
                    args.concurrency,
                    buttons_start("log:t:"),
                    errors,
                    db,
                )
            )
            report.line(results[-1].line())
        finally:
            await shutdown(application)

        results.append(await echo_run(status_users, args.n, args.concurrency, errors))
        results[-1].workload = "echo (bare PTB), again"
        report.line(results[-1].line())
    if errors.first:
        report.line(f"first error logged: {errors.first}")

    echo_rate = (results[0].per_s + results[-1].per_s) / 2
    echo_cpu = (results[0].cpu_ms + results[-1].cpu_ms) / 2
    by = {r.workload: r for r in results}
    goals = []
    for workload, goal in GOALS[backend()].items():
        rate = by[workload].per_s
        goals.append({"workload": workload, "per_s": rate, "goal": goal, "met": rate >= goal})
        report.line(
            f"goal {workload} >= {goal:,.0f}/s: {rate:,.0f}/s "
            f"({'met' if rate >= goal else 'MISSED'}); "
            f"{rate / echo_rate:.3f} of the echo's {echo_rate:,.0f}/s "
            f"(1/{echo_rate / rate:.1f})"
        )
    for workload, most in CPU_GOALS.items():
        ratio = by[workload].cpu_ms / echo_cpu
        goals.append(
            {
                "workload": f"{workload} CPU / echo CPU",
                "ratio": ratio,
                "goal": most,
                "met": ratio <= most,
            }
        )
        report.line(
            f"goal {workload} CPU <= {most:.0f} echo updates: {by[workload].cpu_ms:.3f} ms "
            f"against the echo's {echo_cpu:.3f} ms = {ratio:.2f} "
            f"({'met' if ratio <= most else 'MISSED'})"
        )
    report.put("n", args.n)
    report.put("concurrency", args.concurrency)
    report.put("pinned", pinned)
    report.put("results", [asdict(r) for r in results])
    report.put("echo_per_s", echo_rate)
    report.put("echo_cpu_ms", echo_cpu)
    report.put("goals", goals)
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000, help="updates per workload")
    parser.add_argument("--trainers", type=int, default=10_000, help="/status trainers stored")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    parser.add_argument("--json", action="store_true", help="also print one JSON line at the end")
    args = parser.parse_args(argv)
    if args.n < 1 or args.concurrency < 1:
        parser.error("--n and --concurrency must be at least 1")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    asyncio.run(main(arguments)).dump(arguments.json)
