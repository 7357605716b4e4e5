"""/credentials: the trainer's credentials; view one, edit its dates or number, mark it
renewed (the cycle rolls forward, the past one is kept), or remove it.

Every button names the credential by id and is checked against the presser: another
person's id, or a forged one, finds nothing.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import RecertContext
from bot.i18n import N_
from handlers import (
    SENT_NOT_TEXT,
    TYPED,
    command,
    conversation,
    parse_id,
    show,
    snap,
)
from handlers.add import MAX_NUMBER, has_control
from handlers.basics import cancel, leaving
from handlers.basics import edit_cancelled as edit_cancelled_in
from handlers.dateinput import read_date
from handlers.feature import Command, Feature
from handlers.render import (
    credential_name,
    cycle_lines,
    days_left,
    no_deadline_text,
    renewal_lines,
    standing_label,
    units,
)
from scheduler.cycles import (
    Cycle,
    CycleEnd,
    RuleError,
    cycle_from_expiry,
    cycle_from_start,
    next_cycle,
)
from scheduler.standing import Standing
from storage import credentials
from storage.credentials import Held, rule_for
from storage.models import Credential

PREFIX = "cred:"
# The states, by name (persisted as such: an edit survives a restart).
EDIT_DATE = "edit_date"
EDIT_NUMBER = "edit_number"
# The numbers these states were stored as before they had names: an edit persisted then goes
# on after the deploy at the state it was in.
NUMBERED = (EDIT_DATE, EDIT_NUMBER)
# One pattern per button.
LIST_BUTTON = f"^{PREFIX}l$"
VIEW_BUTTON = rf"^{PREFIX}v:\d+$"
RENEW_BUTTON = rf"^{PREFIX}r:\d+$"
RENEWED_BUTTON = rf"^{PREFIX}ry:\d+:(\d{{4}}-\d{{2}}-\d{{2}})?$"  # the cycle end it renews
REMOVE_BUTTON = rf"^{PREFIX}x:\d+$"
REMOVED_BUTTON = rf"^{PREFIX}xy:\d+$"
EDIT_DATE_BUTTON = rf"^{PREFIX}d:\d+$"
EDIT_NUMBER_BUTTON = rf"^{PREFIX}n:\d+$"
MODE_BUTTON = rf"^{PREFIX}mode:\d+$"
NUMBER_REMOVED_BUTTON = rf"^{PREFIX}nx:\d+$"
BACK_BUTTON = rf"^{PREFIX}back:\d+$"
CANCEL_BUTTON = f"^{PREFIX}cancel$"


def _button(label: str, action: str, credential_id: int | None = None, extra: str = "") -> Any:
    data = f"{PREFIX}{action}" + (f":{credential_id}" if credential_id is not None else "")
    return InlineKeyboardButton(label, callback_data=data + (f":{extra}" if extra else ""))


def _standing(context: RecertContext, held: Held) -> Standing:
    assert held.holding is not None
    return context.standing(held.holding, held.earned)


def list_view(context: RecertContext, held: list[Held]) -> tuple[str, InlineKeyboardMarkup | None]:
    _ = context.gettext
    if not held:
        return _("You have no credentials on file yet. Add one with /add."), None
    today = context.today()
    lines = [_("<b>Your credentials</b>")]
    for h in held:
        credential = h.credential
        name = credential_name(credential, context.catalog)
        standing = _standing(context, h)
        if standing.deadline is None:
            entry = context.catalog.get(credential.catalog_id)
            lines.append(
                _("• {name}: {state}").format(
                    name=name, state=no_deadline_text(context.tr, entry, True)
                )
            )
        else:
            lines.append(
                _("• {name}: expires {date} ({left}), {state}").format(
                    name=name,
                    date=context.tr.date(standing.deadline, "long"),
                    left=days_left(context.tr, standing.deadline, today),
                    state=standing_label(context.tr, standing.state),
                )
            )
    lines.append("")
    lines.append(_("Choose one to edit, renew or remove it. Add more with /add."))
    buttons = [
        _button(
            html.unescape(credential_name(h.credential, context.catalog)), "v", h.credential.id
        )
        for h in held
    ]
    return "\n".join(lines), InlineKeyboardMarkup(
        [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    )


def detail_view(context: RecertContext, held: Held, past: int) -> tuple[str, InlineKeyboardMarkup]:
    _ = context.gettext
    credential = held.credential
    entry = context.catalog.get(credential.catalog_id)
    cycle = Cycle(credential.cycle_start, credential.cycle_end, credential.units_required)
    standing = _standing(context, held)
    title = f"<b>{credential_name(credential, context.catalog)}</b>"
    if entry is not None:
        title += f" ({html.escape(entry.full_name)})"
    lines = [
        title,
        *cycle_lines(
            context.tr,
            entry,
            cycle,
            context.today(),
            certified_on=credential.certified_on,
            standing=standing,
        ),
    ]
    if credential.units_required:
        lines.append(
            _("Credits this cycle: {earned} of {required}").format(
                earned=units(context.tr, standing.counted, entry),
                required=units(context.tr, credential.units_required, entry),
            )
        )
    if credential.number:
        lines.append(_("Number: {number}").format(number=html.escape(credential.number)))
    if past:
        lines.append(
            context.ngettext(
                "{count} earlier cycle in the history",
                "{count} earlier cycles in the history",
                past,
            ).format(count=past)
        )
    buttons = InlineKeyboardMarkup(
        [
            [
                _button(_("Edit dates"), "d", credential.id),
                _button(_("Edit number"), "n", credential.id),
            ],
            [
                _button(_("I renewed"), "r", credential.id),
                _button(_("Remove"), "x", credential.id),
            ],
            *(
                [
                    [
                        InlineKeyboardButton(
                            _("Resume reminders"), callback_data=f"nudge:resume:{credential.id}"
                        )
                    ]
                ]
                if credential.nudges_stopped
                else []
            ),
            [_button(_("« All credentials"), "l")],
        ]
    )
    return "\n".join(lines), buttons


async def _held(
    context: RecertContext, user_id: int, credential_id: int
) -> tuple[Held, int] | None:
    def load(session):  # type: ignore[no-untyped-def]
        credential = credentials.owned(session, user_id, credential_id)
        if credential is None:
            return None
        past = len(credentials.past_cycles(session, user_id, credential_id))
        return credentials.held_one(session, credential, context.catalog), past

    return await context.db.run(load)


async def show_list(update: Update, context: RecertContext) -> int:
    """/credentials: every credential with its deadline, as buttons."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    held = await context.db.run(
        lambda session: credentials.held_by(session, user.id, context.catalog)
    )
    text, buttons = list_view(context, held)
    await chat.send_message(text, reply_markup=buttons)
    return ConversationHandler.END


