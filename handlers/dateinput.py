"""Reading a typed date in a conversation: parsed off the loop, checked, and explained."""

from __future__ import annotations

import asyncio
import html

from bot.context import RecertContext
from bot.dates import TypedDate, date_problem, parse_date


async def read_date(
    context: RecertContext, text: str, *, expiry: bool
) -> tuple[TypedDate | None, str]:
    """The date typed, or None and a translated reason to show with the question again."""
    _ = context.gettext
    parsed = await asyncio.to_thread(parse_date, text, context.tr.language, month_end=expiry)
    if parsed is None:
        return None, _("I couldn't read “{text}” as a date.").format(text=html.escape(text[:40]))
    problem = date_problem(parsed.value, context.today(), expiry=expiry)
    if problem is None:
        return parsed, ""
    reasons = {
        "future": _("{date} is in the future: the date you certified has to be in the past."),
        "too_old": _("{date} is too long ago to be right."),
        "too_far": _("{date} is more than ten years away: no card lasts that long."),
    }
    return None, reasons[problem].format(date=context.tr.date(parsed.value, "long"))
