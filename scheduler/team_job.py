"""The team job: one repeating JobQueue job under a stable name; the database says what is
owed. Each tick claims the teams whose weekly digest or daily alert check is due (a
conditional update moves their times on: one copy of the bot wins each team), works out the
alerts (each claimed as a unique row), and sends at most one message per team: the digest on
its day, with that day's alerts marked in it, or else the day's alerts together. Then the
escalations: sharing members whose day-of reminder went unanswered for a day, one private
message to each manager still in the group, claimed once per cycle (and given back for the
next tick when a time-out or flood wait kept it from everyone). The daily check also
refreshes which administrators are managers.

So a group gets at most one scheduled message a day, far under Telegram's 20 a minute per
group; announcements and those go through PTB's rate limiter, which keeps each group under
that limit, and a digest longer than one message is split at a line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackContext

from bot.ratelimit import PACED
from scheduler.team import Mention, alert_owed, digest, paginate
from storage import teams, trainers
from storage.models import Team
from storage.teams import Escalation, Run

log = logging.getLogger(__name__)
TEAM_JOB = "team-tick"
RENEWALS_SINCE = timedelta(days=7)
RETRY_AFTER_ERROR = timedelta(minutes=2)
MAX_PER_TICK = 200  # teams (and escalations) per tick; the rest wait for the next one
AnyApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Tick:
    """What one tick did (for tests and the log)."""

    digests: int = 0
    alerts: int = 0
    escalations: int = 0
    messages: list[tuple[int, str]] = field(default_factory=list)  # (chat id, text)


async def run_team_tick(application: AnyApp, now: datetime) -> Tick:
    """One tick at `now` (the job passes the clock; tests pass any moment)."""
    db = application.bot_data["db"]
    inflight: set[asyncio.Task[bool]] = application.bot_data.setdefault("team_inflight", set())

    async def finish(work: Coroutine[Any, Any, bool]) -> bool:
        # Claim and send as one step a stop cannot cut in two: a cancelled tick stops before
        # the next claim, and shutdown waits for the one in hand (see `drain_teams`).
        task: asyncio.Task[bool] = asyncio.ensure_future(work)
        inflight.add(task)
        task.add_done_callback(inflight.discard)
        return await asyncio.shield(task)

    async def next_team() -> bool:
        claimed: list[Run] = await db.run(
            lambda session: teams.claim_due(session, now, limit=20, want=1)
        )
        if claimed:
            await _team_run(application, claimed[0], now, tick)
        return bool(claimed)

    async def next_escalation() -> bool:
        found: list[Escalation] = await db.run(
            lambda session: teams.claim_escalations(session, now, limit=1, skip=given_back)
        )
        if found and not await _escalate(application, found[0], tick):
            # Given back after a time-out: the next tick tries again, not this one.
            given_back.add(found[0].key)
        return bool(found)

    tick = Tick()
    given_back: set[tuple[int, int, date]] = set()
    runs = escalations = 0
    # One claim at a time, so a stopped tick leaves the rest owed to the next.
    while runs < MAX_PER_TICK and await finish(next_team()):
        runs += 1
    while escalations < MAX_PER_TICK and await finish(next_escalation()):
        escalations += 1
    if runs or escalations:
        log.info(
            "team tick: %d digests, %d alerts, %d escalations",
            tick.digests,
            tick.alerts,
            tick.escalations,
        )
    return tick


async def _team_run(application: AnyApp, run: Run, now: datetime, tick: Tick) -> None:
    from handlers.team_common import (  # rendering: handlers'
        Delivery,
        alert_text,
        digest_blocks,
        send_to_team,
    )

    data = application.bot_data
    db, catalog = data["db"], data["catalog"]
    team = run.team
    team_id = team.id
    assert team_id is not None  # a stored team
    today = now.astimezone(ZoneInfo(team.time_zone)).date()
    if run.check:
        await _refresh_admins(application, team)

    def gather(session):  # type: ignore[no-untyped-def]
        members = teams.roster(session, team, catalog, now)
        alerts: list[tuple[str, Mention]] = []
        if run.check:
            recorded = teams.recorded_alerts(session, team_id)
            for member in members:
                for credential in member.credentials:
                    if credential.end is None:
                        continue
                    said = recorded.get((credential.credential_id, credential.end), set())
                    kind = alert_owed(credential, member.joined_on, today, said)
                    if kind and teams.claim_alert(
                        session, team_id, credential.credential_id, credential.end, kind
                    ):
                        alerts.append((kind, Mention(member, credential)))
        renewed = (
            teams.renewals(session, team, catalog, now - RENEWALS_SINCE) if run.digest else []
        )
        return members, alerts, renewed

    members, alerts, renewed = await db.run(gather)
    tr = data["i18n"].translator(team.language)
    if run.digest:
        summary = digest(members, today, renewed)
        new = {mention.credential.credential_id for _kind, mention in alerts}
        pages = paginate(digest_blocks(tr, team, summary, today, new))
        tick.digests += 1
    elif alerts:
        pages = paginate([alert_text(tr, team, alerts, today)])
    else:
        return
    tick.alerts += len(alerts)
    for number, page in enumerate(pages):
        try:
            # Scheduled: this job owes it again on a failure, the limiter does not retry it.
            sent = await send_to_team(application, team, page, rate_limit_args=PACED)
        except (RetryAfter, NetworkError) as error:
            log.warning("team %s: message not sent, retried later: %s", team.id, error)
            if number == 0:  # nothing reached the group: owe it all again (never twice)
                wait = RETRY_AFTER_ERROR
                if isinstance(error, RetryAfter):
                    seconds = error.retry_after
                    wait = (
                        seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
                    )
                keys = [(m.credential.credential_id, m.credential.end, k) for k, m in alerts]
                retry = partial(
                    teams.retry_run,
                    team_id=team_id,
                    at=now + wait,
                    digest=run.digest,
                    check=run.check,
                    alerts=keys,
                    last_digest_on=run.last_digest_on,
                )
                await db.run(retry)
                tick.digests -= int(run.digest)
                tick.alerts -= len(alerts)
            return
        except TelegramError as error:
            log.warning("team %s: message refused: %s", team.id, error)
            return
        if sent is not Delivery.SENT:
            return  # the team closed, or a page refused (logged): the rest would not help
        tick.messages.append((team.chat_id, page))


async def _refresh_admins(application: AnyApp, team: Team) -> None:
    """Once a day: the group's administrators are its managers (a bot that is no
    administrator hears of no promotion), and those demoted are not."""
    try:
        listed = await application.bot.get_chat_administrators(team.chat_id)
    except TelegramError as error:
        log.warning("team %s: administrators not refreshed: %s", team.id, error)
        return
    admins = {admin.user.id for admin in listed if not admin.user.is_bot}
    team_id = team.id or 0
    await application.bot_data["db"].run(
        lambda session: teams.sync_admins(session, team_id, admins)
    )


def _temporary(error: TelegramError) -> bool:
    """A time-out, a lost connection or a flood wait: worth trying again later. (PTB's
    BadRequest is a NetworkError too, but a refusal is no reason to try again.)"""
    return isinstance(error, RetryAfter) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    )


async def _escalate(application: AnyApp, escalation: Escalation, tick: Tick) -> bool:
    """Tell each manager still in the group: its administrators now, and those granted the
    role who are still members (anyone who left hears nothing about the team). False when
    nobody was reached because of a temporary error: the claim is then given back."""
    from handlers.team_common import ADMINS, escalation_text, member_status, present

    data = application.bot_data
    db, catalog, i18n = data["db"], data["catalog"], data["i18n"]
    team, credential = escalation.team, escalation.credential
    temporary = False
    admins: set[int] | None
    try:
        listed = await application.bot.get_chat_administrators(team.chat_id)
        admins = {admin.user.id for admin in listed if not admin.user.is_bot}
    except TelegramError as error:
        log.warning("team %s: administrators unknown: %s", team.id, error)
        temporary = _temporary(error)
        admins = None  # each recorded manager is asked about one by one
    candidates = (admins or set()) | set(escalation.recorded)
    candidates.discard(escalation.trainer_id)  # a manager's own lapse is theirs to handle
    entry = catalog.get(credential.catalog_id)
    name = entry.name if entry else credential.custom_name or "?"
    assert credential.cycle_end is not None
    reached = 0
    for manager_id in sorted(candidates):
        if admins is None or manager_id not in admins:
            try:
                member = await member_status(application.bot, db, team, manager_id)
            except TelegramError as error:
                log.warning("team %s: a manager's membership unknown: %s", team.id, error)
                temporary = temporary or _temporary(error)
                continue
            still = (
                present(member)
                if manager_id in escalation.granted
                else member is not None and member.status in ADMINS
            )
            if not still:
                continue  # left the group, or an administrator no more
        profile = await db.run(lambda session, uid=manager_id: trainers.get(session, uid))
        tr = i18n.translator(profile.language if profile else team.language)
        text = escalation_text(tr, team.title, escalation.trainer_name, name, credential.cycle_end)
        try:
            await application.bot.send_message(
                manager_id,
                text,
                # Several escalations may reach one manager at once: paced per chat.
                rate_limit_args=PACED if application.bot.rate_limiter else None,
            )
        except Forbidden:
            continue  # never talked to the bot, or blocked it: nothing we can do
        except TelegramError as error:
            log.warning("escalation to a manager of team %s failed: %s", team.id, error)
            temporary = temporary or _temporary(error)
            continue
        reached += 1
        tick.escalations += 1
        tick.messages.append((manager_id, text))
    if reached == 0 and temporary:
        assert team.id is not None and credential.id is not None
        keys = (team.id, credential.id, escalation.cycle_end)
        await db.run(lambda session: teams.release_escalation(session, *keys))
        return False
    return True


async def drain_teams(application: AnyApp) -> None:
    """At shutdown: let the team message being sent finish."""
    inflight = application.bot_data.get("team_inflight") or set()
    if inflight:
        await asyncio.gather(*inflight, return_exceptions=True)


async def team_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    await run_team_tick(context.application, datetime.now(UTC))


def schedule_teams(application: AnyApp, interval: float) -> None:
    """One repeating job under a stable name: replaced, never stacked."""
    if interval <= 0 or application.job_queue is None:
        return
    for job in application.job_queue.get_jobs_by_name(TEAM_JOB):
        job.schedule_removal()
    application.job_queue.run_repeating(team_job, interval=interval, first=interval, name=TEAM_JOB)
