"""/add: register a credential, step by step.

Body → credential → date (certified, or the expiry on the card) → number (optional) →
confirmation. Something not in the catalog goes body → name → cycle → credits → date. Back and
Cancel work at every step; the answers so far live in `user_data["add"]`, which is persisted,
so the conversation survives a restart.
"""

from __future__ import annotations

import html
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.context import RecertContext
from bot.i18n import N_
from handlers import SENT_NOT_TEXT, TYPED, command, conversation, drop_buttons, is_number, parse_id
from handlers.basics import cancel, ensure_trainer
from handlers.dateinput import read_date
from handlers.feature import Command, Feature
from handlers.render import credential_name, cycle_lines, units
from scheduler.cycles import Cycle, CycleEnd, Rule, State, cycle_from_expiry, cycle_from_start
from scheduler.standing import Holding
from storage import credentials
from storage.catalog import CatalogEntry

(BODY, CREDENTIAL, DUPLICATE, DATE, NUMBER, CONFIRM, CUSTOM_NAME, CUSTOM_CYCLE, CUSTOM_UNITS) = (
    range(9)
)
PREFIX = "add:"
MAX_NUMBER = 40
MAX_NAME = 60
MAX_CYCLE_MONTHS = 120
MAX_UNITS = Decimal(1000)
EXAMPLE_DATE = date(2025, 3, 15)

BACK = {
    CREDENTIAL: BODY,
    DUPLICATE: CREDENTIAL,
    NUMBER: DATE,
    CONFIRM: NUMBER,
    CUSTOM_NAME: BODY,
    CUSTOM_CYCLE: CUSTOM_NAME,
    CUSTOM_UNITS: CUSTOM_CYCLE,
}


def _draft(context: RecertContext) -> dict[str, Any]:
    user_data = context.user_data
    assert user_data is not None
    return user_data.setdefault("add", {})  # type: ignore[no-any-return]


def _entry(context: RecertContext) -> CatalogEntry | None:
    return context.catalog.get(_draft(context).get("catalog_id"))


def _rule(context: RecertContext) -> Rule:
    entry = _entry(context)
    if entry is not None:
        return entry.rule
    draft = _draft(context)
    return Rule(
        CycleEnd.ANNIVERSARY,
        int(draft["custom_cycle_months"]),
        Decimal(draft["custom_units"]) if draft.get("custom_units") else None,
    )


def _name(context: RecertContext) -> str:
    entry = _entry(context)
    return entry.name if entry else html.escape(_draft(context).get("custom_name") or "")


def _nav(context: RecertContext, back: bool = True) -> list[InlineKeyboardButton]:
    _ = context.gettext
    row = [InlineKeyboardButton(_("« Back"), callback_data=PREFIX + "back")] if back else []
    return [*row, InlineKeyboardButton(_("Cancel"), callback_data=PREFIX + "cancel")]


def _rows(buttons: list[InlineKeyboardButton], width: int = 2) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def _cycle(context: RecertContext) -> Cycle:
    draft = _draft(context)
    typed_date = date.fromisoformat(draft["date"])
    if draft["mode"] == "expiry":
        return cycle_from_expiry(_rule(context), typed_date)
    return cycle_from_start(_rule(context), typed_date, context.today())


# -- the questions ------------------------------------------------------------------------


