"""/start: welcome, then language, then time zone. A returning trainer is welcomed back."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.context import RecertContext
from bot.i18n import LANGUAGE_NAMES, N_, Translator
from handlers import SENT_NOT_TEXT, TYPED, command, conversation, drop_buttons
from handlers.basics import cancel
from handlers.feature import Command, Feature
from handlers.hiring import add_to_group_button
from handlers.timezone import ask_time_zone, save_zone, time_zone_handlers
from storage import trainers

# The states, by name (persisted as such: an onboarding survives a restart).
LANGUAGE = "language"
TIME_ZONE = "time_zone"
# The numbers these states were stored as before they had names: an onboarding persisted then
# goes on after the deploy at the state it was in.
NUMBERED = (LANGUAGE, TIME_ZONE)
LANGUAGE_PREFIX = "lang:"
LANGUAGE_PATTERN = f"^{LANGUAGE_PREFIX}({'|'.join(LANGUAGE_NAMES)})$"


def language_buttons(current: str | None = None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ("✓ " if code == current else "") + name, callback_data=LANGUAGE_PREFIX + code
                )
                for code, name in LANGUAGE_NAMES.items()
            ]
        ]
    )


def help_hint(translator: Translator) -> str:
    _ = translator.gettext
    return _("Send /help to see what I can do, or /settings to change these choices.")


async def start(update: Update, context: RecertContext) -> int | str:
    """Creates the trainer (or welcomes them back); new trainers are asked their language."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    language = context.trainer.language if context.trainer else context.tr.language
    trainer, created = await context.db.run(
        lambda session: trainers.start(
            session,
            user.id,
            user.full_name[:128],
            language,
            context.settings.default_reminder_hour,
        )
    )
    context.trainer = trainer
    _ = context.gettext
    name = html.escape(user.first_name)
    if not created and trainer.time_zone:
        await chat.send_message(
            _("Welcome back, {name}! I'm still keeping an eye on your deadlines.").format(
                name=name
            )
            + "\n\n"
            + _(
                "Send /status to see them, /help for everything I can do, or /settings to "
                "change your language, time zone or reminder hour."
            ),
            # Issue 17: a gym manager adds the bot to the trainers' group from here.
            reply_markup=InlineKeyboardMarkup([[add_to_group_button(context)]]),
        )
        return ConversationHandler.END
    await chat.send_message(
        _(
            "Hi {name}! I'm Recert. I keep your fitness certifications from lapsing: I know "
            "each certifying body's renewal rules, count your continuing-education credits and "
            "remind you before every deadline.\n\nFirst, which language should I speak?"
        ).format(name=name),
        reply_markup=language_buttons(trainer.language),
    )
    return LANGUAGE


async def language_chosen(update: Update, context: RecertContext) -> str:
    """LANGUAGE: stores the language, then asks for the time zone in it."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and query.data is not None and user is not None
    await query.answer()
    language = query.data.removeprefix(LANGUAGE_PREFIX)  # the pattern admits shipped ones only
    await context.db.run(lambda session: trainers.update(session, user.id, language=language))
    context.use_language(language)
    await drop_buttons(query)
    await ask_time_zone(update, context)
    return TIME_ZONE


async def language_expected(update: Update, context: RecertContext) -> str:
    """LANGUAGE, anything but a language button: the buttons again."""
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        context.gettext("Please pick a language with one of the buttons."),
        reply_markup=language_buttons(context.tr.language),
    )
    return LANGUAGE


async def back_to_language(update: Update, context: RecertContext) -> str:
    """TIME_ZONE, Back: the language question again (nothing stored)."""
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        context.gettext("Which language should I speak?"),
        reply_markup=language_buttons(context.tr.language),
    )
    return LANGUAGE


async def zone_chosen(update: Update, context: RecertContext, zone: str) -> int:
    """TIME_ZONE: stores the zone and ends, with the reminder hour and what's next."""
    await save_zone(update, context, zone)
    chat = update.effective_chat
    assert chat is not None and context.trainer is not None
    _ = context.gettext
    await chat.send_message(
        _("You're all set. I'll send reminders at {hour} your time.").format(
            hour=context.tr.hour(context.trainer.reminder_hour)
        )
        + "\n\n"
        + help_hint(context.tr)
    )
    return ConversationHandler.END


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    states: dict[object, list[BaseHandler[Update, RecertContext, object]]] = {
        LANGUAGE: [
            CallbackQueryHandler(language_chosen, pattern=LANGUAGE_PATTERN),
            MessageHandler(TYPED | SENT_NOT_TEXT, language_expected),
        ],
        TIME_ZONE: time_zone_handlers(zone_chosen, back_to_language),
    }
    return [
        conversation(
            entry_points=[command("start", start)],
            states={**states, **{number: states[name] for number, name in enumerate(NUMBERED)}},
            fallbacks=[command("cancel", cancel)],
            name="start",
            persistent=True,
            allow_reentry=True,
        )
    ]


FEATURE = Feature(
    "start",
    handlers,
    commands=(Command("start", N_("Start, or start again")),),
    prefixes=(LANGUAGE_PREFIX, "tz:"),
)
