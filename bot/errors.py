"""The one error handler: log the traceback (secrets are filtered by the log handler) and
apologise to the user in their language."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.context import RecertContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: RecertContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(context.error, Forbidden):
        return  # the user blocked the bot: there is no one to apologise to
    try:
        await update.effective_chat.send_message(context.gettext(
            "Sorry, something went wrong on my side. Please try again in a moment; "
            "if it keeps happening, send /cancel and start over."
        ))
    except TelegramError:
        log.warning("could not send the apology for update %s", update_id)