async def ask(update: Update, context: RecertContext, step: int, note: str = "") -> int:
    """Asks the question of `step` (with its keyboard) and remembers where we are."""
    draft = _draft(context)
    draft["step"] = step
    _ = context.gettext
    catalog = context.catalog
    buttons: list[list[InlineKeyboardButton]]
    if step == BODY:
        text = _("Which organization issued the credential?")
        bodies = [
            InlineKeyboardButton(body, callback_data=f"{PREFIX}b:{body}")
            for body in catalog.bodies()
        ]
        buttons = [
            *_rows(bodies, 3),
            [InlineKeyboardButton(_("Something else…"), callback_data=PREFIX + "custom")],
            _nav(context, back=False),
        ]
    elif step == CREDENTIAL:
        body = draft.get("body")
        entries = catalog.of_body(body) if body else catalog.cpr_cards()
        text = (
            _("Which {body} credential?").format(body=html.escape(body))
            if body
            else _("Which CPR/AED card do you have?")
        )
        options = [
            InlineKeyboardButton(entry.name, callback_data=f"{PREFIX}c:{entry.id}")
            for entry in entries
        ]
        buttons = [*_rows(options, 2), _nav(context)]
    elif step == DUPLICATE:
        text = _(
            "You already have {name} on file. Shall I update its dates instead of adding it twice?"
        ).format(name=_name(context))
        buttons = [
            [InlineKeyboardButton(_("Update it"), callback_data=PREFIX + "update")],
            _nav(context),
        ]
    elif step == DATE:
        text, buttons = _date_question(context)
    elif step == NUMBER:
        text = _(
            "Your credential number, if you want me to keep it (only you will ever see "
            "it). Or press Skip."
        )
        buttons = [[InlineKeyboardButton(_("Skip"), callback_data=PREFIX + "skip")], _nav(context)]
    elif step == CONFIRM:
        text = _confirmation(context)
        buttons = [
            [InlineKeyboardButton(_("✅ Save"), callback_data=PREFIX + "save")],
            _nav(context),
        ]
    elif step == CUSTOM_NAME:
        text = _("What is the credential called?")
        buttons = [_nav(context)]
    elif step == CUSTOM_CYCLE:
        text = _("How many months does one cycle last? Pick one or type a number.")
        months = [
            InlineKeyboardButton(
                context.ngettext("{count} month", "{count} months", n).format(count=n),
                callback_data=f"{PREFIX}m:{n}",
            )
            for n in (12, 24, 36)
        ]
        buttons = [months, _nav(context)]
    else:  # CUSTOM_UNITS
        text = _("How many credits does one cycle require? Type a number (0 if none).")
        buttons = [_nav(context)]
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        (note + "\n\n" if note else "") + text, reply_markup=InlineKeyboardMarkup(buttons)
    )
    return step


def _date_question(context: RecertContext) -> tuple[str, list[list[InlineKeyboardButton]]]:
    _ = context.gettext
    draft = _draft(context)
    entry = _entry(context)
    example = context.tr.date(EXAMPLE_DATE, "short")
    card_first = entry is not None and entry.ask_card_date
    draft.setdefault("mode", "expiry" if card_first else "start")
    if draft["mode"] == "expiry":
        text = _(
            "Type the expiry date printed on your {name} card or certificate, for "
            "example {example}."
        ).format(name=_name(context), example=example)
        if card_first:
            assert entry is not None
            text += "\n" + _(
                "({body} does not publish on which day a cycle ends, so your card "
                "is the surest source.)"
            ).format(body=html.escape(entry.body))
        switch = [
            InlineKeyboardButton(
                _("I only know when I earned it"), callback_data=PREFIX + "mode:start"
            )
        ]
    else:
        text = _(
            "When did you earn {name}, or last renew it? Type the date, for example {example}."
        ).format(name=_name(context), example=example)
        # Also for credentials with no published cycle: a portal may still show an expiry.
        switch = [
            InlineKeyboardButton(
                _("I have the expiry date instead"), callback_data=PREFIX + "mode:expiry"
            )
        ]
    return text, [*([switch] if switch else []), _nav(context)]


def _confirmation(context: RecertContext) -> str:
    _ = context.gettext
    draft = _draft(context)
    entry = _entry(context)
    cycle = _cycle(context)
    today = context.today()
    title = f"<b>{_name(context)}</b>" + (f" ({html.escape(entry.full_name)})" if entry else "")
    certified = date.fromisoformat(draft["date"]) if draft["mode"] == "start" else None
    standing = context.standing(Holding(_rule(context), cycle, certified_on=certified), [])
    lines = [
        _("Please check:"),
        title,
        *cycle_lines(context.tr, entry, cycle, today, certified_on=certified, standing=standing),
    ]
    if draft.get("number"):
        lines.append(_("Number: {number}").format(number=html.escape(draft["number"])))
    if not draft.get("day_given", True):
        lines.append(
            _("You gave a month without a day: I used {date}. Go back to change it.").format(
                date=context.tr.date(date.fromisoformat(draft["date"]), "long")
            )
        )
    if standing.state in (State.IN_GRACE, State.EXPIRED) and cycle.end is not None:
        lines.append(
            _(
                "⚠️ By this date the cycle ended on {date}. If you have renewed since, "
                "go back and type your last renewal date or the expiry on your card."
            ).format(date=context.tr.date(cycle.end, "long"))
        )
    return "\n".join(lines)


# -- answers ------------------------------------------------------------------------------


