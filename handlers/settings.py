"""/settings and /language: the trainer's time zone, reminder hour, language and currency.

Buttons carry everything they need (`lang:es`, `hour:7`, `tz:Europe/Madrid`), so they work
whenever they are pressed; only typing a city needs a conversation.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
)

from bot.amounts import OFFERED_CURRENCIES, currency_for
from bot.commands import set_chat_menu
from bot.context import RecertContext
from bot.i18n import LANGUAGE_NAMES, N_
from handlers import command, conversation, show
from handlers.basics import cancel, ensure_trainer
from handlers.feature import Command, Feature
from handlers.start import LANGUAGE_PATTERN, LANGUAGE_PREFIX, language_buttons
from handlers.timezone import ask_time_zone, save_zone, time_zone_handlers, zone_label
from scheduler.plan import Prefs
from storage import trainers
from storage.models import Trainer

# The one state, by name (persisted as such); 0 is what it was stored as before it had one.
TIME_ZONE = "time_zone"
NUMBERED = (TIME_ZONE,)
HOUR_PREFIX = "hour:"
INTENSITY_PREFIX = "intensity:"
QUIET_PREFIX = "quiet:"
SECTION_PREFIX = "set:"
CURRENCY_PREFIX = "cur:"
# One pattern per settings button.
LANGUAGE_SECTION = f"^{SECTION_PREFIX}language$"
ZONE_SECTION = f"^{SECTION_PREFIX}zone$"
HOUR_SECTION = f"^{SECTION_PREFIX}hour$"
INTENSITY_SECTION = f"^{SECTION_PREFIX}intensity$"
QUIET_SECTION = f"^{SECTION_PREFIX}quiet$"
CURRENCY_SECTION = f"^{SECTION_PREFIX}currency$"
BACK_DATA = SECTION_PREFIX + "back"
BACK_BUTTON = f"^{BACK_DATA}$"


def settings_view(context: RecertContext, trainer: Trainer) -> tuple[str, InlineKeyboardMarkup]:
    _ = context.gettext
    if trainer.time_zone:
        zone = html.escape(zone_label(context.tr, trainer.time_zone))
    else:
        zone = _("not set yet (I use {zone})").format(zone=context.settings.default_time_zone)
    text = "\n".join(
        (
            _("<b>Your settings</b>"),
            _("Language: {language}").format(language=LANGUAGE_NAMES[context.tr.language]),
            _("Time zone: {zone}").format(zone=zone),
            _("Reminders at: {hour}").format(hour=context.tr.hour(trainer.reminder_hour)),
            _("Reminders: {intensity}").format(
                intensity=intensity_names(context)[trainer.nudge_intensity]
            ),
            _("Quiet hours: {hours}").format(hours=quiet_label(context, trainer)),
            _("Costs in: {currency}").format(currency=currency_label(context, trainer)),
        )
    )
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Language"), callback_data=SECTION_PREFIX + "language"),
                InlineKeyboardButton(_("Time zone"), callback_data=SECTION_PREFIX + "zone"),
            ],
            [InlineKeyboardButton(_("Reminder hour"), callback_data=SECTION_PREFIX + "hour")],
            [
                InlineKeyboardButton(_("How often"), callback_data=SECTION_PREFIX + "intensity"),
                InlineKeyboardButton(_("Quiet hours"), callback_data=SECTION_PREFIX + "quiet"),
            ],
            [InlineKeyboardButton(_("Currency"), callback_data=SECTION_PREFIX + "currency")],
        ]
    )
    return text, buttons


def currency_label(context: RecertContext, trainer: Trainer) -> str:
    """`US Dollar (USD)`: the currency costs are read in when typed without one."""
    code = currency_for(trainer.currency, context.tr.language)
    return f"{context.tr.currency_name(code)} ({code})"


def currency_buttons(context: RecertContext, trainer: Trainer) -> InlineKeyboardMarkup:
    """The offered currencies, three a row, ✓ on the current one."""
    current = currency_for(trainer.currency, context.tr.language)
    buttons = [
        InlineKeyboardButton(
            ("✓ " if code == current else "") + _currency_button(context, code),
            callback_data=CURRENCY_PREFIX + code,
        )
        for code in OFFERED_CURRENCIES
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


def _currency_button(context: RecertContext, code: str) -> str:
    """`EUR €`, or `MXN` where the locale writes no other symbol."""
    symbol = context.tr.money_symbol(code)
    return code if symbol == code else f"{code} {symbol}"


async def _store(update: Update, context: RecertContext, **changes: object) -> Trainer:
    """A settings button pressed: answered, and its choice stored on the trainer."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await query.answer()
    await ensure_trainer(update, context)
    trainer = await context.db.run(lambda session: trainers.update(session, user.id, **changes))
    assert trainer is not None
    context.trainer = trainer
    return trainer


