"""Runs before every feature handler: loads the trainer and picks the user's language."""

from __future__ import annotations

from telegram import Update

from bot.context import RecertContext
from storage import trainers


async def load_trainer(update: Update, context: RecertContext) -> None:
    """One read per update: the trainer row (if any) and, from it, the language."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    private = update.effective_chat is not None and update.effective_chat.type == "private"

    def load(session):  # type: ignore[no-untyped-def]
        trainer = trainers.get(session, user.id)
        if trainer is not None and not trainer.active and private:
            # Writing to us again means they unblocked the bot: reminders resume. (One write,
            # only when it changes.)
            trainer = trainers.update(session, user.id, active=True)
        return trainer

    context.trainer = await context.db.run(load)
    if context.trainer is not None:
        context.use_language(context.trainer.language)
    else:
        context.use_language(context.i18n.negotiate(user.language_code))
