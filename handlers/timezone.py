"""Choosing a time zone: share a location, press a suggested city, or type a city or offset.

Used by /start and /settings; each passes what to do once the zone is chosen.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.context import RecertContext
from bot.gazetteer import Place
from bot.i18n import Translator
from bot.timezones import SUGGESTED_ZONES, is_valid_zone, zone_at
from handlers import SENT_NOT_TEXT, TYPED, drop_buttons
from storage import trainers

ZONE_PREFIX = "tz:"
ZONE_PATTERN = f"^{ZONE_PREFIX}[A-Z]"  # IANA ids start with a capital: Europe/..., UTC, Etc/
BACK, KEEP = "tz:back", "tz:keep"
OnChosen = Callable[[Update, RecertContext, str], Awaitable[object]]
OnLeft = Callable[[Update, RecertContext], Awaitable[object]]


def zone_label(translator: Translator, zone: str, now: datetime | None = None) -> str:
    """`Madrid (UTC+01:00)`: the city in the user's language and today's offset."""
    name = translator.zone_name(zone)
    if name.startswith("UTC"):  # an offset zone is named by its offset already
        return name
    moment = (now or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(zone))
    offset = moment.strftime("%z")
    return f"{name} (UTC{offset[:3]}:{offset[3:]})"


def place_label(translator: Translator, place: Place) -> str:
    """`Barcelona, Spain (UTC+01:00)`: the place as typed, its country, today's offset."""
    label = zone_label(translator, place.zone)
    if not place.country or not label.endswith(")"):
        return label
    country = translator.locale.territories.get(place.country, place.country)
    return f"{place.name}, {country} ({label.rpartition(' (')[2]}"


def zone_buttons(
    translator: Translator, zones: list[str] | tuple[str, ...]
) -> InlineKeyboardMarkup:
    return _in_pairs(
        [
            InlineKeyboardButton(zone_label(translator, zone), callback_data=ZONE_PREFIX + zone)
            for zone in zones
        ]
    )


def _in_pairs(buttons: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def _way_out(translator: Translator, keep: str | None) -> list[list[InlineKeyboardButton]]:
    """Keep the zone set (in /settings, when there is one), and Back to the step before."""
    back = [InlineKeyboardButton(translator.gettext("« Back"), callback_data=BACK)]
    if keep:
        label = translator.gettext("Keep {zone}").format(zone=zone_label(translator, keep))
        return [[InlineKeyboardButton(label, callback_data=KEEP)], back]
    return [back]


async def ask_time_zone(update: Update, context: RecertContext, keep: str | None = None) -> None:
    """Two messages: the reply keyboard with the location button, then suggested cities and
    the ways out (Keep the zone set, when there is one, and Back)."""
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    location_keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(_("📍 Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await chat.send_message(
        _(
            "Which time zone are you in? I send reminders at your local time.\n\n"
            "Share your location with the button below, or type your city "
            "(for example <i>Madrid</i>) or a UTC offset (for example <i>UTC+3</i>)."
        ),
        reply_markup=location_keyboard,
    )
    suggestions = SUGGESTED_ZONES.get(context.tr.language, SUGGESTED_ZONES["en"])
    buttons = zone_buttons(context.tr, (*suggestions, "UTC"))
    await chat.send_message(
        _("Or pick one of these:"),
        reply_markup=InlineKeyboardMarkup([*buttons.inline_keyboard, *_way_out(context.tr, keep)]),
    )


async def save_zone(update: Update, context: RecertContext, zone: str) -> None:
    user = update.effective_user
    assert user is not None
    context.trainer = await context.db.run(
        lambda session: trainers.update(session, user.id, time_zone=zone)
    )
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        _("Time zone set: {zone}.").format(zone=html.escape(zone_label(context.tr, zone))),
        reply_markup=ReplyKeyboardRemove(),
    )


def time_zone_handlers(
    on_chosen: OnChosen, on_left: OnLeft
) -> list[BaseHandler[Update, RecertContext, object]]:
    """The handlers of a conversation state that waits for a time zone; `on_left` is called
    on Back or Keep (the zone stays as it is)."""

    async def left(update: Update, context: RecertContext) -> object:
        """Back or Keep was pressed: nothing is stored."""
        query = update.callback_query
        assert query is not None
        await query.answer()
        await drop_buttons(query)
        chat = update.effective_chat
        assert chat is not None and query.data is not None
        if context.trainer and context.trainer.time_zone:  # Keep, or Back in /settings
            await chat.send_message(  # and the location keyboard goes
                context.gettext("Time zone unchanged: {zone}.").format(
                    zone=html.escape(zone_label(context.tr, context.trainer.time_zone))
                ),
                reply_markup=ReplyKeyboardRemove(),
            )
        return await on_left(update, context)

    async def from_button(update: Update, context: RecertContext) -> object:
        """A suggested or offered city was pressed."""
        query = update.callback_query
        assert query is not None and query.data is not None
        await query.answer()
        zone = query.data.removeprefix(ZONE_PREFIX)
        if not is_valid_zone(zone):  # forged or from an older release
            return await ask_again(update, context)
        await drop_buttons(query)
        return await on_chosen(update, context, zone)

    async def from_location(update: Update, context: RecertContext) -> object:
        """A location was shared: look its zone up (off the loop, the data is on disk)."""
        message = update.effective_message
        assert message is not None and message.location is not None
        zone = await asyncio.to_thread(
            zone_at, message.location.latitude, message.location.longitude
        )
        if zone is None:
            await message.reply_text(
                context.gettext(
                    "I could not find a time zone for that place. Type your city or a UTC "
                    "offset instead."
                )
            )
            return None
        return await on_chosen(update, context, zone)

    async def from_text(update: Update, context: RecertContext) -> object:
        """A city or offset was typed: one match is taken, several are offered as buttons."""
        message = update.effective_message
        assert message is not None and message.text is not None
        _ = context.gettext
        places = context.zones.suggest(message.text[:100])
        if len(places) == 1:
            return await on_chosen(update, context, places[0].zone)
        if places:
            await message.reply_text(
                context.ngettext(
                    "I know {count} place by that name. Which one do you mean?",
                    "I know {count} places by that name. Which one do you mean?",
                    len(places),
                ).format(count=len(places)),
                reply_markup=_in_pairs(
                    [
                        InlineKeyboardButton(
                            place_label(context.tr, place),
                            callback_data=ZONE_PREFIX + place.zone,
                        )
                        for place in places
                    ]
                ),
            )
            return None
        await message.reply_text(
            _(
                "I don't know a place called “{text}”. Try the nearest big city, a UTC offset "
                "such as UTC-5, or share your location."
            ).format(text=html.escape(message.text[:100]))
        )
        return None

    async def ask_again(update: Update, context: RecertContext) -> object:
        """Anything else (a sticker, a photo): say what is expected."""
        message = update.effective_message
        assert message is not None
        await message.reply_text(
            context.gettext(
                "I need your time zone: type a city or a UTC offset, press one of the buttons, "
                "or share your location."
            )
        )
        return None

    return [
        CallbackQueryHandler(from_button, pattern=ZONE_PATTERN),
        CallbackQueryHandler(left, pattern=f"^({BACK}|{KEEP})$"),
        MessageHandler(filters.UpdateType.MESSAGE & filters.LOCATION, from_location),
        MessageHandler(TYPED, from_text),
        MessageHandler(SENT_NOT_TEXT, ask_again),
    ]
