"""Nudges as the trainer sees them, and their buttons: log credits, I renewed, snooze a day or a
week, stop these reminders. Each answer edits the nudge, so the chat shows what was chosen."""

from __future__ import annotations

import html
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import RecertContext
from bot.i18n import Translator
from handlers import parse_id, show
from handlers.feature import Feature
from handlers.render import (
    after_grace_lines,
    credential_name,
    credit_lines,
    days_left,
    grace_lines,
    in_grace_lines,
    pace_lines,
    renewal_lines,
)
from scheduler.cycles import Cycle, RuleError, State, next_cycle
from scheduler.plan import FINAL_WEEK, Kind, Milestone, snooze_until
from storage import credentials, nudges
from storage.catalog import Catalog
from storage.credentials import rule_for
from storage.models import Credential, Nudge
from storage.nudges import Claim, prefs_of

PREFIX = "nudge:"
# One pattern per button of a nudge (and of its confirmations).
SNOOZE_BUTTON = rf"^{PREFIX}snz:\d+:(1|7)$"
RENEW_BUTTON = rf"^{PREFIX}renew:\d+$"
STOP_BUTTON = rf"^{PREFIX}stop:\d+$"
STOP_YES_BUTTON = rf"^{PREFIX}stopy:\d+$"
BACK_BUTTON = rf"^{PREFIX}back:\d+$"
RESUME_BUTTON = rf"^{PREFIX}resume:\d+$"
CHECKLIST_FROM = 14  # days before the end: the ready-to-renew checklist is shown


def nudge_text(tr: Translator, claim: Claim, catalog: Catalog, today: datetime) -> str:
    """The message for one claimed milestone, in the trainer's language: every figure in it is
    the credential's standing."""
    _ = tr.gettext
    standing, entry, kind = claim.standing, claim.entry, claim.milestone.kind
    name = credential_name(claim.credential, catalog)
    end = standing.deadline
    if kind is Kind.AFTER:
        return "\n".join(
            [_("❌ {name} has lapsed.").format(name=name), *after_grace_lines(tr, entry)]
        )
    lines = [_headline(tr, claim, name)]
    if kind is Kind.GRACE:
        lines.extend(in_grace_lines(tr, entry))
        lines.extend(grace_lines(tr, standing, entry))
    elif standing.owed:
        lines.extend(credit_lines(tr, standing, entry))
        if kind is Kind.PACE:
            lines.extend(pace_lines(tr, standing, entry))
    if claim.at_risk:
        lines.append(
            _("Without a current CPR/AED card these cannot be renewed: {names}.").format(
                names=html.escape(", ".join(claim.at_risk))
            )
        )
    days = standing.days_left
    if (
        end is not None
        and days is not None
        and 0 <= days <= CHECKLIST_FROM
        and kind is not Kind.PACE
    ):
        lines.extend(_checklist(tr, claim))
    return "\n".join(lines)


def _headline(tr: Translator, claim: Claim, name: str) -> str:
    _ = tr.gettext
    standing, kind = claim.standing, claim.milestone.kind
    end = standing.deadline
    assert end is not None
    if kind is Kind.PACE:
        return _("📈 {name}: you are behind a steady pace.").format(name=name)
    if kind is Kind.GRACE or standing.state in (State.IN_GRACE, State.EXPIRED):
        return _("🚨 {name} expired on {date}.").format(name=name, date=tr.date(end, "long"))
    if standing.days_left == 0:
        return _("🚨 {name} is due today, {date}.").format(name=name, date=tr.date(end, "long"))
    icon = "⚠️" if (standing.days_left or 0) <= FINAL_WEEK else "⏰"
    return _("{icon} {name} is due {left}, on {date}.").format(
        icon=icon,
        name=name,
        left=days_left(tr, end, standing.today),
        date=tr.date(end, "long"),
    )


def _checklist(tr: Translator, claim: Claim) -> list[str]:
    _ = tr.gettext
    entry = claim.entry
    lines = ["", _("<b>Ready to renew?</b>")]
    lines.append(("✅ " if not claim.standing.remaining else "⬜ ") + _("credits complete"))
    if claim.cpr_current is not None:
        lines.append(("✅ " if claim.cpr_current else "⬜ ") + _("CPR/AED card current"))
    if entry is not None and entry.renewal_fee_usd is not None:
        lines.append(
            "• "
            + _("renewal fee: about {amount} USD").format(amount=tr.number(entry.renewal_fee_usd))
        )
    if entry is not None and entry.renew_url:
        lines.append("• " + _("renew at: {url}").format(url=html.escape(entry.renew_url)))
    return lines


