"""Telegram handlers: thin callbacks that parse input, call storage and answer.

Each module offers its handlers through a `handlers()` function; `bot.app` puts them in order.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import CallbackQuery
from telegram.error import BadRequest
from telegram.ext import ConversationHandler, filters
from telegram.warnings import PTBUserWarning

# What a person types or sends now; edits of older messages are answered elsewhere, never
# taken as an answer.
TYPED = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
SENT_NOT_TEXT = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.COMMAND


def conversation(**kwargs: Any) -> ConversationHandler[Any]:
    """A ConversationHandler that follows a person (per chat and user), not one message.

    Our buttons carry what they need, so per_message=False is intended; PTB's reminder of what
    that means is silenced here and only here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="If 'per_message=False'", category=PTBUserWarning
        )
        return ConversationHandler(**kwargs)


async def drop_buttons(query: CallbackQuery) -> None:
    """Remove a message's buttons once pressed; pressed again, they are gone already."""
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise
