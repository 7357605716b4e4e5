"""/history: a credential's credits, newest first, a page at a time (past cycles included).
Each entry can be opened to re-send its proof, edit its units, date or title, or delete it.
Only its owner can: every button is checked against the presser."""

from __future__ import annotations

import html
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.amounts import parse_amount
from bot.context import RecertContext
from bot.i18n import N_
from handlers import TYPED, command, conversation, parse_id, show
from handlers.add import has_control
from handlers.basics import cancel, leaving
from handlers.basics import edit_cancelled as edit_cancelled_in
from handlers.dateinput import read_date
from handlers.feature import Command, Feature
from handlers.log import LEAST_UNITS, MAX_TITLE, MAX_UNITS, amount_problem
from handlers.render import cost_currency, credential_name, units
from storage import credits
from storage.credentials import held_by, taking_credits
from storage.models import Credential, Credit

PREFIX = "hist:"
PAGE_SIZE = 5
# The states, by name (persisted as such): one per value edited.
UNITS = "units"
EARNED_ON = "earned_on"
TITLE = "title"
# Before they had names, the three were one state stored as 0, the field kept in the draft: an
# edit persisted then goes on after the deploy.
NUMBERED_EDIT = 0
# One pattern per button.
PAGE_BUTTON = rf"^{PREFIX}c:\d+:\d+$"
ITEM_BUTTON = rf"^{PREFIX}i:\d+$"
PROOF_BUTTON = rf"^{PREFIX}p:\d+$"
DELETE_BUTTON = rf"^{PREFIX}x:\d+$"
DELETED_BUTTON = rf"^{PREFIX}xy:\d+$"
EDIT_UNITS_BUTTON = rf"^{PREFIX}eu:\d+$"
EDIT_DATE_BUTTON = rf"^{PREFIX}ed:\d+$"
EDIT_TITLE_BUTTON = rf"^{PREFIX}et:\d+$"
BACK_BUTTON = rf"^{PREFIX}back:\d+$"
CANCEL_BUTTON = f"^{PREFIX}cancel$"


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=PREFIX + data)


async def start_history(update: Update, context: RecertContext) -> None:
    """/history: one credential's page straight away, or a choice of credentials."""
    user = update.effective_user
    assert user is not None
    every = await context.db.run(lambda session: held_by(session, user.id, context.catalog))
    held = taking_credits(every, context.catalog)  # a CPR/AED card has no credits to show
    _ = context.gettext
    if not every:
        await show(update, _("You have no credentials on file yet. Add one with /add."), None)
        return
    if not held:
        await show(
            update,
            _("You have no credentials that take credits yet. Add one with /add first."),
            None,
        )
        return
    if len(held) == 1 and held[0].credential.id is not None:
        await _page(update, context, held[0].credential.id, 0)
        return
    buttons = [
        _button(
            html.unescape(credential_name(h.credential, context.catalog)), f"c:{h.credential.id}:0"
        )
        for h in held
    ]
    await show(
        update,
        _("Which credential's credits should I show?"),
        InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
    )


async def _page(update: Update, context: RecertContext, credential_id: int, number: int) -> None:
    user = update.effective_user
    assert user is not None
    found = await context.db.run(
        lambda session: credits.page(session, user.id, credential_id, number, PAGE_SIZE)
    )
    _ = context.gettext
    if found is None:
        await _gone(update, context)
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    credential, entries, total = found
    entry = context.catalog.get(credential.catalog_id)
    name = credential_name(credential, context.catalog)
    if not total:
        await show(
            update,
            _("No credits logged for {name} yet. Log some with /log.").format(name=name),
            None,
        )
        return
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    number = min(number, pages - 1)
    lines = [
        _("<b>{name}</b>: credits, page {page} of {pages}").format(
            name=name, page=number + 1, pages=pages
        )
    ]
    rows = []
    for credit in entries:
        label = f"{context.tr.date(credit.earned_on)} · {units(context.tr, credit.units, entry)}"
        lines.append(
            f"• {label} · {html.escape(credit.title)}" + (" 📎" if credit.proof_file_id else "")
        )
        rows.append([_button(f"{label} · {credit.title[:24]}", f"i:{credit.id}")])
    nav = []
    if number > 0:
        nav.append(_button(_("‹ Newer"), f"c:{credential_id}:{number - 1}"))
    if number + 1 < pages:
        nav.append(_button(_("Older ›"), f"c:{credential_id}:{number + 1}"))
    if nav:
        rows.append(nav)
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