async def _gone(update: Update, context: RecertContext) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer(
        context.gettext("That credential is not on file (any more)."), show_alert=True
    )
    return ConversationHandler.END


async def _pressed(update: Update, context: RecertContext) -> tuple[Held, int, str] | None:
    """The credential the button names, its past cycles and its name, when the presser holds
    it; else the button is answered as one naming nothing (forged, or removed meanwhile)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    credential_id = parse_id(query.data.removeprefix(PREFIX).split(":")[1])
    loaded = await _held(context, user.id, credential_id) if credential_id is not None else None
    if loaded is None:
        await _gone(update, context)
        return None
    held, past = loaded
    return held, past, credential_name(held.credential, context.catalog)


async def all_credentials(update: Update, context: RecertContext) -> int:
    """« All credentials: the list again."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await query.answer()
    every = await context.db.run(
        lambda session: credentials.held_by(session, user.id, context.catalog)
    )
    await show(update, *list_view(context, every))
    return ConversationHandler.END


async def viewed(update: Update, context: RecertContext) -> int:
    """A credential (also « Back, "Not yet" and "Keep it"): its cycle, credits and actions."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    held, past, _name = pressed
    assert update.callback_query is not None
    await update.callback_query.answer()
    await show(update, *detail_view(context, held, past))
    return ConversationHandler.END


async def renew_asked(update: Update, context: RecertContext) -> int:
    """I renewed: asks to confirm the next cycle."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    held, _past, name = pressed
    return await _ask_renew(update, context, held, name)


