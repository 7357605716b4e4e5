"""Telegram handlers: thin callbacks that parse input, call storage and answer.

Each module declares its feature once (`handlers.feature.Feature`: its handlers, commands,
callback prefixes and scope); `bot.app` derives the routing table, menus, /help and the
private-chat guards from the declarations.
"""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler, filters

from handlers.flows import conversation

__all__ = ["conversation"]  # the one way conversations are built (handlers.flows)

# What a person types or sends now; edits of older messages are answered elsewhere, never
# taken as an answer.
TYPED = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
SENT_NOT_TEXT = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.COMMAND
# A new message in a private chat. Commands are only ever taken from new messages (PTB's
# default also takes edits: an edited "/log 0.5 ..." would log twice), and a trainer's own
# data is only ever shown in private chat, never in a team's group.
PRIVATE = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE


def is_number(text: str) -> bool:
    """Digits only, ASCII, and short enough for an id: forged callback data such as "²"
    passes str.isdigit() but not int()."""
    return text.isascii() and text.isdecimal() and len(text) <= 18


# What a number in our callback data may be, by the column it is looked up in. A modified
# client can send any digits, and PostgreSQL refuses a number past its column's type
# ("value out of int32 range") where SQLite only finds nothing.
ROW_ID = range(0, 2**31)  # our tables' ids, and pages and counts: INTEGER, 32-bit
USER_ID = range(0, 2**63)  # Telegram's user ids: BIGINT


def parse_id(text: str, allowed: range = ROW_ID) -> int | None:
    """The number in one field of callback data, or None when it is not one that can name a
    row (not ASCII digits, or out of the column's range): the caller then answers as it does
    for a row that is gone."""
    if not (text.isascii() and text.isdecimal()) or len(text) > 19:
        return None
    value = int(text)
    return value if value in allowed else None


def command(name: str, callback: Any) -> CommandHandler[Any, Any]:
    """A command of a trainer's own: new messages in private chat only."""
    return CommandHandler(name, callback, filters=PRIVATE)


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Show a screen: in place of the message whose button was pressed (the chat keeps one
    current view), or as a new message after a command. Pressing a button that leads to the
    screen already shown changes nothing, which Telegram reports as "not modified"."""
    query = update.callback_query
    if query is None:
        chat = update.effective_chat
        assert chat is not None
        await chat.send_message(text, reply_markup=markup)
        return
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


async def drop_buttons(query: CallbackQuery) -> None:
    """Remove a message's buttons once pressed; pressed again, they are gone already."""
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise
