"""The sweep: PTB's JobQueue only ticks; the database says what is owed.

Each tick claims what is due (one unit of work), sends each nudge in the trainer's language,
and records how that one went right away, so a stop mid-sweep resends nothing. A blocked bot
marks the trainer inactive; RetryAfter, time-outs and network errors leave the nudge claimed
with a lease that ends when it should be tried again, so it is never lost. A time-out may
hide a message that did arrive (the Bot API cannot tell): it is tried again too, as
documented, but counted and logged (`bot_data["delivery"]`), and later than the
`scheduler.recent` window, within which the same text never reaches a trainer twice. Sending goes
through the Application's bot, and so through the rate limiter (`bot.ratelimit`); several
sends are in flight at once, so a network round trip per message does not bound the rate
below Telegram's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackContext

from bot.ratelimit import PACED
from scheduler.recent import SAME_TEXT_WINDOW, RecentTexts
from storage import nudges
from storage.db import Batched
from storage.nudges import Claim, Result, Sweep

log = logging.getLogger(__name__)
SWEEP_JOB = "nudge-sweep"
RETRY_AFTER_ERROR = timedelta(minutes=2)
# After a time-out the message may have arrived: try again only once the same text would be
# allowed again, so a duplicate, if any, is never minutes after the first.
RETRY_AFTER_TIME_OUT = SAME_TEXT_WINDOW + timedelta(minutes=5)
# Sends in flight at once: at ~50 ms a round trip, 8 keep well ahead of Telegram's 30/s.
IN_FLIGHT = 16
# A sweep this old may have outlived its leases: check each is still ours before sending.
RECHECK_AFTER = nudges.LEASE / 2
# Which copy of the bot claimed a nudge, for the logs and the leases.
WORKER = f"{socket.gethostname()}:{os.getpid()}"


async def run_sweep(
    application: Application[Any, Any, Any, Any, Any, Any], now: datetime, worker: str = WORKER
) -> Sweep:
    """One sweep at `now` (the job passes the clock; tests pass any moment)."""
    data = application.bot_data
    db, catalog = data["db"], data["catalog"]
    default_zone = data["settings"].default_time_zone
    sweep: Sweep = await db.run(
        lambda session: nudges.claim_due(session, catalog, now, worker, default_zone)
    )
    await send_claims(application, sweep.claims, now, worker)
    if sweep.claims or sweep.skipped:
        log.info(
            "sweep: %d sent or tried, %d skipped, %d planned",
            len(sweep.claims),
            sweep.skipped,
            sweep.planned,
        )
    return sweep


async def send_claims(
    application: Application[Any, Any, Any, Any, Any, Any],
    claims: list[Claim],
    now: datetime,
    worker: str,
) -> None:
    """Send what this worker claimed, several at once, each outcome recorded right after. A
    send's slot is free again once Telegram answered: the next send does not wait for the
    outcome's write, and outcomes that finish meanwhile are written together (`Batched`)."""
    data = application.bot_data
    inflight: set[asyncio.Task[None]] = data.setdefault("inflight", set())
    recorder: Batched[Result] = Batched(
        data["db"], lambda session, items: nudges.record(session, items, now)
    )
    slots = asyncio.Semaphore(IN_FLIGHT)
    started = time.monotonic()
    mine: list[asyncio.Task[None]] = []
    for claim in claims:
        # Each nudge's send and record are one task that a stop cannot cut in two: a cancelled
        # sweep starts no more, and shutdown waits for those in flight (see `drain`).
        await slots.acquire()
        recheck = time.monotonic() - started > RECHECK_AFTER.total_seconds()
        task = asyncio.ensure_future(
            _deliver(application, claim, now, worker, recheck, recorder, slots)
        )
        inflight.add(task)
        task.add_done_callback(inflight.discard)
        mine.append(task)
    if mine:
        await asyncio.shield(asyncio.gather(*mine))


