"""/delete_me: erase everything the bot keeps about a person, after a confirmation that says
what will go and offers /export first."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import RecertContext
from bot.i18n import N_
from handlers import command, flows, show
from handlers.exports import export
from handlers.feature import Command, Feature
from storage.erase import Footprint, erase, footprint

PREFIX = "erase:"


def describe(context: RecertContext, found: Footprint) -> list[str]:
    """One line per kind of data there is, with its count."""
    lines = []
    if found.profile:
        lines.append(context.gettext("your profile (name, language, time zone, reminder hour)"))
    counted = (
        (
            found.credentials,
            context.ngettext("{count} credential", "{count} credentials", found.credentials),
        ),
        (
            found.past_cycles,
            context.ngettext("{count} past cycle", "{count} past cycles", found.past_cycles),
        ),
        (
            found.credits,
            context.ngettext("{count} credit entry", "{count} credit entries", found.credits),
        ),
        (
            found.proofs,
            context.ngettext("{count} proof file", "{count} proof files", found.proofs),
        ),
        (found.nudges, context.ngettext("{count} reminder", "{count} reminders", found.nudges)),
        (
            found.memberships,
            context.ngettext(
                "{count} team membership", "{count} team memberships", found.memberships
            ),
        ),
        (
            found.manager_roles,
            context.ngettext(
                "{count} team manager role", "{count} team manager roles", found.manager_roles
            ),
        ),
        (
            found.conversations,
            context.ngettext(
                "{count} unfinished conversation",
                "{count} unfinished conversations",
                found.conversations,
            ),
        ),
    )
    lines += [text.format(count=count) for count, text in counted if count]
    return ["• " + line for line in lines]


def _confirmation(context: RecertContext, found: Footprint) -> tuple[str, InlineKeyboardMarkup]:
    _ = context.gettext
    text = (
        _("<b>Delete all my data</b>")
        + "\n\n"
        + _("This erases everything I keep about you:")
        + "\n"
        + "\n".join(describe(context, found))
        + "\n\n"
        + _(
            "It cannot be undone. Teams you shared with will no longer see you. You may want "
            "a copy first: /export sends your credentials and credits as files."
        )
    )
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("Export my data first"), callback_data=PREFIX + "export")],
            [InlineKeyboardButton(_("Erase everything"), callback_data=PREFIX + "yes")],
            [InlineKeyboardButton(_("Keep my data"), callback_data=PREFIX + "no")],
        ]
    )
    return text, markup


async def delete_me(update: Update, context: RecertContext) -> None:
    """/delete_me: say what would be erased and ask; nothing is erased yet."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    found = await context.db.run(lambda session: footprint(session, user.id))
    if found.empty:
        await chat.send_message(context.gettext("I keep no data about you: nothing to erase."))
        return
    text, markup = _confirmation(context, found)
    await chat.send_message(text, reply_markup=markup)


def forget_in_memory(application: Any, user_id: int) -> None:
    """Drop what this process holds about the person: their answers so far and where they are
    in any conversation (the database rows are erased in the same step)."""
    if user_id in application.user_data:
        application.drop_user_data(user_id)
    flows.end_all(application, user_id)


async def answer(update: Update, context: RecertContext) -> None:
    """The confirmation's buttons: export first, erase, or keep."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    user_id = update.effective_user.id
    await query.answer()
    _ = context.gettext
    choice = (query.data or "").removeprefix(PREFIX)
    if choice == "export":
        await export(update, context)
        found = await context.db.run(lambda session: footprint(session, user_id))
        if not found.empty:
            assert update.effective_chat is not None
            text, markup = _confirmation(context, found)
            await update.effective_chat.send_message(text, reply_markup=markup)
        return
    if choice == "yes":
        found = await context.db.run(lambda session: erase(session, user_id))
        forget_in_memory(context.application, user_id)
        context.trainer = None
        if found.empty:
            await show(update, _("I keep no data about you: nothing to erase."))
            return
        await show(
            update,
            _("Done. I erased:")
            + "\n"
            + "\n".join(describe(context, found))
            + "\n\n"
            + _("I no longer know you. Send /start if you want to begin again."),
        )
        return
    await show(update, _("Nothing was erased. Your data stays as it was."))


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    return [
        command("delete_me", delete_me),
        CallbackQueryHandler(answer, pattern=rf"^{PREFIX}(export|yes|no)$"),
    ]


FEATURE = Feature(
    "privacy",
    handlers,
    commands=(Command("delete_me", N_("Erase all my data")),),
    prefixes=(PREFIX,),
)