def _item_view(
    context: RecertContext, credit: Credit, credential: Credential
) -> tuple[str, InlineKeyboardMarkup]:
    _ = context.gettext
    entry = context.catalog.get(credential.catalog_id)
    tr = context.tr
    lines = [
        f"<b>{html.escape(credit.title)}</b>",
        _("For: {name}").format(name=credential_name(credential, context.catalog)),
        _("Credits: {units}").format(units=units(tr, credit.units, entry)),
        _("Earned: {date}").format(date=tr.date(credit.earned_on, "long")),
    ]
    if credit.provider:
        lines.append(_("Provider: {provider}").format(provider=html.escape(credit.provider)))
    if credit.cost is not None:
        currency = cost_currency(context, credit) or ""
        lines.append(_("Cost: {amount}").format(amount=tr.money(credit.cost, currency)))
    if credit.category:
        lines.append(_("Category: {category}").format(category=credit.category))
    rows = []
    if credit.proof_file_id:
        rows.append([_button(_("📎 Send the proof"), f"p:{credit.id}")])
    rows.append(
        [
            _button(_("Edit credits"), f"eu:{credit.id}"),
            _button(_("Edit date"), f"ed:{credit.id}"),
            _button(_("Edit title"), f"et:{credit.id}"),
        ]
    )
    rows.append(
        [_button(_("Delete"), f"x:{credit.id}"), _button(_("« Back"), f"c:{credential.id}:0")]
    )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def _gone(update: Update, context: RecertContext) -> int:
    query = update.callback_query
    text = context.gettext("That entry is not on file (any more).")
    if query is not None:
        await query.answer(text, show_alert=True)
    return ConversationHandler.END


def _numbers(update: Update) -> list[int] | None:
    """The ids in the button's data (`hist:c:12:0`: [12, 0]); None when one cannot name a
    row (a forged number past its column's range)."""
    assert update.callback_query is not None and update.callback_query.data is not None
    fields = update.callback_query.data.removeprefix(PREFIX).split(":")[1:]
    numbers = [number for number in map(parse_id, fields) if number is not None]
    return numbers if len(numbers) == len(fields) else None


async def _pressed(update: Update, context: RecertContext) -> tuple[Credit, Credential] | None:
    """The entry the button names and its credential, when the presser owns it; else the
    button is answered as one naming nothing."""
    user = update.effective_user
    assert user is not None
    numbers = _numbers(update)
    found = (
        await context.db.run(lambda session: credits.get(session, user.id, numbers[0]))
        if numbers
        else None
    )
    if found is None:
        await _gone(update, context)
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    return found


async def paged(update: Update, context: RecertContext) -> int:
    """A page of a credential's credits (also « Back from an entry)."""
    numbers = _numbers(update)
    if numbers is None:
        return await _gone(update, context)
    await _page(update, context, numbers[0], numbers[1])
    return ConversationHandler.END


async def item(update: Update, context: RecertContext) -> int:
    """An entry (also « Back and "Keep it"): its details and actions."""
    found = await _pressed(update, context)
    if found is not None:
        await show(update, *_item_view(context, *found))
    return ConversationHandler.END


async def proof(update: Update, context: RecertContext) -> int:
    """📎 Send the proof: the photo or file, again."""
    found = await _pressed(update, context)
    if found is None or not found[0].proof_file_id:
        return ConversationHandler.END
    credit = found[0]
    chat = update.effective_chat
    assert chat is not None and credit.proof_file_id is not None
    caption = html.escape(credit.title)
    if credit.proof_kind == "photo":
        await chat.send_photo(credit.proof_file_id, caption=caption)
    else:
        await chat.send_document(credit.proof_file_id, caption=caption)
    return ConversationHandler.END