async def _show_saved(update: Update, context: RecertContext, note: str, trainer: Trainer) -> None:
    """What was done, then the settings as they now stand."""
    text, buttons = settings_view(context, trainer)
    await show(update, note + "\n\n" + text, buttons)


async def currency_chosen(update: Update, context: RecertContext) -> None:
    """Stores the currency costs are read in when typed without one."""
    assert update.callback_query is not None and update.callback_query.data is not None
    code = update.callback_query.data.removeprefix(CURRENCY_PREFIX)  # offered ones only
    trainer = await _store(update, context, currency=code)
    note = context.gettext("Done: costs typed without a currency are in {currency}.").format(
        currency=currency_label(context, trainer)
    )
    await _show_saved(update, context, note, trainer)


def intensity_names(context: RecertContext) -> dict[str, str]:
    _ = context.gettext
    return {
        "gentle": _("gentle (90, 30 and 7 days before, and on the day)"),
        "normal": _("normal (from six months before, more often near the end)"),
        "intense": _("intense (often, from six months before)"),
    }


QUIET_CHOICES = ((22, 8), (21, 9), (23, 7))


def quiet_label(context: RecertContext, trainer: Trainer) -> str:
    if trainer.quiet_start is None or trainer.quiet_end is None:
        return context.gettext("none")
    return f"{context.tr.hour(trainer.quiet_start)}–{context.tr.hour(trainer.quiet_end)}"


async def intensity_chosen(update: Update, context: RecertContext) -> None:
    """How often reminders come; the plan is made again."""
    assert update.callback_query is not None and update.callback_query.data is not None
    intensity = update.callback_query.data.removeprefix(INTENSITY_PREFIX)  # known ones only
    trainer = await _store(update, context, nudge_intensity=intensity)
    await _show_saved(update, context, context.gettext("Done."), trainer)


async def quiet_chosen(update: Update, context: RecertContext) -> None:
    """Hours in which repeated reminders wait (a window, or none)."""
    assert update.callback_query is not None and update.callback_query.data is not None
    choice = update.callback_query.data.removeprefix(QUIET_PREFIX)
    start, end = (None, None) if choice == "off" else (int(x) for x in choice.split("-"))
    trainer = await _store(update, context, quiet_start=start, quiet_end=end)
    note = context.gettext("Done.") + "\n\n" + quiet_note(context, trainer).rstrip("\n")
    await _show_saved(update, context, note.rstrip("\n"), trainer)


def _current(label: str, chosen: bool) -> str:
    """A choice's label, with ✓ on the one in force."""
    return "✓ " + label if chosen else label


def quiet_note(context: RecertContext, trainer: Trainer) -> str:
    """When the reminder hour falls inside quiet hours, what that means (else nothing)."""
    prefs = Prefs("UTC", trainer.reminder_hour, "normal", trainer.quiet_start, trainer.quiet_end)
    if trainer.quiet_end is None or not prefs.is_quiet(trainer.reminder_hour):
        return ""
    return (
        context.gettext(
            "Note: {hour} is inside your quiet hours ({quiet}). Reminders still arrive at {hour}; "
            "repeats in a deadline's final week wait until {end}."
        ).format(
            hour=context.tr.hour(trainer.reminder_hour),
            quiet=quiet_label(context, trainer),
            end=context.tr.hour(trainer.quiet_end),
        )
        + "\n\n"
    )


async def show_settings(update: Update, context: RecertContext) -> int:
    """/settings: the current values and a button for each."""
    trainer = await ensure_trainer(update, context)
    text, buttons = settings_view(context, trainer)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text, reply_markup=buttons)
    return ConversationHandler.END


