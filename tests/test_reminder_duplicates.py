"""A reminder is never sent twice within minutes (issue 18): one that arrived but whose answer
timed out is counted and tried again only after the window, and a catch-up after downtime is
not followed on the next sweep by a repeat that says the same."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlmodel import select

from bot.offline import ArrivedButTimedOut, Person
from scheduler.jobs import run_sweep
from scheduler.recent import SAME_TEXT_WINDOW, RecentTexts
from storage.models import Nudge
from tests.conftest import Bot
from tests.test_nudges import MADRID, many_due


def _at_nine(day: object) -> datetime:
    return datetime.combine(day, time(9), MADRID).astimezone(UTC)  # type: ignore[arg-type]


async def test_a_reminder_that_arrived_but_timed_out_is_counted_not_resent_at_once(
    bot: Bot,
) -> None:
    end = datetime.now(MADRID).date() + timedelta(days=30)
    await bot.db.run(many_due(1, end, 7100))
    lea = Person(bot.api, 7100, "T0")
    bot.api.faults["sendMessage"] = [ArrivedButTimedOut()]
    first = _at_nine(end - timedelta(days=7))
    await run_sweep(bot.application, first)
    assert len(lea.inbox) == 1  # it did arrive; the bot could not know
    assert bot.application.bot_data["delivery"]["timed_out"] == 1
    for minutes in (1, 2, 3, 5, 10, 14):  # the next sweeps: not again within minutes
        await run_sweep(bot.application, first + timedelta(minutes=minutes))
    assert len(lea.inbox) == 1
    # As documented, a reminder that may not have arrived is owed, never lost: later.
    await run_sweep(bot.application, first + timedelta(minutes=16))
    assert len(lea.inbox) == 2
    statuses = await bot.db.run(lambda s: [n.status for n in s.exec(select(Nudge))])
    assert "claimed" not in statuses


async def test_a_catch_up_is_not_followed_by_the_same_text(bot: Bot) -> None:
    end = datetime.now(MADRID).date() + timedelta(days=40)
    await bot.db.run(many_due(1, end, 7200))  # set up long ago; no sweep has run since
    lea = Person(bot.api, 7200, "T0")
    back = _at_nine(end - timedelta(days=2))  # the bot comes back two days before the end
    for minutes in range(0, 5):
        await run_sweep(bot.application, back + timedelta(minutes=minutes))
    texts = [m["text"] for m in lea.inbox]
    assert len(texts) == 1 and "in 2 days" in texts[0].split("\n")[0], texts
    # The next day: the next reminder, as usual (an unanswered final week goes on daily).
    await run_sweep(bot.application, back + timedelta(days=1))
    assert len(lea.inbox) == 2 and lea.inbox[1]["text"] != texts[0]


def test_the_same_text_is_held_back_only_within_the_window() -> None:
    recent = RecentTexts(keep=3)
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    recent.note(1, "due in 2 days", now)
    assert recent.sent_lately(1, "due in 2 days", now + timedelta(minutes=1))
    assert not recent.sent_lately(1, "due in 3 days", now)  # another text
    assert not recent.sent_lately(2, "due in 2 days", now)  # another trainer
    assert not recent.sent_lately(1, "due in 2 days", now + SAME_TEXT_WINDOW)
    for chat in range(10, 20):  # bounded: the oldest are forgotten
        recent.note(chat, "x", now)
    assert len(recent._sent) == 3
