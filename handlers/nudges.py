"""Nudges as the trainer sees them, and their buttons: log credits, I renewed, snooze a day or a
week, stop these reminders. Each answer edits the nudge, so the chat shows what was chosen."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import RecertContext
from bot.i18n import Translator
from handlers import parse_id, show
from handlers.render import credential_name, days_left, progress_bar, units
from scheduler.cycles import Cycle, RuleError, next_cycle
from scheduler.plan import at_local_hour
from storage import nudges
from storage.catalog import Catalog
from storage.credentials import rule_for
from storage.nudges import Claim, prefs_of

PREFIX = "nudge:"
CHECKLIST_FROM = 14  # days before the end: the ready-to-renew checklist is shown


def nudge_text(tr: Translator, claim: Claim, catalog: Catalog, today: datetime) -> str:
    """The message for one claimed milestone, in the trainer's language."""
    _ = tr.gettext
    credential = claim.credential
    entry = catalog.get(credential.catalog_id)
    name = credential_name(credential, catalog)
    end = credential.cycle_end
    day = today.date()
    milestone = claim.milestone
    lines: list[str] = []
    if milestone.startswith("pace"):
        lines.append(_("📈 {name}: you are behind a steady pace.").format(name=name))
    elif milestone == "after":
        lines.append(_("❌ {name} has lapsed.").format(name=name))
        if entry is not None and entry.after_expiry.get(tr.language):
            lines.append(html.escape(entry.after_expiry[tr.language]))
        return "\n".join(lines)
    elif milestone.startswith("grace"):
        lines.append(
            _(
                "🟠 {name} expired on {date}. A late renewal is still possible, but not for long."
            ).format(name=name, date=tr.date(end) if end else "")
        )
    elif end is not None and end <= day:
        lines.append(_("🚨 {name} is due today.").format(name=name))
    elif end is not None:
        icon = "⚠️" if (end - day).days <= 7 else "⏰"
        lines.append(
            _("{icon} {name} is due {left}, on {date}.").format(
                icon=icon, name=name, left=days_left(tr, end, day), date=tr.date(end, "long")
            )
        )
    if credential.units_required:
        lines.append(
            _("Credits: {earned} of {required}").format(
                earned=units(tr, claim.counted, entry),
                required=units(tr, credential.units_required, entry),
            )
        )
        lines.append(progress_bar(claim.counted, credential.units_required))
    if claim.at_risk:
        lines.append(
            _("Without a current CPR/AED card these cannot be renewed: {names}.").format(
                names=html.escape(", ".join(claim.at_risk))
            )
        )
    if end is not None and (end - day).days <= CHECKLIST_FROM and not milestone.startswith("pace"):
        lines.append("")
        lines.append(_("<b>Ready to renew?</b>"))
        complete = not credential.units_required or claim.counted >= credential.units_required
        lines.append(("✅ " if complete else "⬜ ") + _("credits complete"))
        if claim.cpr_current is not None:
            lines.append(("✅ " if claim.cpr_current else "⬜ ") + _("CPR/AED card current"))
        if entry is not None and entry.renewal_fee_usd is not None:
            lines.append(
                "• "
                + _("renewal fee: about {amount} USD").format(
                    amount=tr.number(entry.renewal_fee_usd)
                )
            )
        if entry is not None and entry.renew_url:
            lines.append("• " + _("renew at: {url}").format(url=html.escape(entry.renew_url)))
    return "\n".join(lines)


def nudge_buttons(
    tr: Translator, nudge: int, milestone: str, takes_credits: bool
) -> InlineKeyboardMarkup | None:
    _ = tr.gettext
    if milestone == "after":
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


async def button(update: Update, context: RecertContext) -> None:
    """Snooze, I renewed, stop (with its confirmation)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    action, *rest = query.data.removeprefix(PREFIX).split(":")
    _ = context.gettext
    nudge_id = parse_id(rest[0]) if rest else None
    if nudge_id is None:
        await query.answer(_("This button no longer works. Please start again."), show_alert=True)
        return
    found = await context.db.run(lambda session: nudges.owned_nudge(session, user.id, nudge_id))
    if found is None:
        await query.answer(_("This button no longer works. Please start again."), show_alert=True)
        return
    nudge, credential = found
    name = credential_name(credential, context.catalog)
    tr = context.tr
    if action == "snz" and len(rest) == 2 and rest[1] in ("1", "7"):
        trainer = context.trainer
        assert trainer is not None
        prefs = prefs_of(trainer, context.settings.default_time_zone)
        today = datetime.now(ZoneInfo(prefs.zone)).date()
        until = at_local_hour(today + timedelta(days=int(rest[1])), prefs)
        await context.db.run(lambda session: nudges.snooze(session, user.id, nudge_id, until))
        await query.answer()
        await show(
            update,
            _kept(update)
            + "\n\n"
            + _("💤 Snoozed until {date}.").format(
                date=f"{tr.date(until.astimezone(ZoneInfo(prefs.zone)).date())}, "
                f"{tr.hour(until.astimezone(ZoneInfo(prefs.zone)).hour)}"
            ),
        )
    elif action == "renew":
        await query.answer()  # answered once the renewal is confirmed (the cycle then moves on)
        rule = rule_for(credential, context.catalog)
        try:
            following = next_cycle(
                rule,
                Cycle(credential.cycle_start, credential.cycle_end, credential.units_required),
            )
        except RuleError:
            await show(
                update,
                _kept(update)
                + "\n\n"
                + _(
                    "Use /credentials and “Edit dates” to type the new expiry date from your card."
                ),
            )
            return
        end = credential.cycle_end.isoformat() if credential.cycle_end else ""
        await show(
            update,
            _kept(update)
            + "\n\n"
            + _("Mark {name} renewed? The new cycle runs from {start} to {end}.").format(
                name=name,
                start=tr.date(following.start, "long"),
                end=tr.date(following.end, "long") if following.end else "—",
            ),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            _("Yes, I renewed"), callback_data=f"cred:ry:{credential.id}:{end}"
                        ),
                        InlineKeyboardButton(
                            _("Not yet"), callback_data=f"{PREFIX}back:{nudge_id}"
                        ),
                    ]
                ]
            ),
        )
    elif action == "stop":
        await query.answer()
        await show(
            update,
            _kept(update)
            + "\n\n"
            + _(
                "Stop all reminders about {name}? You can turn them on again in /credentials."
            ).format(name=name),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            _("Yes, stop them"), callback_data=f"{PREFIX}stopy:{nudge_id}"
                        ),
                        InlineKeyboardButton(
                            _("Keep them"), callback_data=f"{PREFIX}back:{nudge_id}"
                        ),
                    ]
                ]
            ),
        )
    elif action == "stopy":
        credential_id = credential.id or 0
        await context.db.run(
            lambda session: (
                nudges.answer(session, user.id, nudge_id),
                nudges.stop(session, user.id, credential_id, True),
            )
        )
        await query.answer()
        await show(
            update,
            _kept(update) + "\n\n" + _("🔕 Reminders about {name} are off.").format(name=name),
        )
    elif action == "back":  # "Not yet" / "Keep them": the nudge as it was
        await query.answer()
        await show(
            update,
            _kept(update).rsplit("\n\n", 1)[0],
            nudge_buttons(tr, nudge_id, nudge.milestone, bool(credential.units_required)),
        )
    else:
        await query.answer(_("This button no longer works. Please start again."), show_alert=True)


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
    return [
        CallbackQueryHandler(resume, pattern=rf"^{PREFIX}resume:\d+$"),
        CallbackQueryHandler(button, pattern=rf"^{PREFIX}(?!log:)"),
    ]