def nudge_buttons(
    tr: Translator, nudge: int, milestone: Milestone, takes_credits: bool
) -> InlineKeyboardMarkup | None:
    _ = tr.gettext
    if milestone.kind is Kind.AFTER:
        return None
    rows = []
    if takes_credits:
        rows.append([InlineKeyboardButton(_("Log credits"), callback_data=f"{PREFIX}log:{nudge}")])
    rows.append([InlineKeyboardButton(_("I renewed"), callback_data=f"{PREFIX}renew:{nudge}")])
    rows.append(
        [
            InlineKeyboardButton(_("Snooze a day"), callback_data=f"{PREFIX}snz:{nudge}:1"),
            InlineKeyboardButton(_("Snooze a week"), callback_data=f"{PREFIX}snz:{nudge}:7"),
        ]
    )
    rows.append(
        [InlineKeyboardButton(_("Stop these reminders"), callback_data=f"{PREFIX}stop:{nudge}")]
    )
    return InlineKeyboardMarkup(rows)


def _kept(update: Update) -> str:
    """The nudge's own text, kept above the answer (HTML-escaped: it is shown as sent)."""
    message = update.callback_query.message if update.callback_query else None
    return html.escape(getattr(message, "text", "") or "")


async def _pressed(update: Update, context: RecertContext) -> tuple[Nudge, Credential] | None:
    """The nudge named by the button and its credential, when the presser owns them; else the
    button is answered as one that no longer works (a forged id, or a credential removed)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    nudge_id = parse_id(query.data.removeprefix(PREFIX).split(":")[1])
    found = (
        await context.db.run(lambda session: nudges.owned_nudge(session, user.id, nudge_id))
        if nudge_id is not None
        else None
    )
    if found is None:
        await query.answer(
            context.gettext("This button no longer works. Please start again."), show_alert=True
        )
    return found


async def snoozed(update: Update, context: RecertContext) -> None:
    """Snooze a day or a week: the reminder comes back then (never past the deadline day)."""
    found = await _pressed(update, context)
    if found is None:
        return
    nudge, credential = found
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    nudge_id = nudge.id or 0
    trainer = context.trainer
    assert trainer is not None
    prefs = prefs_of(trainer, context.settings.default_time_zone)
    days = int(query.data.rsplit(":", 1)[1])  # 1 or 7: the pattern admits no other
    until, shortened = snooze_until(credential.cycle_end, prefs, context.now(), days)
    await context.db.run(lambda session: nudges.snooze(session, user.id, nudge_id, until))
    await query.answer()
    _, tr = context.gettext, context.tr
    # The trainer's own wall-clock time, with its minutes (04:15 in Kathmandu stays 04:15).
    local = until.astimezone(prefs.tz)
    when = _("{date} at {time}").format(date=tr.date(local.date(), "long"), time=tr.clock(local))
    note = _("💤 Snoozed until {date}.").format(date=when)
    if shortened:
        note += "\n" + _(
            "Not longer: the deadline is close, so reminders come back daily until it."
        )
    await show(update, _kept(update) + "\n\n" + note)


async def renew_asked(update: Update, context: RecertContext) -> None:
    """I renewed: asks to confirm the new cycle (confirmed by /credentials' own button)."""
    found = await _pressed(update, context)
    if found is None:
        return
    nudge, credential = found
    query = update.callback_query
    assert query is not None
    await query.answer()
    _, tr = context.gettext, context.tr
    rule = rule_for(credential, context.catalog)
    try:
        following = next_cycle(
            rule, Cycle(credential.cycle_start, credential.cycle_end, credential.units_required)
        )
    except RuleError:
        await show(
            update,
            _kept(update)
            + "\n\n"
            + _(
                "Use /credentials and “Edit dates” to type the new expiry date from your "
                "card, or send a photo of it there."
            ),
        )
        return
    end = credential.cycle_end.isoformat() if credential.cycle_end else ""
    held = await context.db.run(
        lambda session: credentials.held_one(session, credential, context.catalog)
    )
    assert held.holding is not None
    standing = context.standing(held.holding, held.earned)
    question = _("Mark {name} renewed? The new cycle runs from {start} to {end}.").format(
        name=credential_name(credential, context.catalog),
        start=tr.date(following.start, "long"),
        end=tr.date(following.end, "long") if following.end else "—",
    )
    entry = context.catalog.get(credential.catalog_id)
    await show(
        update,
        _kept(update) + "\n\n" + "\n".join([question, *renewal_lines(tr, standing, entry)]),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("Yes, I renewed"), callback_data=f"cred:ry:{credential.id}:{end}"
                    ),
                    InlineKeyboardButton(_("Not yet"), callback_data=f"{PREFIX}back:{nudge.id}"),
                ]
            ]
        ),
    )


