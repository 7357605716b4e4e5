"""The nudge sweep at 1,000, 10,000 and 100,000 trainers, the same number of nudges due in each.

Each size gets its own database (`bench/populate.py`: three credentials and twenty credits per
trainer, exactly `--due` credentials owed their reminder now, all others planned for later),
and the bot is started on it exactly as the tests start it (`build_application` with the
offline Bot API, rate limiter off, no sweep job). Then, `--repeats` times, from the same state
(the claimed nudges are deleted and the due credentials made due again between runs, untimed):

- "claim": the sweep's database unit of work alone, `storage.nudges.claim_due` in one
  `db.run`: finding what is due, planning it, inserting the claims;
- "sweep": `scheduler.jobs.run_sweep`, what the job runs every minute: the claim, then each
  nudge rendered, sent to the offline Bot API and its outcome recorded;
- "idle": a claim when nothing is due, what every other minute costs.

Figures: seconds (median of the repeats, and the best) and database statements per run
(`Database.statements`), plus statements per claimed nudge. Printed, never asserted.

Goals: a sweep at 100,000 trainers under 1 s, and at most twice the sweep at 1,000.

Run from the repository root: `python bench/sweep.py [--sizes 1000,10000,100000] [--due 500]
[--repeats 3] [--json]`. SQLite files in a temporary directory by default; with
DATABASE_URL=postgresql://... a database recert_bench_<pid>_<tag> is created on that server
for each size and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, update
from sqlmodel import Session, col

from bench.common import Report, bench_database, header, make_settings, quiet_logs, shown
from bench.populate import Population, populate_async
from bot.app import build_application, shutdown, startup
from bot.i18n import I18n
from bot.offline import OfflineBotAPI
from scheduler.jobs import run_sweep
from storage import nudges
from storage.db import Database
from storage.models import Credential, Nudge

SIZES = (1_000, 10_000, 100_000)
DUE = 500
GOAL_SECONDS = 1.0
GOAL_RATIO = 2.0


@dataclass
class Figure:
    trainers: int
    what: str  # claim, sweep, idle
    claimed: int
    median_s: float
    best_s: float
    statements: int

    def line(self) -> str:
        per = f"  ({self.statements / self.claimed:.2f} per nudge)" if self.claimed else ""
        return (
            f"{self.what} at {self.trainers:,} trainers: {self.median_s:.3f} s median, "
            f"{self.best_s:.3f} s best, {self.claimed} claimed, "
            f"{self.statements:,} statements{per}"
        )


def trainer_of(population: Population, credential_id: int) -> int:
    index = (credential_id - population.first_credential_id) // population.credentials_per
    return population.trainer_ids[index]


def make_due_again(population: Population, now: datetime) -> Any:
    """The state before a sweep: no nudges, the due credentials due."""
    ids = population.due_credential_ids

    def work(session: Session) -> None:
        session.execute(delete(Nudge))
        for i in range(0, len(ids), 500):
            session.execute(
                update(Credential)
                .where(col(Credential.id).in_(ids[i : i + 500]))
                .values(next_nudge_at=now - timedelta(minutes=5))
            )

    return work


async def timed(db: Database, action: Any) -> tuple[float, int, Any]:
    before = db.statements
    start = time.perf_counter()
    result = await action()
    return time.perf_counter() - start, db.statements - before, result


async def measure_size(
    trainers: int, due: int, repeats: int, seed: int, report: Report
) -> list[Figure]:
    async with bench_database(f"sweep{trainers}") as url:
        population = await populate_async(url, trainers, due=due, seed=seed)
        report.line(population.line() + f" [{shown(url)}]")
        api = OfflineBotAPI()
        for credential_id in population.due_credential_ids:
            user_id = trainer_of(population, credential_id)
            if user_id not in api.users:
                api.register_user({"id": user_id, "is_bot": False, "first_name": "T"})
        settings = make_settings(url, rate_limit=False, migrate_on_start=False)
        application = build_application(settings, request=api, i18n=I18n.load())
        await startup(application)
        db: Database = application.bot_data["db"]
        catalog = application.bot_data["catalog"]
        runs: dict[str, list[tuple[float, int, int]]] = {"claim": [], "sweep": [], "idle": []}
        try:
            for _ in range(repeats):
                now = datetime.now(UTC)
                await db.run(make_due_again(population, now))
                seconds, statements, sweep = await timed(
                    db,
                    lambda now=now: db.run(
                        lambda session: nudges.claim_due(session, catalog, now, "bench", "UTC")
                    ),
                )
                runs["claim"].append((seconds, statements, len(sweep.claims)))

                now = datetime.now(UTC)
                await db.run(make_due_again(population, now))
                api.calls.clear()
                seconds, statements, sweep = await timed(
                    db, lambda now=now: run_sweep(application, now, "bench")
                )
                runs["sweep"].append((seconds, statements, len(sweep.claims)))
                sent = sum(1 for call in api.calls if call.method == "sendMessage" and call.ok)
                if sent != len(sweep.claims):
                    report.line(f"  note: {len(sweep.claims)} claimed but {sent} sent")

                later = datetime.now(UTC)
                seconds, statements, sweep = await timed(
                    db,
                    lambda later=later: db.run(
                        lambda session: nudges.claim_due(session, catalog, later, "bench", "UTC")
                    ),
                )
                runs["idle"].append((seconds, statements, len(sweep.claims)))
        finally:
            await shutdown(application)
    figures = []
    for what, samples in runs.items():
        times = [s for s, _, _ in samples]
        figure = Figure(
            trainers,
            what,
            samples[-1][2],
            statistics.median(times),
            min(times),
            samples[-1][1],
        )
        report.line(figure.line())
        figures.append(figure)
    return figures


async def main(args: argparse.Namespace) -> Report:
    report = Report("sweep")
    report.line(header(f"nudge sweep, {args.due} due, {args.repeats} repeats"))
    figures: list[Figure] = []
    with quiet_logs():
        for size in args.sizes:
            figures += await measure_size(size, args.due, args.repeats, args.seed, report)
    report.put("due", args.due)
    report.put("figures", [asdict(f) for f in figures])
    by = {(f.trainers, f.what): f for f in figures}
    largest, smallest = max(args.sizes), min(args.sizes)
    goals = []
    for what in ("sweep", "claim"):
        big, small = by[(largest, what)], by[(smallest, what)]
        ratio = big.median_s / small.median_s
        goals.append(
            {
                "what": what,
                "seconds_at_largest": big.median_s,
                "under_1s": big.median_s < GOAL_SECONDS,
                "ratio": ratio,
                "ratio_ok": ratio <= GOAL_RATIO,
            }
        )
        report.line(
            f"goal {what} at {largest:,} < {GOAL_SECONDS:.0f} s: {big.median_s:.3f} s "
            f"({'met' if big.median_s < GOAL_SECONDS else 'MISSED'}); "
            f"<= {GOAL_RATIO:.0f}x the {smallest:,} one: {ratio:.2f}x "
            f"({'met' if ratio <= GOAL_RATIO else 'MISSED'})"
        )
    report.put("goals", goals)
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=list(SIZES),
        help="trainer counts, comma-separated (default 1000,10000,100000)",
    )
    parser.add_argument("--due", type=int, default=DUE, help="credentials due in each run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print one JSON line at the end")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    asyncio.run(main(arguments)).dump(arguments.json)
