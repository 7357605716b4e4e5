"""Runs before every feature handler: loads the trainer and picks the user's language.

A round trip to the database is most of what an update costs. For the commands trainers send
most (`/status`, `/log`), the handler's own unit of work reads the trainer too (`with_trainer`),
so the update makes one round trip instead of two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection
from sqlmodel import Session
from telegram import Update

from bot.context import RecertContext
from storage import trainers
from storage.models import Trainer

T = TypeVar("T")


def _read(session: Session, user_id: int, private: bool) -> Trainer | None:
    trainer = trainers.read(session, user_id)  # a plain row (Core), built once
    if trainer is not None and not trainer.active and private:
        # Writing to us again means they unblocked the bot: reminders resume. (One write,
        # only when it changes.)
        trainer = trainers.update(session, user_id, active=True)
    return trainer


def _command_of(update: Update, bot_username: str) -> str | None:
    """`status` for "/status" or "/status@ThisBot ..." in a new private message (a command
    for another bot is no command of ours)."""
    message = update.message
    if message is None or message.chat.type != "private" or not message.text:
        return None
    words = message.text.split(maxsplit=1)  # none at all for " " or U+3000 alone
    if not words or not words[0].startswith("/"):
        return None
    word = words[0]
    name, _at, addressee = word[1:].partition("@")
    return name.lower() if not addressee or addressee.lower() == bot_username.lower() else None


def _use(context: RecertContext, trainer: Trainer | None, language_code: str | None) -> None:
    context.trainer = trainer
    if trainer is not None:
        context.use_language(trainer.language)
    else:
        context.use_language(context.i18n.negotiate(language_code))


async def load_trainer(update: Update, context: RecertContext) -> None:
    """One read per update: the trainer row (if any) and, from it, the language."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    # Their handlers call `with_trainer` before they use the trainer or answer (declared as
    # `reads_trainer` in their features).
    if _command_of(update, context.bot.username) in context.bot_data["reads_trainer"]:
        # Telegram's language until the handler's read brings the trainer's own.
        context.use_language(context.i18n.negotiate(user.language_code))
        context.trainer_pending = True
        return
    await read_trainer(update, context)


async def _back(context: RecertContext, user_id: int, trainer: Trainer | None) -> Trainer | None:
    """A trainer read as a row who had blocked the bot and writes to us in private again:
    made active (the one write of a trainer load, only when it changes)."""
    if trainer is None or trainer.active:
        return trainer
    return await context.db.run(lambda session: _read(session, user_id, True))


async def read_trainer(update: Update, context: RecertContext) -> None:
    """Read the trainer now (the error handler's fresh context needs it too): a plain row
    on a connection, no ORM session (handlers only read it)."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    private = update.effective_chat is not None and update.effective_chat.type == "private"
    trainer = await context.db.read(lambda connection: trainers.read(connection, user.id))
    if private:
        trainer = await _back(context, user.id, trainer)
    _use(context, trainer, user.language_code)


async def read_bringing_trainer(
    update: Update, context: RecertContext, work: Callable[[Connection], tuple[Trainer | None, T]]
) -> T:
    """`work(connection)`, a read on SQLAlchemy Core (`Database.read`) that brings the trainer
    with its own answer, in one statement (`credits.status_with_trainer`): the trainer is used
    if the loader left it."""
    trainer, result = await context.db.read(work)
    user = update.effective_user
    if context.trainer_pending and user is not None:
        trainer = await _back(context, user.id, trainer)  # the loader leaves only private chats
        context.trainer_pending = False
        _use(context, trainer, user.language_code)
    return result


async def with_trainer(
    update: Update, context: RecertContext, work: Callable[[Session, Trainer | None], T]
) -> T:
    """`work(session, trainer)` in one round trip, reading the trainer in the same one if the
    loader left it."""
    user = update.effective_user
    if not context.trainer_pending or user is None:
        trainer = context.trainer
        return await context.db.run(lambda session: work(session, trainer))

    def both(session: Session) -> tuple[Trainer | None, T]:
        trainer = _read(session, user.id, True)
        return trainer, work(session, trainer)

    trainer, result = await context.db.run(both)
    context.trainer_pending = False
    _use(context, trainer, user.language_code)
    return result
