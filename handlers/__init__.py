"""Telegram handlers: thin callbacks that parse input, call storage and answer.

Each module offers its handlers through a `handlers()` function; `bot.app` puts them in order.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CommandHandler, ConversationHandler, filters
from telegram.warnings import PTBUserWarning

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


FLOW = "flow"  # user_data key: the conversation the person started last
OPEN = "open"  # user_data key: the conversations started and not ended yet


class Conversation(ConversationHandler[Any]):
    """A conversation that yields to the one the person started last.

    Without this, a conversation left waiting for text (say, a city in /settings) would take
    text meant for a newer one (/add) or typed after it ended. Entry points always match and
    make this conversation the person's current flow; other updates match only while it is.
    """

    application: Application[Any, Any, Any, Any, Any, Any] | None = None

    def check_update(self, update: object) -> Any:
        if isinstance(update, Update) and self.application is not None:
            user = update.effective_user
            if user is not None and not self._is_entry(update):
                flow = self.application.user_data.get(user.id, {}).get(FLOW)
                if flow is not None and flow != self.name:
                    return None
        return super().check_update(update)

    def _is_entry(self, update: Update) -> bool:
        return any(handler.check_update(update) for handler in self.entry_points)


def ended(user_data: dict[Any, Any], name: str) -> None:
    """Conversation `name` is over. Once none is open the person needs no memory at all (and
    PTB's empty user_data is dropped); while an older one is left waiting, it stays blocked."""
    still_open = [other for other in user_data.get(OPEN, []) if other != name]
    if still_open:
        user_data[OPEN] = still_open
        if user_data.get(FLOW) == name:
            user_data[FLOW] = ""
    else:
        user_data.pop(OPEN, None)
        user_data.pop(FLOW, None)


def _following(name: str, callback: Any, *, entry: bool) -> Any:
    async def follow(update: Update, context: Any) -> Any:
        result = await callback(update, context)
        user_data = context.user_data
        if user_data is None:
            return result
        if result == ConversationHandler.END:
            ended(user_data, name)
        elif entry:
            # Only a conversation that goes on becomes the flow; /settings or a one-line /log
            # end at once and must not take free text away from one under way.
            user_data[FLOW] = name
            if name not in user_data.get(OPEN, []):
                user_data[OPEN] = [*user_data.get(OPEN, []), name]
        return result

    return follow


def conversation(**kwargs: Any) -> Conversation:
    """A Conversation that follows a person (per chat and user), not one message.

    Our buttons carry what they need, so per_message=False is intended; PTB's reminder of what
    that means is silenced here and only here.
    """
    name = kwargs["name"]
    inside = [h for handlers in kwargs["states"].values() for h in handlers]
    for handler in kwargs["entry_points"]:
        handler.callback = _following(name, handler.callback, entry=True)
    for handler in [*inside, *kwargs.get("fallbacks", [])]:
        handler.callback = _following(name, handler.callback, entry=False)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="If 'per_message=False'", category=PTBUserWarning
        )
        return Conversation(**kwargs)


def bind_conversations(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Give each Conversation the application, whose user_data tells the current flow."""
    for handlers in application.handlers.values():
        for handler in handlers:
            if isinstance(handler, Conversation):
                handler.application = application


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