async def _section(update: Update, context: RecertContext) -> Trainer:
    """A settings button pressed: answered; the trainer whose settings are shown."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    return await ensure_trainer(update, context)


async def _show_section(
    update: Update, context: RecertContext, text: str, markup: InlineKeyboardMarkup
) -> int:
    """A section's question in place of the settings, with « Back under its choices."""
    back = InlineKeyboardButton(context.gettext("« Back"), callback_data=BACK_DATA)
    await show(update, text, InlineKeyboardMarkup([*markup.inline_keyboard, [back]]))
    return ConversationHandler.END


async def language_section(update: Update, context: RecertContext) -> int:
    """Language: the languages, ✓ on the current one."""
    await _section(update, context)
    return await _show_section(
        update,
        context,
        context.gettext("Which language should I speak?"),
        language_buttons(context.tr.language),
    )


async def hour_section(update: Update, context: RecertContext) -> int:
    """Reminder hour: the 24 hours of the day, ✓ on the current one."""
    trainer = await _section(update, context)
    hours = [
        InlineKeyboardButton(
            _current(context.tr.hour(hour), hour == trainer.reminder_hour),
            callback_data=f"{HOUR_PREFIX}{hour}",
        )
        for hour in range(24)
    ]
    return await _show_section(
        update,
        context,
        context.gettext("At what hour should reminders arrive?"),
        InlineKeyboardMarkup([hours[i : i + 4] for i in range(0, 24, 4)]),
    )


async def intensity_section(update: Update, context: RecertContext) -> int:
    """How often: the three intensities, explained, ✓ on the current one."""
    trainer = await _section(update, context)
    _ = context.gettext
    names = intensity_names(context)
    labels = {"gentle": _("Gentle"), "normal": _("Normal"), "intense": _("Intense")}
    return await _show_section(
        update,
        context,
        _("How often should I remind you before a deadline?")
        + "\n\n"
        + "\n".join(f"• {labels[key]}: {names[key]}" for key in names),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _current(labels[key], key == trainer.nudge_intensity),
                        callback_data=INTENSITY_PREFIX + key,
                    )
                    for key in names
                ]
            ]
        ),
    )


async def quiet_section(update: Update, context: RecertContext) -> int:
    """Quiet hours: the windows offered, or none, ✓ on the current one."""
    trainer = await _section(update, context)
    _ = context.gettext
    options = [
        [
            InlineKeyboardButton(
                _current(
                    f"{context.tr.hour(start)}–{context.tr.hour(end)}",
                    (trainer.quiet_start, trainer.quiet_end) == (start, end),
                ),
                callback_data=f"{QUIET_PREFIX}{start}-{end}",
            )
        ]
        for start, end in QUIET_CHOICES
    ]
    options.append(
        [
            InlineKeyboardButton(
                _current(_("No quiet hours"), trainer.quiet_start is None),
                callback_data=QUIET_PREFIX + "off",
            )
        ]
    )
    return await _show_section(
        update,
        context,
        _("When should repeated reminders wait until morning?"),
        InlineKeyboardMarkup(options),
    )


async def currency_section(update: Update, context: RecertContext) -> int:
    """Currency: the offered currencies, ✓ on the current one."""
    trainer = await _section(update, context)
    return await _show_section(
        update,
        context,
        context.gettext(
            "Which currency are your costs in? You can still type another with an amount, "
            "such as 120 € or 129 USD."
        ),
        currency_buttons(context, trainer),
    )


async def zone_section(update: Update, context: RecertContext) -> str:
    """Time zone: asks for it (Keep the one set, or « Back to the settings)."""
    trainer = await _section(update, context)
    await ask_time_zone(update, context, keep=trainer.time_zone)
    return TIME_ZONE


async def back_to_settings(update: Update, context: RecertContext) -> int:
    """« Back on a settings screen: the settings again, unchanged."""
    trainer = await _section(update, context)
    await show(update, *settings_view(context, trainer))
    return ConversationHandler.END


async def show_language_choice(update: Update, context: RecertContext) -> None:
    """/language: the languages as buttons."""
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        context.gettext("Which language should I speak?"),
        reply_markup=language_buttons(context.tr.language),
    )


