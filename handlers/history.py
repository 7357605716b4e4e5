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
from handlers.basics import cancel
from handlers.dateinput import read_date
from handlers.feature import Command, Feature
from handlers.log import LEAST_UNITS, MAX_TITLE, MAX_UNITS, amount_problem
from handlers.render import cost_currency, credential_name, units
from storage import credits
from storage.credentials import held_by, taking_credits
from storage.models import Credential, Credit

PREFIX = "hist:"
PAGE_SIZE = 5
EDIT = 0


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


async def button(update: Update, context: RecertContext) -> int:
    """Pages, entries, proofs and deletion."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    action, *fields = query.data.removeprefix(PREFIX).split(":")
    numbers = [number for number in map(parse_id, fields) if number is not None]
    if not numbers or len(numbers) != len(fields):
        return await _gone(update, context)
    if action == "c" and len(numbers) == 2:
        await _page(update, context, numbers[0], numbers[1])
        return ConversationHandler.END
    credit_id = numbers[0]
    found = await context.db.run(lambda session: credits.get(session, user.id, credit_id))
    if found is None:
        return await _gone(update, context)
    credit, credential = found
    _ = context.gettext
    await query.answer()
    if action == "i":
        await show(update, *_item_view(context, credit, credential))
    elif action == "p" and credit.proof_file_id:
        chat = update.effective_chat
        assert chat is not None
        caption = html.escape(credit.title)
        if credit.proof_kind == "photo":
            await chat.send_photo(credit.proof_file_id, caption=caption)
        else:
            await chat.send_document(credit.proof_file_id, caption=caption)
    elif action == "x":
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
    elif action == "xy":
        await context.db.run(lambda session: credits.remove(session, user.id, credit_id))
        await show(
            update,
            _("Deleted “{title}”.").format(title=html.escape(credit.title)),
            InlineKeyboardMarkup([[_button(_("« Back"), f"c:{credential.id}:0")]]),
        )
    return ConversationHandler.END


# -- editing ------------------------------------------------------------------------------

FIELDS = {"eu": "units", "ed": "earned_on", "et": "title"}


async def start_edit(update: Update, context: RecertContext) -> int:
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    action, _sep, raw = query.data.removeprefix(PREFIX).partition(":")
    credit_id = parse_id(raw)
    found = (
        await context.db.run(lambda session: credits.get(session, user.id, credit_id))
        if credit_id is not None
        else None
    )
    if found is None:
        return await _gone(update, context)
    await query.answer()
    assert context.user_data is not None
    context.user_data["history_edit"] = {"id": credit_id, "field": FIELDS[action]}
    return await _ask(update, context)


async def _ask(update: Update, context: RecertContext, note: str = "") -> int:
    _ = context.gettext
    assert context.user_data is not None
    field = context.user_data["history_edit"]["field"]
    question = {
        "units": _("How many credits? Type a number, for example 0.5, or hours, such as 3h."),
        "earned_on": _("When was it earned? Type the date."),
        "title": _("What was the course or event called?"),
    }[field]
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        (note + "\n\n" if note else "") + question,
        reply_markup=(
            InlineKeyboardMarkup(
                [[_button(_("Cancel"), f"i:{context.user_data['history_edit']['id']}")]]
            )
        ),
    )
    return EDIT


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


async def typed(update: Update, context: RecertContext) -> int:
    """The new value: checked, stored, and the entry shown again."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and context.user_data is not None
    edit = context.user_data["history_edit"]
    text = (message.text or "").strip()
    _ = context.gettext
    value: object
    if edit["field"] == "units":
        value = await _units_typed(context, user.id, edit["id"], text)
        if value is None:
            return await _ask(
                update,
                context,
                _("Please type a number from {least} up to {limit}, or hours such as 3h.").format(
                    least=context.tr.number(LEAST_UNITS), limit=context.tr.number(MAX_UNITS)
                ),
            )
    elif edit["field"] == "earned_on":
        parsed, reason = await read_date(context, text, expiry=False, earned=True)
        if parsed is None:
            return await _ask(update, context, reason)
        value = parsed.value
    else:
        if not text or len(text) > MAX_TITLE or has_control(text):
            return await _ask(
                update,
                context,
                _("Please type at most {limit} characters, on one line.").format(limit=MAX_TITLE),
            )
        value = text
    credit_id, field = edit["id"], edit["field"]

    def save(session):  # type: ignore[no-untyped-def]
        if credits.update(session, user.id, credit_id, **{field: value}) is None:
            return None
        return credits.get(session, user.id, credit_id)

    found = await context.db.run(save)
    context.user_data.pop("history_edit", None)
    if found is None:
        await message.reply_text(_("That entry is not on file (any more)."))
        return ConversationHandler.END
    text_, markup = _item_view(context, *found)
    await message.reply_text(_("Saved.") + "\n\n" + text_, reply_markup=markup)
    return ConversationHandler.END


async def leave_edit(update: Update, context: RecertContext) -> int:
    if context.user_data is not None:
        context.user_data.pop("history_edit", None)
    return await button(update, context)


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    views = f"^{PREFIX}(c|i|p|x|xy):"
    return [
        conversation(
            entry_points=[CallbackQueryHandler(start_edit, pattern=rf"^{PREFIX}e[udt]:\d+$")],
            states={EDIT: [MessageHandler(TYPED, typed)]},
            fallbacks=[
                command("cancel", cancel),
                CallbackQueryHandler(leave_edit, pattern=views),
            ],
            name="history",
            drafts=("history_edit",),
            persistent=True,
            allow_reentry=True,
        ),
        command("history", start_history),
        CallbackQueryHandler(button, pattern=views),
    ]


FEATURE = Feature(
    "history",
    handlers,
    commands=(Command("history", N_("Credits logged, with their proofs")),),
    prefixes=(PREFIX,),
)
