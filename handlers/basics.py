"""/help, /cancel, and the answers for what no feature handled: unknown commands, stray text,
stickers and other media, edited messages, and buttons that are stale or forged."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import RecertContext
from handlers import FLOW, OPEN, PRIVATE, command
from storage import trainers
from storage.models import Trainer


async def ensure_trainer(update: Update, context: RecertContext) -> Trainer:
    """The trainer row, created on the spot for someone who skipped /start."""
    if context.trainer is not None:
        return context.trainer
    user = update.effective_user
    assert user is not None
    trainer, _created = await context.db.run(
        lambda session: trainers.start(
            session,
            user.id,
            user.full_name[:128],
            context.tr.language,
            context.settings.default_reminder_hour,
        )
    )
    context.trainer = trainer
    return trainer


async def help_command(update: Update, context: RecertContext) -> None:
    """Lists what the bot can do now."""
    message = update.effective_message
    assert message is not None
    _ = context.gettext
    await message.reply_text(
        _("<b>Recert</b> keeps your certifications from lapsing.")
        + "\n\n"
        + _("/add: register a certification or CPR/AED card")
        + "\n"
        + _("/credentials: your credentials; edit, renew or remove them")
        + "\n"
        + _("/settings: time zone, reminder hour and language")
        + "\n"
        + _("/language: change the language")
        + "\n"
        + _("/export: your data as files; /delete_me: erase it all")
        + "\n"
        + _("/leave: stop sharing your deadlines with a team")
        + "\n"
        + _("/roster: your team's roster, if you manage one")
        + "\n"
        + _("/cancel: stop what we are doing")
        + "\n"
        + _("/start: the welcome and set-up again")
    )


async def cancel(update: Update, context: RecertContext) -> int:
    """Ends any conversation and drops its answers so far."""
    message = update.effective_message
    assert message is not None
    if context.user_data is not None:
        still_open = context.user_data.get(OPEN)
        context.user_data.clear()
        if still_open:  # older conversations left waiting stay blocked (see `ended`)
            context.user_data.update({OPEN: still_open, FLOW: ""})
    await message.reply_text(
        context.gettext("Okay, stopped. Send /help to see what I can do."),
        reply_markup=ReplyKeyboardRemove(),
    )
    return ConversationHandler.END


async def nothing_to_cancel(update: Update, context: RecertContext) -> None:
    """/cancel outside any conversation."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(context.gettext("There is nothing to cancel right now."))


async def unknown_command(update: Update, context: RecertContext) -> None:
    """A command no handler knows."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(
        context.gettext("I don't know that command. Send /help to see what I can do.")
    )


async def stray_message(update: Update, context: RecertContext) -> None:
    """Text, stickers or media when no conversation is waiting for them."""
    message = update.effective_message
    assert message is not None
    _ = context.gettext
    if message.text:
        text = _("I answer to commands and buttons. Send /help to see what I can do.")
    else:
        text = _("I can't use that here. Send /help to see what I can do.")
    await message.reply_text(text)


async def edited_message(update: Update, context: RecertContext) -> None:
    """Edits are not applied: say so, so nobody thinks a corrected value was stored."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(
        context.gettext(
            "I noticed you edited a message. I only read new messages: please send the "
            "correction again."
        )
    )


async def stale_button(update: Update, context: RecertContext) -> None:
    """A button no handler takes: from an old message, or forged. Answer it (no spinner)."""
    query = update.callback_query
    assert query is not None
    await query.answer(
        context.gettext("This button no longer works. Please start again."), show_alert=True
    )


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    return [
        command("help", help_command),
        command("cancel", nothing_to_cancel),
    ]


def last_resort_handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    """Last in the routing table: what nothing else took."""
    private = filters.ChatType.PRIVATE
    return [
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & private, edited_message),
        MessageHandler(filters.COMMAND & PRIVATE, unknown_command),
        MessageHandler(PRIVATE, stray_message),
        CallbackQueryHandler(stale_button),
    ]


# What is a trainer's own: never shown in a group, where the whole team would see it.
PERSONAL_COMMANDS = (
    "start",
    "add",
    "log",
    "status",
    "credentials",
    "history",
    "export",
    "audit",
    "settings",
    "language",
    "delete_me",
    "help",
    "cancel",
)
PERSONAL_BUTTONS = (
    r"^(cred|hist|audit|status|log|add|nudge|lang|hour|tz|set|intensity|quiet|erase):"
)


async def in_private_please(update: Update, context: RecertContext) -> None:
    """A personal command in a group: point to the private chat, show nothing here."""
    message = update.effective_message
    assert message is not None
    url = f"https://t.me/{context.bot.username}"
    await message.reply_text(
        context.gettext("Your credentials are yours alone: let's talk in private."),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(context.gettext("Open a private chat"), url=url)]]
        ),
    )


async def private_buttons_only(update: Update, context: RecertContext) -> None:
    """Runs before everything: a personal button pressed outside a private chat (forged, or
    from a message forwarded into a group) does nothing."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or chat.type == chat.PRIVATE:
        return
    context.use_language(context.i18n.negotiate(query.from_user.language_code))
    await query.answer(
        context.gettext("This only works in your private chat with me."), show_alert=True
    )
    raise ApplicationHandlerStop


def guards() -> list[BaseHandler[Update, RecertContext, object]]:
    return [CallbackQueryHandler(private_buttons_only, pattern=PERSONAL_BUTTONS)]


def group_handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    return [
        CommandHandler(
            list(PERSONAL_COMMANDS),
            in_private_please,
            filters=filters.UpdateType.MESSAGE & filters.ChatType.GROUPS,
        )
    ]
