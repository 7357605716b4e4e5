"""The one error handler: log the traceback (secrets are filtered by the log handler) and
apologise to the user in their language. Replies were already retried once after a flood
wait or a transient error (`bot.ratelimit`)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.context import RecertContext
from handlers.loader import read_trainer

log = logging.getLogger(__name__)


async def on_error(update: object, context: RecertContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(context.error, Forbidden):
        # Blocked (or removed from the group) between the message and its answer: an
        # expected outcome, and there is no one to apologise to.
        log.info("update %s: not answered, %s", update_id, context.error.message)
        return
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    # PTB gives error handlers a fresh context: find the user's language again.
    await _pick_language(update, context)
    try:
        await update.effective_chat.send_message(
            context.gettext(
                "Sorry, something went wrong on my side. Please try again in a moment; "
                "if it keeps happening, send /cancel and start over."
            )
        )
    except TelegramError:
        log.warning("could not send the apology for update %s", update_id)


async def _pick_language(update: Update, context: RecertContext) -> None:
    user = update.effective_user
    if user is None:
        return
    try:
        await read_trainer(update, context)
    except Exception:  # the database may be what failed; Telegram's language will do
        log.warning("could not load the trainer's language for the apology")
        context.use_language(context.i18n.negotiate(user.language_code))