async def renew_confirmed(update: Update, context: RecertContext) -> int:
    """Yes, I renewed: the cycle rolls forward (once, whatever the presses)."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    assert update.callback_query is not None and update.callback_query.data is not None
    cycle_end = update.callback_query.data.split(":")[3]
    return await _renew(update, context, pressed[0].credential, cycle_end)


async def remove_asked(update: Update, context: RecertContext) -> int:
    """Remove: asks to confirm, saying what goes with it."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    held, _past, name = pressed
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    credential_id = held.credential.id
    assert credential_id is not None
    await query.answer()
    _ = context.gettext
    count = await context.db.run(
        lambda session: credentials.credit_count(session, user.id, credential_id)
    )
    consequence = (
        context.ngettext(
            "Its {count} credit entry goes too. This can't be undone.",
            "Its {count} credit entries go too. This can't be undone.",
            count,
        ).format(count=count)
        if count
        else _("This can't be undone.")
    )
    await show(
        update,
        _("Remove {name}?").format(name=name) + " " + consequence,
        InlineKeyboardMarkup(
            [
                [
                    _button(_("Yes, remove it"), "xy", credential_id),
                    _button(_("Keep it"), "v", credential_id),
                ]
            ]
        ),
    )
    return ConversationHandler.END


async def remove_confirmed(update: Update, context: RecertContext) -> int:
    """Yes, remove it: the credential goes, with its credits."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    held, _past, name = pressed
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    credential_id = held.credential.id
    assert credential_id is not None
    await query.answer()
    await context.db.run(lambda session: credentials.remove(session, user.id, credential_id))
    await show(update, context.gettext("Removed {name}.").format(name=name), None)
    return ConversationHandler.END


async def _ask_renew(update: Update, context: RecertContext, held: Held, name: str) -> int:
    credential = held.credential
    query = update.callback_query
    assert query is not None
    _ = context.gettext
    rule = rule_for(credential, context.catalog)
    current = Cycle(credential.cycle_start, credential.cycle_end, credential.units_required)
    try:
        following = next_cycle(rule, current)
    except RuleError:
        await query.answer(
            _(
                "This credential has no fixed cycle: use “Edit dates” to type "
                "the new expiry date from your card, or send a photo of it there."
            ),
            show_alert=True,
        )
        return ConversationHandler.END
    await query.answer()
    entry = context.catalog.get(credential.catalog_id)
    text = _(
        "Mark {name} renewed? The new cycle runs from {start} to {end} and needs "
        "{units}. The credits of the current cycle stay in its history."
    ).format(
        name=name,
        start=context.tr.date(following.start, "long"),
        end=context.tr.date(following.end, "long") if following.end else "—",
        units=units(context.tr, following.units_required, entry),
    )
    text = "\n\n".join([text, *renewal_lines(context.tr, _standing(context, held), entry)])
    # The button carries the cycle it renews: pressed twice, it cannot roll forward twice.
    current_end = credential.cycle_end.isoformat() if credential.cycle_end else ""
    await show(
        update,
        text,
        InlineKeyboardMarkup(
            [
                [
                    _button(_("Yes, I renewed"), "ry", credential.id, current_end),
                    _button(_("Not yet"), "v", credential.id),
                ]
            ]
        ),
    )
    return ConversationHandler.END


async def _renew(
    update: Update, context: RecertContext, credential: Credential, cycle_end: str
) -> int:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None and credential.id is not None
    _ = context.gettext
    if credential.cycle_end is None or credential.cycle_end.isoformat() != cycle_end:
        await query.answer(_("Already done: that cycle was renewed."), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    rule = rule_for(credential, context.catalog)
    following = next_cycle(
        rule, Cycle(credential.cycle_start, credential.cycle_end, credential.units_required)
    )
    credential_id = credential.id
    await context.db.run(
        lambda session: credentials.renew(
            session, user.id, credential_id, following, context.catalog
        )
    )
    loaded = await _held(context, user.id, credential_id)
    assert loaded is not None
    text, buttons = detail_view(context, *loaded)
    await show(update, _("Renewed ✅ A new cycle has begun.") + "\n\n" + text, buttons)
    return ConversationHandler.END


# -- editing ------------------------------------------------------------------------------


async def start_edit(update: Update, context: RecertContext) -> str | int:
    """ "Edit dates" or "Edit number": asks for the new value."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return ConversationHandler.END
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    credential = pressed[0].credential
    entry = context.catalog.get(credential.catalog_id)
    expiry = entry is not None and (
        entry.ask_card_date or entry.rule.cycle_end is CycleEnd.CARD_ONLY
    )
    assert context.user_data is not None
    context.user_data["edit"] = {"id": credential.id, "expiry": expiry}
    step = EDIT_DATE if query.data.startswith(PREFIX + "d:") else EDIT_NUMBER
    return await _ask_edit(update, context, step)