async def start_add(update: Update, context: RecertContext) -> int:
    """/add: a fresh draft; asks for the body."""
    await ensure_trainer(update, context)
    assert context.user_data is not None
    context.user_data["add"] = {}
    return await ask(update, context, BODY)


async def start_cpr(update: Update, context: RecertContext) -> int:
    """The "add my CPR/AED card" button after a credential that needs one."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    await query.answer()
    await drop_buttons(query)
    context.user_data["add"] = {}
    return await ask(update, context, CREDENTIAL)


async def button(update: Update, context: RecertContext) -> int:
    """Every `add:` button inside the conversation."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    await drop_buttons(query)
    draft = _draft(context)
    step = draft.get("step", BODY)
    action = query.data.removeprefix(PREFIX)
    kind, _sep, value = action.partition(":")
    if kind == "cancel":
        return await _cancelled(update, context)
    if kind == "back":
        if step == DATE:
            return await ask(
                update, context, CREDENTIAL if draft.get("catalog_id") else CUSTOM_UNITS
            )
        return await ask(update, context, BACK.get(step, BODY))
    if kind == "b" and value in context.catalog.bodies():
        draft.update(body=value, catalog_id=None)
        return await ask(update, context, CREDENTIAL)
    if kind == "custom":
        draft.update(catalog_id=None, body=None)
        return await ask(update, context, CUSTOM_NAME)
    if kind == "c" and context.catalog.get(value) is not None:
        return await _credential_chosen(update, context, value)
    if kind == "update" and step == DUPLICATE:
        return await ask(update, context, DATE)
    if kind == "mode" and value in ("start", "expiry") and step == DATE:
        draft["mode"] = value
        return await ask(update, context, DATE)
    if kind == "skip" and step == NUMBER:
        draft["number"] = None
        return await ask(update, context, CONFIRM)
    if kind == "m" and value in ("12", "24", "36") and step == CUSTOM_CYCLE:
        draft["custom_cycle_months"] = int(value)
        return await ask(update, context, CUSTOM_UNITS)
    if kind == "save" and step == CONFIRM:
        return await _save(update, context)
    # A button from an earlier step, or forged data: ask the current question again.
    return await ask(update, context, step, context.gettext("Please use the buttons below."))


async def _credential_chosen(update: Update, context: RecertContext, catalog_id: str) -> int:
    draft = _draft(context)
    user = update.effective_user
    assert user is not None
    entry = context.catalog.get(catalog_id)
    assert entry is not None
    draft.update(catalog_id=catalog_id, body=entry.body, existing_id=None)
    draft.pop("mode", None)
    existing = await context.db.run(
        lambda session: credentials.same_kind(session, user.id, catalog_id, None)
    )
    if existing is not None:
        draft["existing_id"] = existing.id
        return await ask(update, context, DUPLICATE)
    return await ask(update, context, DATE)


async def typed(update: Update, context: RecertContext) -> int:
    """Text typed at any step: a date, a number, a name; elsewhere, a pointer to the buttons."""
    message = update.effective_message
    assert message is not None
    text = (message.text or "").strip()
    draft = _draft(context)
    step = draft.get("step", BODY)
    _ = context.gettext
    if step == DATE:
        return await _typed_date(update, context, text)
    if step == NUMBER:
        if not text or len(text) > MAX_NUMBER or has_control(text):
            return await ask(
                update,
                context,
                NUMBER,
                _(
                    "A credential number has at most {limit} characters, without line breaks or "
                    "special characters."
                ).format(limit=MAX_NUMBER),
            )
        draft["number"] = text
        return await ask(update, context, CONFIRM)
    if step == CUSTOM_NAME:
        if not text or len(text) > MAX_NAME or has_control(text):
            return await ask(
                update,
                context,
                CUSTOM_NAME,
                _("Please type a name of at most {limit} characters.").format(limit=MAX_NAME),
            )
        user = update.effective_user
        assert user is not None
        existing = await context.db.run(
            lambda session: credentials.same_kind(session, user.id, None, text)
        )
        if existing is not None:  # never overwrite it silently with a different cycle
            return await ask(
                update,
                context,
                CUSTOM_NAME,
                _(
                    "You already have “{name}” on file: change its dates in /credentials, or "
                    "type another name."
                ).format(name=html.escape(text)),
            )
        draft.update(custom_name=text, existing_id=None)
        return await ask(update, context, CUSTOM_CYCLE)
    if step == CUSTOM_CYCLE:
        if not is_number(text) or not 1 <= int(text) <= MAX_CYCLE_MONTHS:
            return await ask(
                update,
                context,
                CUSTOM_CYCLE,
                _("Please type a whole number of months from 1 to {limit}.").format(
                    limit=MAX_CYCLE_MONTHS
                ),
            )
        draft["custom_cycle_months"] = int(text)
        return await ask(update, context, CUSTOM_UNITS)
    if step == CUSTOM_UNITS:
        amount = _amount(text)
        if amount is None:
            return await ask(
                update,
                context,
                CUSTOM_UNITS,
                _("Please type a number from 0 to {limit}, such as 2 or 1.5.").format(
                    limit=context.tr.number(MAX_UNITS)
                ),
            )
        draft["custom_units"] = str(amount) if amount else None
        draft["mode"] = "start"
        return await ask(update, context, DATE)
    return await ask(update, context, step, _("Please use the buttons below."))


