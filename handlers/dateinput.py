"""Reading a typed date in a conversation: parsed off the loop, checked, and explained."""

from __future__ import annotations

import asyncio
import html

from bot.context import RecertContext
from bot.dates import TypedDate, date_problem, parse_date


async def read_date(
    context: RecertContext, text: str, *, expiry: bool, earned: bool = False
) -> tuple[TypedDate | None, str]:
    """The date typed, or None and a translated reason to show with the question again.

    A date in the past (`expiry` False: the date certified, or with `earned` the date a
    credit was earned) may be "yesterday" or a day and month without the year."""
    _ = context.gettext
    today = context.today()
    parsed = await asyncio.to_thread(
        parse_date,
        text,
        context.tr.language,
        month_end=expiry,
        today=None if expiry else today,
    )
    if parsed is None:
        return None, _("I couldn't read “{text}” as a date.").format(text=html.escape(text[:40]))
    problem = date_problem(parsed.value, today, expiry=expiry)
    if problem is None:
        return parsed, ""
    reasons = {
        "future": (
            _("{date} is in the future: the date you earned the credit has to be in the past.")
            if earned
            else _("{date} is in the future: the date you certified has to be in the past.")
        ),
        "too_old": _("{date} is too long ago to be right."),
        "too_far": _("{date} is more than ten years away: no card lasts that long."),
    }
    return None, reasons[problem].format(date=context.tr.date(parsed.value, "long"))