def _nav(context: RecertContext, credential_id: int) -> list[InlineKeyboardButton]:
    """« Back to the credential, or Cancel: either leaves the value as it was."""
    _ = context.gettext
    return [
        _button(_("« Back"), "back", credential_id),
        InlineKeyboardButton(_("Cancel"), callback_data=PREFIX + "cancel"),
    ]


async def _ask_edit(update: Update, context: RecertContext, step: str, note: str = "") -> str:
    _ = context.gettext
    assert context.user_data is not None
    edit = context.user_data["edit"]
    nav = _nav(context, edit["id"])
    if step == EDIT_DATE:
        example = context.tr.date(date(2025, 3, 15), "short")
        if edit["expiry"]:
            text = _(
                "Type the expiry date printed on your card, for example {example}, or send "
                "a photo or PDF of the card."
            )
        else:
            text = _("Type the date you certified or last renewed, for example {example}.")
        text = text.format(example=example)
        switch = _button(
            _("I have the date I certified")
            if edit["expiry"]
            else _("I have the expiry date instead"),
            "mode",
            edit["id"],
        )
        buttons = InlineKeyboardMarkup([[switch], nav])
    else:
        text = _("Type the new credential number (only you will see it), or remove it.")
        buttons = InlineKeyboardMarkup([[_button(_("Remove the number"), "nx", edit["id"])], nav])
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message((note + "\n\n" if note else "") + text, reply_markup=buttons)
    return step


async def switch_mode(update: Update, context: RecertContext) -> str | int:
    """EDIT_DATE, the other kind of date: asks for it (certified, or the card's expiry)."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    await query.answer()
    edit = context.user_data.get("edit")
    if not edit:
        return ConversationHandler.END
    edit["expiry"] = not edit["expiry"]
    return await _ask_edit(update, context, EDIT_DATE)


async def date_typed(update: Update, context: RecertContext) -> str | int:
    """EDIT_DATE: stores the cycle worked out again from the date typed; ends with the
    credential (or asks again, saying why)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and context.user_data is not None
    edit = context.user_data["edit"]
    parsed, reason = await read_date(context, message.text or "", expiry=edit["expiry"])
    if parsed is None:
        return await _ask_edit(update, context, EDIT_DATE, reason)
    loaded = await _held(context, user.id, edit["id"])
    if loaded is None:
        context.user_data.pop("edit", None)
        await message.reply_text(context.gettext("That credential is not on file (any more)."))
        return ConversationHandler.END
    credential = loaded[0].credential
    rule = rule_for(credential, context.catalog)
    if edit["expiry"]:
        cycle, certified = cycle_from_expiry(rule, parsed.value), None
    else:
        cycle, certified = cycle_from_start(rule, parsed.value, context.today()), parsed.value
    credential_id = edit["id"]
    await context.db.run(
        lambda session: credentials.set_cycle(session, user.id, credential_id, cycle, certified)
    )
    return await _after_edit(update, context, context.gettext("Dates updated."))