async def stop_asked(update: Update, context: RecertContext) -> None:
    """Stop these reminders: asks to confirm."""
    found = await _pressed(update, context)
    if found is None:
        return
    nudge, credential = found
    query = update.callback_query
    assert query is not None
    await query.answer()
    _ = context.gettext
    await show(
        update,
        _kept(update)
        + "\n\n"
        + _("Stop all reminders about {name}? You can turn them on again in /credentials.").format(
            name=credential_name(credential, context.catalog)
        ),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("Yes, stop them"), callback_data=f"{PREFIX}stopy:{nudge.id}"
                    ),
                    InlineKeyboardButton(_("Keep them"), callback_data=f"{PREFIX}back:{nudge.id}"),
                ]
            ]
        ),
    )


async def stop_confirmed(update: Update, context: RecertContext) -> None:
    """Yes, stop them: the credential's reminders are off until resumed in /credentials."""
    found = await _pressed(update, context)
    if found is None:
        return
    nudge, credential = found
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    nudge_id, credential_id = nudge.id or 0, credential.id or 0
    await context.db.run(
        lambda session: (
            nudges.answer(session, user.id, nudge_id),
            nudges.stop(session, user.id, credential_id, True),
        )
    )
    await query.answer()
    name = credential_name(credential, context.catalog)
    await show(
        update,
        _kept(update)
        + "\n\n"
        + context.gettext("🔕 Reminders about {name} are off.").format(name=name),
    )


async def kept(update: Update, context: RecertContext) -> None:
    """ "Not yet" / "Keep them": the nudge as it was, with its buttons."""
    found = await _pressed(update, context)
    if found is None:
        return
    nudge, credential = found
    query = update.callback_query
    assert query is not None
    await query.answer()
    await show(
        update,
        _kept(update).rsplit("\n\n", 1)[0],
        nudge_buttons(
            context.tr,
            nudge.id or 0,
            Milestone.parse(nudge.milestone),
            bool(credential.units_required),
        ),
    )


async def resume(update: Update, context: RecertContext) -> None:
    """Turns a credential's reminders on again (from /credentials)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    credential_id = parse_id(query.data.removeprefix(PREFIX + "resume:"))
    credential = (
        await context.db.run(lambda session: nudges.stop(session, user.id, credential_id, False))
        if credential_id is not None
        else None
    )
    _ = context.gettext
    if credential is None:
        await query.answer(_("That credential is not on file (any more)."), show_alert=True)
        return
    await query.answer(_("Reminders are on again."), show_alert=True)


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    """One pattern per button ("Log credits", `nudge:log:`, is /log's). A button of another
    shape (forged, or from an older release) matches none: the last-resort handler answers it
    as one that no longer works."""
    return [
        CallbackQueryHandler(snoozed, pattern=SNOOZE_BUTTON),
        CallbackQueryHandler(renew_asked, pattern=RENEW_BUTTON),
        CallbackQueryHandler(stop_asked, pattern=STOP_BUTTON),
        CallbackQueryHandler(stop_confirmed, pattern=STOP_YES_BUTTON),
        CallbackQueryHandler(kept, pattern=BACK_BUTTON),
        CallbackQueryHandler(resume, pattern=RESUME_BUTTON),
    ]


FEATURE = Feature("nudges", handlers, prefixes=(PREFIX,))