async def delete_asked(update: Update, context: RecertContext) -> int:
    """Delete: asks to confirm."""
    found = await _pressed(update, context)
    if found is None:
        return ConversationHandler.END
    credit = found[0]
    _ = context.gettext
    await show(
        update,
        _("Delete “{title}”? This can't be undone.").format(title=html.escape(credit.title)),
        InlineKeyboardMarkup(
            [
                [
                    _button(_("Yes, delete it"), f"xy:{credit.id}"),
                    _button(_("Keep it"), f"i:{credit.id}"),
                ]
            ]
        ),
    )
    return ConversationHandler.END


async def delete_confirmed(update: Update, context: RecertContext) -> int:
    """Yes, delete it: the entry goes; « Back leads to the credential's credits."""
    found = await _pressed(update, context)
    if found is None:
        return ConversationHandler.END
    credit, credential = found
    user = update.effective_user
    assert user is not None and credit.id is not None
    credit_id = credit.id
    await context.db.run(lambda session: credits.remove(session, user.id, credit_id))
    await show(
        update,
        context.gettext("Deleted “{title}”.").format(title=html.escape(credit.title)),
        InlineKeyboardMarkup([[_button(context.gettext("« Back"), f"c:{credential.id}:0")]]),
    )
    return ConversationHandler.END


# -- editing ------------------------------------------------------------------------------

STATE_OF = {"eu": UNITS, "ed": EARNED_ON, "et": TITLE}


async def start_edit(update: Update, context: RecertContext) -> str | int:
    """Edit credits, date or title: asks for the new value."""
    found = await _pressed(update, context)
    if found is None:
        return ConversationHandler.END
    assert update.callback_query is not None and update.callback_query.data is not None
    state = STATE_OF[update.callback_query.data.removeprefix(PREFIX).split(":")[0]]
    assert context.user_data is not None
    context.user_data["history_edit"] = {"id": found[0].id, "field": state}
    return await _ask(update, context, state)


async def _ask(update: Update, context: RecertContext, state: str, note: str = "") -> str:
    _ = context.gettext
    assert context.user_data is not None
    credit_id = context.user_data["history_edit"]["id"]
    question = {
        UNITS: _("How many credits? Type a number, for example 0.5, or hours, such as 3h."),
        EARNED_ON: _("When was it earned? Type the date."),
        TITLE: _("What was the course or event called?"),
    }[state]
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        (note + "\n\n" if note else "") + question,
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    _button(_("« Back"), f"back:{credit_id}"),
                    _button(_("Cancel"), "cancel"),
                ]
            ]
        ),
    )
    return state


async def _units_typed(
    context: RecertContext, user_id: int, credit_id: int, text: str
) -> Decimal | None:
    """Credits typed as /log takes them ("0.5", "3h"): in the credential's units, as stored;
    None when it is not an amount, or hours its credential cannot convert."""
    amount = parse_amount(text)
    if amount is None or amount_problem(*amount):
        return None
    found = await context.db.run(lambda session: credits.get(session, user_id, credit_id))
    if found is None:
        return None
    value = credits.units_for(found[1], credits.Amount(*amount), context.catalog)
    return value if value is not None and 0 < value <= MAX_UNITS else None


def _typed(update: Update) -> str:
    message = update.effective_message
    assert message is not None
    return (message.text or "").strip()


async def units_typed(update: Update, context: RecertContext) -> str | int:
    """UNITS: stores the credits typed (a number, or hours such as 3h); ends with the entry."""
    user = update.effective_user
    assert user is not None and context.user_data is not None
    credit_id = context.user_data["history_edit"]["id"]
    value = await _units_typed(context, user.id, credit_id, _typed(update))
    if value is None:
        note = context.gettext(
            "Please type a number from {least} up to {limit}, or hours such as 3h."
        ).format(least=context.tr.number(LEAST_UNITS), limit=context.tr.number(MAX_UNITS))
        return await _ask(update, context, UNITS, note)
    return await _save(update, context, units=value)