async def number_typed(update: Update, context: RecertContext) -> str | int:
    """EDIT_NUMBER: stores the number typed; ends with the credential (or asks again)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and context.user_data is not None
    text = (message.text or "").strip()
    if not text or len(text) > MAX_NUMBER or has_control(text):
        return await _ask_edit(
            update,
            context,
            EDIT_NUMBER,
            context.gettext(
                "A credential number has at most {limit} characters, without line breaks or "
                "special characters."
            ).format(limit=MAX_NUMBER),
        )
    credential_id = context.user_data["edit"]["id"]
    await context.db.run(
        lambda session: credentials.set_number(session, user.id, credential_id, text)
    )
    return await _after_edit(update, context, context.gettext("Number updated."))


async def number_removed(update: Update, context: RecertContext) -> int:
    """EDIT_NUMBER, "Remove the number": stores none; ends with the credential."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None and context.user_data is not None
    await query.answer()
    edit = context.user_data.get("edit")
    if not edit:
        return ConversationHandler.END
    credential_id = edit["id"]
    await context.db.run(
        lambda session: credentials.set_number(session, user.id, credential_id, None)
    )
    return await _after_edit(update, context, context.gettext("Number removed."))


async def _after_edit(update: Update, context: RecertContext, done: str) -> int:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None and context.user_data is not None
    credential_id = context.user_data.pop("edit")["id"]
    loaded = await _held(context, user.id, credential_id)
    if loaded is None:
        return ConversationHandler.END
    text, buttons = detail_view(context, *loaded)
    await chat.send_message(done + "\n\n" + text, reply_markup=buttons)
    return ConversationHandler.END


async def expect_text(update: Update, context: RecertContext) -> None:
    """A sticker or photo while a new value is awaited."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(context.gettext("Please type the new value, or press Cancel."))
    return None


async def edit_left(update: Update, context: RecertContext) -> int:
    """« Back at an edit: the credential again, unchanged."""
    if context.user_data is not None:
        context.user_data.pop("edit", None)
    return await viewed(update, context)


edit_cancelled = edit_cancelled_in("edit")


# The buttons that work whenever they are pressed, by pattern.
VIEWS = (
    (all_credentials, LIST_BUTTON),
    (viewed, VIEW_BUTTON),
    (renew_asked, RENEW_BUTTON),
    (renew_confirmed, RENEWED_BUTTON),
    (remove_asked, REMOVE_BUTTON),
    (remove_confirmed, REMOVED_BUTTON),
)


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    states: dict[object, list[BaseHandler[Update, RecertContext, object]]] = {
        EDIT_DATE: [
            MessageHandler(TYPED, date_typed),
            # A photo or PDF of the renewed card: read for its expiry (handlers.snap).
            MessageHandler(filters.PHOTO | filters.Document.ALL, snap.card_sent),
            CallbackQueryHandler(snap.use_expiry, pattern=snap.USE_EXPIRY),
            CallbackQueryHandler(switch_mode, pattern=MODE_BUTTON),
        ],
        EDIT_NUMBER: [
            MessageHandler(TYPED, number_typed),
            CallbackQueryHandler(number_removed, pattern=NUMBER_REMOVED_BUTTON),
        ],
    }
    return [
        conversation(
            entry_points=[
                CallbackQueryHandler(start_edit, pattern=EDIT_DATE_BUTTON),
                CallbackQueryHandler(start_edit, pattern=EDIT_NUMBER_BUTTON),
            ],
            states={**states, **{number: states[name] for number, name in enumerate(NUMBERED)}},
            fallbacks=[
                command("cancel", cancel),
                CallbackQueryHandler(edit_left, pattern=BACK_BUTTON),
                CallbackQueryHandler(edit_cancelled, pattern=CANCEL_BUTTON),
                *(
                    CallbackQueryHandler(leaving("edit", callback), pattern=pattern)
                    for callback, pattern in VIEWS
                ),
                MessageHandler(SENT_NOT_TEXT, expect_text),
            ],
            name="credentials",
            drafts=("edit",),
            persistent=True,
            allow_reentry=True,
        ),
        command("credentials", show_list),
        *(CallbackQueryHandler(callback, pattern=pattern) for callback, pattern in VIEWS),
        # « Back of an edit that has ended meanwhile: the credential, as « Back shows it.
        CallbackQueryHandler(viewed, pattern=BACK_BUTTON),
    ]


FEATURE = Feature(
    "credentials",
    handlers,
    commands=(Command("credentials", N_("Your credentials")),),
    prefixes=(PREFIX,),
    # At "Edit dates" a photo is the card: before /log's "a photo sent on its own".
    routes_first=True,
)
