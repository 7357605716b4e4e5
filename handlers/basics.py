"""/help, /cancel, and the answers for what no feature handled: unknown commands, stray text,
stickers and other media, edited messages, and buttons that are stale or forged."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

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
from bot.i18n import N_
from handlers import PRIVATE, command, drop_buttons
from handlers.feature import Command, Feature
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
    """Lists every command, from the features' declarations: a trainer's own first, then the
    ones for a team's group."""
    message = update.effective_message
    assert message is not None
    _ = context.gettext
    listed: list[Command] = context.bot_data["commands"]

    def line(command: Command) -> str:
        return f"/{command.name}: {_(command.description)}"

    lines = [_("<b>Recert</b> keeps your certifications from lapsing."), ""]
    lines += [line(command) for command in listed if command.private]
    lines += ["", _("In a team's group:")]
    lines += [
        f"/{command.name}: {_(command.group_description or command.description)}"
        for command in listed
        if command.groups or command.admins
    ]
    await message.reply_text("\n".join(lines))


async def cancel(update: Update, context: RecertContext) -> int:
    """Ends any conversation and drops its answers so far."""
    message = update.effective_message
    assert message is not None
    if context.user_data is not None:
        context.user_data.clear()  # the only conversation open is this one (handlers.flows)
    await message.reply_text(
        context.gettext("Okay, stopped. Send /help to see what I can do."),
        reply_markup=ReplyKeyboardRemove(),
    )
    return ConversationHandler.END


def edit_cancelled(draft: str) -> Callable[[Update, RecertContext], Coroutine[Any, Any, int]]:
    """Cancel pressed in an edit kept under `user_data[draft]`: the edit dropped, its buttons
    taken away, the conversation ended."""

    async def cancelled(update: Update, context: RecertContext) -> int:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await drop_buttons(query)
        if context.user_data is not None:
            context.user_data.pop(draft, None)
        chat = update.effective_chat
        assert chat is not None
        await chat.send_message(context.gettext("Cancelled: nothing was saved."))
        return ConversationHandler.END

    return cancelled


def leaving(
    draft: str, callback: Any
) -> Callable[[Update, RecertContext], Coroutine[Any, Any, Any]]:
    """Another of the feature's buttons during an edit kept under `user_data[draft]`: the edit
    ends, the button does its own."""

    async def leave(update: Update, context: RecertContext) -> Any:
        if context.user_data is not None:
            context.user_data.pop(draft, None)
        return await callback(update, context)

    return leave


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


def guards(private_buttons: str) -> list[BaseHandler[Update, RecertContext, object]]:
    """First of all: the buttons of private-only features (`handlers.feature`)."""
    return [CallbackQueryHandler(private_buttons_only, pattern=private_buttons)]


def group_handlers(personal: list[str]) -> list[BaseHandler[Update, RecertContext, object]]:
    """A trainer's own commands (offered in no group) sent in a group."""
    return [
        CommandHandler(
            personal,
            in_private_please,
            filters=filters.UpdateType.MESSAGE & filters.ChatType.GROUPS,
        )
    ]


FEATURE = Feature(
    "basics",
    handlers,
    commands=(
        Command("help", N_("What I can do")),
        Command("cancel", N_("Stop what we are doing")),
    ),
)