async def date_typed(update: Update, context: RecertContext) -> str | int:
    """EARNED_ON: stores the date typed (in the past); ends with the entry."""
    parsed, reason = await read_date(context, _typed(update), expiry=False, earned=True)
    if parsed is None:
        return await _ask(update, context, EARNED_ON, reason)
    return await _save(update, context, earned_on=parsed.value)


async def title_typed(update: Update, context: RecertContext) -> str | int:
    """TITLE: stores the title typed (one line); ends with the entry."""
    text = _typed(update)
    if not text or len(text) > MAX_TITLE or has_control(text):
        note = context.gettext("Please type at most {limit} characters, on one line.")
        return await _ask(update, context, TITLE, note.format(limit=MAX_TITLE))
    return await _save(update, context, title=text)


async def numbered_typed(update: Update, context: RecertContext) -> str | int:
    """The state stored as 0 before the states had names: the draft says which value."""
    assert context.user_data is not None
    field = str((context.user_data.get("history_edit") or {}).get("field") or "")
    typed = {UNITS: units_typed, EARNED_ON: date_typed, TITLE: title_typed}.get(field)
    if typed is None:
        context.user_data.pop("history_edit", None)
        return ConversationHandler.END
    return await typed(update, context)


async def _save(update: Update, context: RecertContext, **change: object) -> int:
    """The value stored; the entry shown again with it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and context.user_data is not None
    credit_id = context.user_data.pop("history_edit")["id"]
    _ = context.gettext

    def save(session):  # type: ignore[no-untyped-def]
        if credits.update(session, user.id, credit_id, **change) is None:
            return None
        return credits.get(session, user.id, credit_id)

    found = await context.db.run(save)
    if found is None:
        await message.reply_text(_("That entry is not on file (any more)."))
        return ConversationHandler.END
    text, markup = _item_view(context, *found)
    await message.reply_text(_("Saved.") + "\n\n" + text, reply_markup=markup)
    return ConversationHandler.END


async def edit_left(update: Update, context: RecertContext) -> int:
    """« Back at an edit: the entry again, unchanged."""
    if context.user_data is not None:
        context.user_data.pop("history_edit", None)
    return await item(update, context)


edit_cancelled = edit_cancelled_in("history_edit")


# The buttons that work whenever they are pressed, by pattern.
VIEWS = (
    (paged, PAGE_BUTTON),
    (item, ITEM_BUTTON),
    (proof, PROOF_BUTTON),
    (delete_asked, DELETE_BUTTON),
    (delete_confirmed, DELETED_BUTTON),
)


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    typed = {UNITS: units_typed, EARNED_ON: date_typed, TITLE: title_typed}
    states: dict[object, list[BaseHandler[Update, RecertContext, object]]] = {
        state: [MessageHandler(TYPED, callback)] for state, callback in typed.items()
    }
    states[NUMBERED_EDIT] = [MessageHandler(TYPED, numbered_typed)]
    return [
        conversation(
            entry_points=[
                CallbackQueryHandler(start_edit, pattern=pattern)
                for pattern in (EDIT_UNITS_BUTTON, EDIT_DATE_BUTTON, EDIT_TITLE_BUTTON)
            ],
            states=states,
            fallbacks=[
                command("cancel", cancel),
                CallbackQueryHandler(edit_left, pattern=BACK_BUTTON),
                CallbackQueryHandler(edit_cancelled, pattern=CANCEL_BUTTON),
                *(
                    CallbackQueryHandler(leaving("history_edit", callback), pattern=pattern)
                    for callback, pattern in VIEWS
                ),
            ],
            name="history",
            drafts=("history_edit",),
            persistent=True,
            allow_reentry=True,
        ),
        command("history", start_history),
        *(CallbackQueryHandler(callback, pattern=pattern) for callback, pattern in VIEWS),
        # « Back of an edit that has ended meanwhile: the entry, as « Back shows it.
        CallbackQueryHandler(item, pattern=BACK_BUTTON),
    ]


FEATURE = Feature(
    "history",
    handlers,
    commands=(Command("history", N_("Credits logged, with their proofs")),),
    prefixes=(PREFIX,),
)