async def not_text(update: Update, context: RecertContext) -> int:
    """A sticker, photo or other non-text while /add waits: say what it waits for."""
    step = _draft(context).get("step", BODY)
    return await ask(
        update,
        context,
        step,
        context.gettext("I can't use that here; please answer the question below."),
    )


async def _typed_date(update: Update, context: RecertContext, text: str) -> int:
    draft = _draft(context)
    parsed, reason = await read_date(context, text, expiry=draft.get("mode") == "expiry")
    if parsed is None:
        return await ask(update, context, DATE, reason)
    draft.update(date=parsed.value.isoformat(), day_given=parsed.day_given)
    return await ask(update, context, NUMBER)


def has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


def _amount(text: str) -> Decimal | None:
    try:
        amount = Decimal(text.replace(",", ".").strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_UNITS:
        return None
    return amount.quantize(Decimal("0.01")).normalize()


async def _cancelled(update: Update, context: RecertContext) -> int:
    assert context.user_data is not None
    context.user_data.pop("add", None)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(context.gettext("Cancelled: nothing was saved."))
    return ConversationHandler.END


async def _save(update: Update, context: RecertContext) -> int:
    """Stores the credential (or updates the one on file), then offers what comes next."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None and context.user_data is not None
    draft = _draft(context)
    entry = _entry(context)
    cycle = _cycle(context)
    certified_on = date.fromisoformat(draft["date"]) if draft["mode"] == "start" else None
    context.user_data.pop("add")
    existing_id = draft.get("existing_id")

    def store(session):  # type: ignore[no-untyped-def]
        if existing_id:
            saved = credentials.set_cycle(session, user.id, existing_id, cycle, certified_on)
            if saved is not None and draft.get("number"):
                credentials.set_number(session, user.id, existing_id, draft["number"])
        else:
            saved = credentials.add(
                session,
                user.id,
                cycle,
                catalog_id=draft.get("catalog_id"),
                custom_name=draft.get("custom_name") if not entry else None,
                custom_cycle_months=draft.get("custom_cycle_months") if not entry else None,
                number=draft.get("number"),
                certified_on=certified_on,
            )
        held = credentials.held_by(session, user.id, context.catalog)
        return saved, held

    saved, held = await context.db.run(store)
    _ = context.gettext
    if saved is None:  # removed meanwhile (another device)
        await chat.send_message(_("That credential is no longer on file. Nothing was saved."))
        return ConversationHandler.END
    name = credential_name(saved, context.catalog)
    await chat.send_message(
        (_("Updated: {name}.") if existing_id else _("Saved: {name}.")).format(name=name)
        + " "
        + _("See all with /credentials.")
    )
    await _offer_cpr(update, context, entry, held)
    await _offer_specialization_credits(update, context, entry, saved, held)
    return ConversationHandler.END


async def _offer_cpr(
    update: Update,
    context: RecertContext,
    entry: CatalogEntry | None,
    held: list[credentials.Held],
) -> None:
    if entry is None or not entry.cpr_aed_required:
        return
    has_card = any(
        (card := context.catalog.get(h.credential.catalog_id)) is not None and card.is_cpr
        for h in held
    )
    if has_card:
        return
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        _("{name} needs a current CPR/AED card, and I have none on file. Add yours now?").format(
            name=entry.name
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(_("Add my CPR/AED card"), callback_data=PREFIX + "cpr"),
                    InlineKeyboardButton(_("Not now"), callback_data=PREFIX + "later"),
                ]
            ]
        ),
    )


async def _offer_specialization_credits(
    update: Update,
    context: RecertContext,
    entry: CatalogEntry | None,
    saved: Any,
    held: list[credentials.Held],
) -> None:
    """A specialization earned in a held credential's current cycle counts toward it."""
    if entry is None or saved.certified_on is None:
        return
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    for target_id, amount in entry.counts_toward:
        for h in held:
            target = h.credential
            if target.catalog_id != target_id or target.cycle_end is None:
                continue
            if not target.cycle_start <= saved.certified_on <= target.cycle_end:
                continue
            target_entry = context.catalog.get(target_id)
            label = units(context.tr, amount, target_entry)
            await chat.send_message(
                _(
                    "Your {name} course counts as {units} toward your {target} renewal. Log "
                    "them there?"
                ).format(
                    name=entry.name, units=label, target=target_entry.name if target_entry else ""
                ),
                reply_markup=InlineKeyboardMarkup(
                    [
                        [
                            InlineKeyboardButton(
                                _("Log {units}").format(units=label),
                                callback_data=f"{PREFIX}spec:{saved.id}:{target.id}",
                            ),
                            InlineKeyboardButton(_("No thanks"), callback_data=PREFIX + "later"),
                        ]
                    ]
                ),
            )


async def log_specialization(update: Update, context: RecertContext) -> None:
    """One tap: the specialization's units become a credit of the base credential."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    source_id, target_id = (parse_id(part) for part in query.data.split(":")[2:4])
    catalog = context.catalog
    if source_id is None or target_id is None:
        await query.answer(
            context.gettext("This button no longer works. Please start again."), show_alert=True
        )
        return

    def log(session):  # type: ignore[no-untyped-def]
        source = credentials.owned(session, user.id, source_id)
        target = credentials.owned(session, user.id, target_id)
        if source is None or target is None or source.certified_on is None:
            return None, None
        entry = catalog.get(source.catalog_id)
        amount = dict(entry.counts_toward).get(target.catalog_id or "") if entry else None
        if amount is None:
            return None, None
        if credentials.credits_from(session, target_id, source_id):
            return target, Decimal(-1)
        credentials.add_credit(
            session,
            user.id,
            target_id,
            amount,
            source.certified_on,
            entry.full_name if entry else "",
            from_credential_id=source_id,
        )
        return target, credentials.units_earned(session, target, context.catalog)

    target, earned = await context.db.run(log)
    _ = context.gettext
    if target is None:
        await query.answer(_("This button no longer works. Please start again."), show_alert=True)
        return
    await query.answer()
    await drop_buttons(query)
    target_entry = catalog.get(target.catalog_id)
    name = credential_name(target, catalog)
    if earned is not None and earned < 0:
        await query.message.reply_text(  # type: ignore[union-attr]
            _("Those credits are already logged to {name}.").format(name=name)
        )
        return
    await query.message.reply_text(  # type: ignore[union-attr]
        _("Logged to {name}: now {earned} of {required}.").format(
            name=name,
            earned=units(context.tr, earned, target_entry),
            required=units(context.tr, target.units_required, target_entry),
        )
    )


async def later(update: Update, context: RecertContext) -> None:
    """ "Not now" / "No thanks": the offer's buttons go away."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await drop_buttons(query)


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    buttons = CallbackQueryHandler(button, pattern=f"^{PREFIX}(?!spec:|later$|cpr$)")
    text = MessageHandler(TYPED, typed)
    other = MessageHandler(SENT_NOT_TEXT, not_text)
    every_step = [buttons, text, other]
    return [
        conversation(
            entry_points=[
                command("add", start_add),
                CallbackQueryHandler(start_cpr, pattern=f"^{PREFIX}cpr$"),
            ],
            states={step: every_step for step in range(9)},
            fallbacks=[command("cancel", cancel)],
            name="add",
            persistent=True,
            allow_reentry=True,
        ),
        CallbackQueryHandler(log_specialization, pattern=rf"^{PREFIX}spec:\d+:\d+$"),
        CallbackQueryHandler(later, pattern=f"^{PREFIX}later$"),
    ]


FEATURE = Feature(
    "add", handlers, commands=(Command("add", N_("Add a certification")),), prefixes=(PREFIX,)
)
