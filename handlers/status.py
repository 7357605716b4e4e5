"""/status: where the trainer stands. A summary line, then each credential: deadline and days
left, state, credits against the requirement with a bar, pace, CPR/AED and what an expired
card puts at risk, the cycle's cost, and the next reminder. A button sends it as a picture."""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import RecertContext
from bot.i18n import N_, Translator
from handlers import command
from handlers.card import CardLine, status_card
from handlers.feature import Command, Feature
from handlers.loader import read_bringing_trainer
from handlers.render import (
    after_grace_lines,
    credential_name,
    credit_lines,
    days_left,
    grace_lines,
    no_deadline_text,
    pace_lines,
    spent,
    uncertain_lines,
    units,
)
from scheduler.cycles import State
from scheduler.standing import Standing, Urgency, cpr_covers
from storage import credits
from storage.catalog import CatalogEntry
from storage.credits import Progress

PREFIX = "status:"
ICON = {
    Urgency.OK: "🟢",
    Urgency.BEHIND: "🟡",
    Urgency.SOON: "🟡",
    Urgency.URGENT: "🔴",
    Urgency.GRACE: "🟠",
    Urgency.LAPSED: "🔴",
}
# The picture's palette: urgent is red there too.
CARD_TONE = {
    Urgency.OK: "ok",
    Urgency.BEHIND: "soon",
    Urgency.SOON: "soon",
    Urgency.URGENT: "expired",
    Urgency.GRACE: "grace",
    Urgency.LAPSED: "expired",
}


@dataclass(frozen=True)
class Row:
    """One credential, worked out once (its standing) for the text and the picture."""

    progress: Progress
    entry: CatalogEntry | None
    standing: Standing

    @property
    def tone(self) -> Urgency:
        return self.standing.urgency


def rows_of(progresses: list[Progress], context: RecertContext) -> list[Row]:
    return [
        Row(
            progress,
            context.catalog.get(progress.credential.catalog_id),
            context.standing(progress.holding, progress.earned, progress.recorded),
        )
        for progress in progresses
    ]


def state_label(tr: Translator, row: Row) -> str:
    _ = tr.gettext
    urgency = row.standing.urgency
    if urgency is Urgency.BEHIND:
        return _("behind pace")
    if urgency is Urgency.URGENT and row.standing.state is State.DUE_SOON:
        return _("urgent")
    return {
        State.ON_TRACK: _("on track"),
        State.DUE_SOON: _("due soon"),
        State.IN_GRACE: _("in the grace period"),
        State.EXPIRED: _("expired"),
    }[row.standing.state]


def summary(tr: Translator, rows: list[Row]) -> str:
    _ = tr.gettext
    count = len(rows)
    head = tr.ngettext("{count} credential", "{count} credentials", count).format(count=count)
    worries = []
    for tones, label in (
        ((Urgency.LAPSED,), _("{count} expired")),
        ((Urgency.GRACE,), _("{count} in grace")),
        ((Urgency.URGENT,), _("{count} urgent")),
        ((Urgency.SOON,), _("{count} due soon")),
        ((Urgency.BEHIND,), _("{count} behind pace")),
    ):
        number = sum(1 for row in rows if row.tone in tones)
        if number:
            worries.append(label.format(count=number))
    return head + ": " + (", ".join(worries) if worries else _("all on track")) + "."


