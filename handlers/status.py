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
from bot.i18n import Translator
from handlers import command
from handlers.card import CardLine, status_card
from handlers.loader import with_trainer
from handlers.render import credential_name, days_left, progress_bar, units
from scheduler.credits import pace
from scheduler.cycles import Cycle, Standing, standing
from scheduler.plan import Subject, upcoming
from storage import credits
from storage.catalog import Catalog, CatalogEntry
from storage.credentials import rule_for
from storage.credits import Progress
from storage.nudges import prefs_of

PREFIX = "status:"
TONE = {
    Standing.ON_TRACK: "ok",
    Standing.DUE_SOON: "soon",
    Standing.IN_GRACE: "grace",
    Standing.EXPIRED: "expired",
}
ICON = {"ok": "🟢", "behind": "🟡", "soon": "🟡", "grace": "🟠", "expired": "🔴"}


@dataclass(frozen=True)
class Row:
    """One credential, worked out once for the text and the picture."""

    progress: Progress
    entry: CatalogEntry | None
    cycle: Cycle
    state: Standing
    behind: bool

    @property
    def tone(self) -> str:
        return "behind" if self.state is Standing.ON_TRACK and self.behind else TONE[self.state]


def rows_of(progresses: list[Progress], catalog: Catalog, today: date) -> list[Row]:
    rows = []
    for progress in progresses:
        credential = progress.credential
        cycle = Cycle(credential.cycle_start, credential.cycle_end, credential.units_required)
        state = standing(rule_for(credential, catalog), cycle, today)
        steady = pace(cycle, progress.counted, today)
        rows.append(
            Row(
                progress,
                catalog.get(credential.catalog_id),
                cycle,
                state,
                bool(steady and steady.behind),
            )
        )
    return rows


def state_label(tr: Translator, row: Row) -> str:
    _ = tr.gettext
    if row.tone == "behind":
        return _("behind pace")
    return {
        Standing.ON_TRACK: _("on track"),
        Standing.DUE_SOON: _("due soon"),
        Standing.IN_GRACE: _("in the grace period"),
        Standing.EXPIRED: _("expired"),
    }[row.state]


def summary(tr: Translator, rows: list[Row]) -> str:
    _ = tr.gettext
    count = len(rows)
    head = tr.ngettext("{count} credential", "{count} credentials", count).format(count=count)
    worries = []
    for tone, label in (
        ("expired", _("{count} expired")),
        ("grace", _("{count} in grace")),
        ("soon", _("{count} due soon")),
        ("behind", _("{count} behind pace")),
    ):
        number = sum(1 for row in rows if row.tone == tone)
        if number:
            worries.append(label.format(count=number))
    return head + ": " + (", ".join(worries) if worries else _("all on track")) + "."


def _cpr_lines(context: RecertContext, row: Row, cards: list[Row], today: date) -> list[str]:
    _ = context.gettext
    tr = context.tr
    if row.entry is None:
        return []
    if row.entry.is_cpr:
        return []
    if not row.entry.cpr_aed_required:
        return []
    valid = [card for card in cards if card.cycle.end is None or card.cycle.end >= today]
    if not cards:
        return [
            _("⚠️ CPR/AED: no card on file, and {name} needs one to renew.").format(
                name=html.escape(row.entry.name)
            )
        ]
    if not valid:
        latest = max(card.cycle.end for card in cards if card.cycle.end is not None)
        return [
            _("⚠️ CPR/AED: expired on {date}, which puts {name} at risk.").format(
                date=tr.date(latest), name=html.escape(row.entry.name)
            )
        ]
    best = max(valid, key=lambda card: card.cycle.end or date.max)
    if best.cycle.end is not None and row.cycle.end is not None and best.cycle.end < row.cycle.end:
        return [
            _("CPR/AED: valid until {date}, before {name} is due: renew it first.").format(
                date=tr.date(best.cycle.end), name=html.escape(row.entry.name)
            )
        ]
    return [
        _("CPR/AED: valid until {date}.").format(
            date=tr.date(best.cycle.end) if best.cycle.end else "—"
        )
    ]


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
        if row.cycle.end is None:
            lines.append(_("No expiry date on file."))
        else:
            lines.append(
                _("Deadline: {date} ({left})").format(
                    date=tr.date(row.cycle.end, "long"), left=days_left(tr, row.cycle.end, today)
                )
            )
        required = row.cycle.units_required
        if required:
            lines.append(
                _("Credits: {earned} of {required}").format(
                    earned=units(tr, row.progress.counted, entry),
                    required=units(tr, required, entry),
                )
            )
            lines.append(progress_bar(row.progress.counted, required))
            steady = pace(row.cycle, row.progress.counted, today)
            if steady is not None and steady.remaining == 0:
                lines.append(_("Requirement complete ✅"))
            elif steady is not None and steady.behind:
                lines.append(
                    _("Behind pace: {left} to go, about {per_month} a month.").format(
                        left=units(tr, steady.remaining, entry),
                        per_month=units(tr, steady.per_month, entry),
                    )
                )
            elif steady is not None:
                lines.append(
                    _("On pace: {left} to go, about {per_month} a month.").format(
                        left=units(tr, steady.remaining, entry),
                        per_month=units(tr, steady.per_month, entry),
                    )
                )
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
        if row.progress.cost:
            lines.append(
                _("Spent this cycle: {amount}").format(amount=tr.number(row.progress.cost))
            )
        if credential.nudges_stopped:
            lines.append(_("Reminders are off (turn them on in /credentials)."))
        elif context.trainer is not None:
            prefs = prefs_of(context.trainer, context.settings.default_time_zone)
            subject = Subject(
                row.cycle,
                entry.rule.grace_period_days if entry else None,
                row.progress.counted,
                credential.cycle_set_at,
                credential.snoozed_until,
            )
            moment = upcoming(subject, prefs, context.now())
            if moment is not None:
                local = moment.astimezone(ZoneInfo(prefs.zone))
                lines.append(
                    _("Next reminder: {date} at {hour}").format(
                        date=tr.date(local.date()), hour=tr.hour(local.hour)
                    )
                )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


async def show_status(update: Update, context: RecertContext) -> None:
    """/status, in one database round trip."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    catalog = context.catalog
    progresses = await with_trainer(
        update, context, lambda session, _trainer: credits.status(session, user.id, catalog)
    )
    today = context.today()
    rows = rows_of(progresses, catalog, today)
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
    progresses = await context.db.run(lambda session: credits.status(session, user.id, catalog))
    today = context.today()
    rows = rows_of(progresses, catalog, today)
    if not rows:
        await chat.send_message(
            context.gettext("You have no credentials on file yet. Add one with /add.")
        )
        return
    tr = context.tr
    lines = []
    for row in rows:
        credential = row.progress.credential
        required = row.cycle.units_required
        detail = (
            tr.gettext("no expiry")
            if row.cycle.end is None
            else f"{tr.date(row.cycle.end)} · {days_left(tr, row.cycle.end, today)}"
        )
        lines.append(
            CardLine(
                name=html.unescape(credential_name(credential, catalog)),
                detail=detail,
                state=state_label(tr, row),
                tone="soon" if row.tone == "behind" else row.tone,
                progress=float(min(row.progress.counted / required, Decimal(1)))
                if required
                else None,
                progress_text=tr.gettext("{earned} of {required}").format(
                    earned=units(tr, row.progress.counted, row.entry),
                    required=units(tr, required, row.entry),
                )
                if required
                else "",
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
