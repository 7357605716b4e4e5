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
    context.trainer = await context.db.run(lambda session: trainers.get(session, user.id))
    if context.trainer is not None:
        context.use_language(context.trainer.language)
    else:
        context.use_language(context.i18n.negotiate(user.language_code))