def _cpr_lines(context: RecertContext, row: Row, cards: list[Row], today: date) -> list[str]:
    _ = context.gettext
    tr = context.tr
    if row.entry is None or row.entry.is_cpr or not row.entry.cpr_aed_required:
        return []
    ends = [card.standing.deadline for card in cards]
    if not cards:
        return [
            _("⚠️ CPR/AED: no card on file, and {name} needs one to renew.").format(
                name=html.escape(row.entry.name)
            )
        ]
    if not cpr_covers(ends, today):
        latest = max(end for end in ends if end is not None)
        return [
            _("⚠️ CPR/AED: expired on {date}, which puts {name} at risk.").format(
                date=tr.date(latest, "long"), name=html.escape(row.entry.name)
            )
        ]
    best = max(end or date.max for end in ends if end is None or end >= today)
    deadline = row.standing.deadline
    if best != date.max and deadline is not None and best < deadline:
        return [
            _("CPR/AED: valid until {date}, before {name} is due: renew it first.").format(
                date=tr.date(best, "long"), name=html.escape(row.entry.name)
            )
        ]
    return [
        _("CPR/AED: valid until {date}.").format(
            date=tr.date(best, "long") if best != date.max else "—"
        )
    ]


def _deadline_lines(context: RecertContext, row: Row) -> list[str]:
    _ = context.gettext
    tr, standing, entry = context.tr, row.standing, row.entry
    lines = []
    if standing.waived is not None:
        start, end = standing.waived
        lines.append(_("Nothing owed for {period}.").format(period=f"{start.year}–{end.year}"))
    if standing.deadline is None:
        lines.append(no_deadline_text(tr, entry))
    else:
        lines.append(
            _("Deadline: {date} ({left})").format(
                date=tr.date(standing.deadline, "long"),
                left=days_left(tr, standing.deadline, standing.today),
            )
        )
    if standing.state in (State.IN_GRACE, State.EXPIRED):
        lines.extend(
            grace_lines(tr, standing, entry)
            if standing.state is State.IN_GRACE
            else after_grace_lines(tr, entry)
        )
    elif standing.deadline is not None:
        # Before the deadline: what a miss would leave (the path itself once it is near).
        lines.append(
            _("Grace period: a late renewal is accepted until {date}.").format(
                date=tr.date(standing.grace_end, "long")
            )
            if standing.grace_end is not None
            else _("No grace period: it lapses on the deadline.")
        )
        after = after_grace_lines(tr, entry)
        if after and standing.state is State.DUE_SOON:
            lines.append(_("After that: {text}").format(text=after[0]))
    return lines


def _credit_lines(context: RecertContext, row: Row) -> list[str]:
    _ = context.gettext
    tr, standing, entry = context.tr, row.standing, row.entry
    if standing.owed is None:
        return []
    if standing.owed == 0:
        return [_("Credits: nothing owed this cycle.")]
    lines = credit_lines(tr, standing, entry)
    if standing.complete:
        lines.append(_("Requirement complete ✅"))
    else:
        lines.extend(pace_lines(tr, standing, entry))
    return lines