async def language_chosen(update: Update, context: RecertContext) -> None:
    """Stores the language; this chat's command menu follows it."""
    assert update.callback_query is not None and update.callback_query.data is not None
    language = update.callback_query.data.removeprefix(LANGUAGE_PREFIX)  # shipped ones only
    trainer = await _store(update, context, language=language)
    context.use_language(language)
    user_id = update.callback_query.from_user.id
    await set_chat_menu(context.bot, user_id, context.tr, context.bot_data["commands"])
    note = context.gettext("Done: I'll speak {language}.").format(
        language=LANGUAGE_NAMES[language]
    )
    await _show_saved(update, context, note, trainer)


async def hour_chosen(update: Update, context: RecertContext) -> None:
    """Stores the reminder hour."""
    assert update.callback_query is not None and update.callback_query.data is not None
    hour = int(update.callback_query.data.removeprefix(HOUR_PREFIX))  # 0-23 only
    trainer = await _store(update, context, reminder_hour=hour)
    note = context.gettext("Done: reminders will arrive at {hour}.").format(
        hour=context.tr.hour(trainer.reminder_hour)
    )
    quiet = quiet_note(context, trainer)
    await _show_saved(
        update, context, note + ("\n\n" + quiet.rstrip("\n") if quiet else ""), trainer
    )


async def zone_chosen(update: Update, context: RecertContext, zone: str) -> int:
    """TIME_ZONE: stores the zone and ends, with the settings as they now stand."""
    await ensure_trainer(update, context)
    await save_zone(update, context, zone)
    assert context.trainer is not None
    text, buttons = settings_view(context, context.trainer)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text, reply_markup=buttons)
    return ConversationHandler.END


async def zone_left(update: Update, context: RecertContext) -> int:
    """TIME_ZONE, Keep or « Back: ends, with the settings again, unchanged."""
    trainer = await ensure_trainer(update, context)
    text, buttons = settings_view(context, trainer)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text, reply_markup=buttons)
    return ConversationHandler.END


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    zone_states = time_zone_handlers(zone_chosen, zone_left)
    states: dict[object, list[BaseHandler[Update, RecertContext, object]]] = {
        TIME_ZONE: zone_states
    }
    return [
        conversation(
            # Every settings button is an entry point: pressed while a city is awaited, it
            # ends that wait (the city typed next is not taken as the time zone).
            entry_points=[
                command("settings", show_settings),
                CallbackQueryHandler(zone_section, pattern=ZONE_SECTION),
                CallbackQueryHandler(language_section, pattern=LANGUAGE_SECTION),
                CallbackQueryHandler(hour_section, pattern=HOUR_SECTION),
                CallbackQueryHandler(intensity_section, pattern=INTENSITY_SECTION),
                CallbackQueryHandler(quiet_section, pattern=QUIET_SECTION),
                CallbackQueryHandler(currency_section, pattern=CURRENCY_SECTION),
                CallbackQueryHandler(back_to_settings, pattern=BACK_BUTTON),
            ],
            states={**states, **{number: states[name] for number, name in enumerate(NUMBERED)}},
            fallbacks=[command("cancel", cancel)],
            name="settings",
            persistent=True,
            allow_reentry=True,
        ),
        command("language", show_language_choice),
        CallbackQueryHandler(language_chosen, pattern=LANGUAGE_PATTERN),
        CallbackQueryHandler(hour_chosen, pattern=f"^{HOUR_PREFIX}(1?[0-9]|2[0-3])$"),
        CallbackQueryHandler(
            intensity_chosen, pattern=f"^{INTENSITY_PREFIX}(gentle|normal|intense)$"
        ),
        CallbackQueryHandler(
            currency_chosen, pattern=f"^{CURRENCY_PREFIX}({'|'.join(OFFERED_CURRENCIES)})$"
        ),
        CallbackQueryHandler(quiet_chosen, pattern=rf"^{QUIET_PREFIX}(off|22-8|21-9|23-7)$"),
        # A city button pressed after its conversation ended still sets the zone.
        zone_states[0],
    ]


FEATURE = Feature(
    "settings",
    handlers,
    commands=(
        Command("settings", N_("Time zone, reminder hour, language")),
        Command("language", N_("Change the language")),
    ),
    prefixes=(LANGUAGE_PREFIX, HOUR_PREFIX, "tz:", SECTION_PREFIX, INTENSITY_PREFIX, QUIET_PREFIX),
)