async def _deliver(
    application: Application[Any, Any, Any, Any, Any, Any],
    claim: Claim,
    now: datetime,
    worker: str,
    recheck: bool,
    recorder: Batched[Result],
    slots: asyncio.Semaphore,
) -> None:
    """One nudge: sent, then its outcome recorded, in one task (see `send_claims`)."""
    try:
        result = await _send(application, claim, now, worker, recheck)
    finally:
        slots.release()  # the next send goes while this outcome is written
    if result is not None:
        await recorder.add(result)  # outcomes that finish together are written together


async def _send(
    application: Application[Any, Any, Any, Any, Any, Any],
    claim: Claim,
    now: datetime,
    worker: str,
    recheck: bool,
) -> Result | None:
    """Send one nudge; how it went (None: another copy of the bot has it now)."""
    from handlers.nudges import nudge_buttons, nudge_text  # rendering is the handlers'

    data = application.bot_data
    if recheck and not await data["db"].run(
        lambda session: nudges.keep_lease(session, claim.nudge_id, worker, now)
    ):
        return None  # another copy took it over after our lease ran out
    tr = data["i18n"].translator(claim.language)
    local_now = now.astimezone(ZoneInfo(claim.zone))
    text = nudge_text(tr, claim, data["catalog"], local_now)
    takes_credits = bool(claim.standing.owed) and claim.standing.credits_open
    markup = nudge_buttons(tr, claim.nudge_id, claim.milestone, takes_credits)
    recent: RecentTexts = data.setdefault("recent_texts", RecentTexts())
    counts: Counter[str] = data.setdefault("delivery", Counter())
    result: Result
    if recent.sent_lately(claim.trainer_id, text, now):
        # Word for word what they were just sent (a catch-up's repeat): it is not sent again.
        log.info("nudge %s: the same text reached the trainer just now, not sent", claim.nudge_id)
        counts["same_text_held_back"] += 1
        return Result(claim.nudge_id, "sent")
    try:
        message = await application.bot.send_message(
            claim.trainer_id,
            text,
            reply_markup=markup,
            # A trainer may have several nudges at once: a second apart, as Telegram asks.
            rate_limit_args=PACED if application.bot.rate_limiter else None,
        )
    except Forbidden:
        # Blocked: not messaged again until they come back with /start.
        result = Result(claim.nudge_id, "blocked", trainer_id=claim.trainer_id)
    except RetryAfter as error:
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        result = Result(claim.nudge_id, "retry", retry_at=now + timedelta(seconds=seconds))
    except BadRequest as error:
        log.warning("nudge %s refused by Telegram: %s", claim.nudge_id, error.message)
        result = Result(claim.nudge_id, "failed")
    except TimedOut:
        counts["timed_out"] += 1
        log.warning(
            "nudge %s timed out, so it may have arrived; sent again in %d minutes (%d so far)",
            claim.nudge_id,
            RETRY_AFTER_TIME_OUT.total_seconds() // 60,
            counts["timed_out"],
        )
        result = Result(claim.nudge_id, "retry", retry_at=now + RETRY_AFTER_TIME_OUT)
    except NetworkError:
        result = Result(claim.nudge_id, "retry", retry_at=now + RETRY_AFTER_ERROR)
    else:
        recent.note(claim.trainer_id, text, now)
        counts["sent"] += 1
        result = Result(claim.nudge_id, "sent", message_id=message.message_id)
    return result


async def drain(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """At shutdown: let the nudge being sent finish and be recorded."""
    inflight = application.bot_data.get("inflight") or set()
    if inflight:
        await asyncio.gather(*inflight, return_exceptions=True)


async def sweep_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    await run_sweep(context.application, datetime.now(UTC))


def schedule(application: Application[Any, Any, Any, Any, Any, Any], interval: float) -> None:
    """One repeating job under a stable name: replaced, never stacked."""
    if interval <= 0 or application.job_queue is None:
        return
    for job in application.job_queue.get_jobs_by_name(SWEEP_JOB):
        job.schedule_removal()
    application.job_queue.run_repeating(
        sweep_job, interval=interval, first=interval, name=SWEEP_JOB
    )