def status_text(context: RecertContext, rows: list[Row], today: date) -> str:
    _ = context.gettext
    tr = context.tr
    if not rows:
        return _("You have no credentials on file yet. Add one with /add.")
    cards = [row for row in rows if row.entry is not None and row.entry.is_cpr]
    blocks = [f"<b>{summary(tr, rows)}</b>"]
    for row in rows:
        credential = row.progress.credential
        entry = row.entry
        name = credential_name(credential, context.catalog)
        lines = [f"{ICON[row.tone]} <b>{name}</b>: {state_label(tr, row)}"]
        lines.extend(_deadline_lines(context, row))
        lines.extend(_credit_lines(context, row))
        if row.progress.categories:
            uncategorized = _("no category")
            lines.append(
                _("Categories: {list}").format(
                    list=", ".join(
                        f"{key if key != '?' else uncategorized} {tr.number(value)}"
                        for key, value in sorted(row.progress.categories.items())
                    )
                )
            )
        if entry is not None and entry.is_cpr:
            needing = [
                other.entry.name
                for other in rows
                if other.entry is not None and other.entry.cpr_aed_required
            ]
            if needing:
                lines.append(
                    _("Needed for: {names}").format(names=html.escape(", ".join(needing)))
                )
        lines.extend(_cpr_lines(context, row, cards, today))
        lines.extend(uncertain_lines(tr, entry, row.standing))
        if row.progress.cost:
            lines.append(
                _("Spent this cycle: {amount}").format(amount=spent(context, row.progress.cost))
            )
        if credential.nudges_stopped:
            lines.append(_("Reminders are off (turn them on in /credentials)."))
        elif (reminder := next_reminder(context, row.standing, "long")) is not None:
            lines.append(
                _("Next reminder: {date} at {hour}").format(date=reminder[0], hour=reminder[1])
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def next_reminder(
    context: RecertContext, standing: Standing, style: str
) -> tuple[str, str] | None:
    """The standing's next reminder (the sweep's own) as the trainer's local date and hour."""
    if standing.next_reminder_at is None or context.trainer is None:
        return None
    zone = ZoneInfo(context.trainer.time_zone or context.settings.default_time_zone)
    local = standing.next_reminder_at.astimezone(zone)
    # Formatted from the local time of day: the same few hours recur (the format is cached).
    return context.tr.date(local.date(), style), context.tr.clock(local.time())


async def show_status(update: Update, context: RecertContext) -> None:
    """/status, in one statement (the trainer read with it)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    catalog = context.catalog
    progresses = await read_bringing_trainer(
        update,
        context,
        lambda connection: credits.status_with_trainer(connection, user.id, catalog),
    )
    today = context.today()
    rows = rows_of(progresses, context)
    markup = None
    if rows:
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        context.gettext("🖼 As a picture"), callback_data=PREFIX + "card"
                    )
                ]
            ]
        )
    await chat.send_message(status_text(context, rows, today), reply_markup=markup)


async def send_card(update: Update, context: RecertContext) -> None:
    """The same, drawn on the server as a PNG (in a thread: drawing is CPU work)."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    await query.answer()
    catalog = context.catalog
    progresses = await context.db.read(
        lambda connection: credits.status(connection, user.id, catalog)
    )
    today = context.today()
    rows = rows_of(progresses, context)
    if not rows:
        await chat.send_message(
            context.gettext("You have no credentials on file yet. Add one with /add.")
        )
        return
    tr = context.tr
    lines = []
    for row in rows:
        standing = row.standing
        owed, end = standing.owed, standing.deadline
        details = [
            no_deadline_text(tr, row.entry, short=True)
            if end is None
            else f"{tr.date(end, 'long')} · {days_left(tr, end, today)}"
        ]
        if standing.grace_end is not None and standing.state in (State.DUE_SOON, State.IN_GRACE):
            details.append(
                tr.gettext("late renewal until {date}").format(
                    date=tr.date(standing.grace_end, "long")
                )
            )
        reminder = next_reminder(context, standing, "medium")
        if reminder is not None and not row.progress.credential.nudges_stopped:
            details.append(
                tr.gettext("next reminder {date}, {hour}").format(
                    date=reminder[0], hour=reminder[1]
                )
            )
        lines.append(
            CardLine(
                name=html.unescape(credential_name(row.progress.credential, catalog)),
                detail=" · ".join(details),
                state=state_label(tr, row),
                tone=CARD_TONE[row.tone],
                progress=float(min(standing.counted / owed, Decimal(1))) if owed else None,
                progress_text=tr.gettext("{earned} of {required}").format(
                    earned=units(tr, standing.counted, row.entry),
                    required=units(tr, owed, row.entry),
                )
                if owed
                else (tr.gettext("nothing owed this cycle") if owed == 0 else ""),
            )
        )
    title = tr.gettext("Recert status")
    subtitle = html.unescape(summary(tr, rows)) + " · " + tr.date(today, "long")
    png = await asyncio.to_thread(status_card, title, subtitle, lines)
    await chat.send_photo(png, caption=html.escape(subtitle))


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    return [
        command("status", show_status),
        CallbackQueryHandler(send_card, pattern=f"^{PREFIX}card$"),
    ]


FEATURE = Feature(
    "status",
    handlers,
    commands=(Command("status", N_("Deadlines and credits at a glance"), reads_trainer=True),),
    prefixes=(PREFIX,),
)
