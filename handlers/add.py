"""/add: register a credential, step by step.

Body → credential → date (certified, or the expiry on the card) → number (optional) →
confirmation. Something not in the catalog goes body → name → cycle → credits → date. Back and
Cancel work at every step; the answers so far live in `user_data["add"]`, which is persisted,
so the conversation survives a restart.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Awaitable, Callable, Coroutine
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

# The states, by name (persisted as such: a conversation survives a restart).
BODY = "body"
CREDENTIAL = "credential"
DUPLICATE = "duplicate"
DATE = "date"
NUMBER = "number"
CONFIRM = "confirm"
CUSTOM_NAME = "custom_name"
CUSTOM_CYCLE = "custom_cycle"
CUSTOM_UNITS = "custom_units"
# The numbers these states were stored as before they had names: a conversation persisted
# then goes on after the deploy at the state it was in (its next answer stores the name).
NUMBERED = (
    BODY,
    CREDENTIAL,
    DUPLICATE,
    DATE,
    NUMBER,
    CONFIRM,
    CUSTOM_NAME,
    CUSTOM_CYCLE,
    CUSTOM_UNITS,
)

PREFIX = "add:"
# One pattern per button of the conversation.
BODY_BUTTON = f"^{PREFIX}body:"
CUSTOM_BUTTON = f"^{PREFIX}custom$"
CREDENTIAL_BUTTON = f"^{PREFIX}cred:"
UPDATE_BUTTON = f"^{PREFIX}update$"
MODE_BUTTON = f"^{PREFIX}mode:(start|expiry)$"
SKIP_BUTTON = f"^{PREFIX}skip$"
MONTHS_BUTTON = f"^{PREFIX}months:(12|24|36)$"
SAVE_BUTTON = f"^{PREFIX}save$"
BACK_BUTTON = f"^{PREFIX}back$"
CANCEL_BUTTON = f"^{PREFIX}cancel$"
BUTTONS = (
    BODY_BUTTON, CUSTOM_BUTTON, CREDENTIAL_BUTTON, UPDATE_BUTTON, MODE_BUTTON, SKIP_BUTTON,
    MONTHS_BUTTON, SAVE_BUTTON, BACK_BUTTON, CANCEL_BUTTON,
)  # fmt: skip
# The offers after saving, outside the conversation.
CPR_BUTTON = f"^{PREFIX}cpr$"
SPECIALIZATION_BUTTON = rf"^{PREFIX}spec:\d+:\d+$"
LATER_BUTTON = f"^{PREFIX}later$"
MAX_NUMBER = 40
MAX_NAME = 60
MAX_CYCLE_MONTHS = 120
MAX_UNITS = Decimal(1000)
EXAMPLE_DATE = date(2025, 3, 15)


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


# -- the questions: each sends its screen and returns its state ----------------------------


async def _ask(
    update: Update,
    context: RecertContext,
    state: str,
    text: str,
    buttons: list[list[InlineKeyboardButton]],
    note: str = "",
) -> str:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        (note + "\n\n" if note else "") + text, reply_markup=InlineKeyboardMarkup(buttons)
    )
    return state


async def ask_body(update: Update, context: RecertContext, note: str = "") -> str:
    _ = context.gettext
    bodies = [
        InlineKeyboardButton(body, callback_data=f"{PREFIX}body:{body}")
        for body in context.catalog.bodies()
    ]
    buttons = [
        *_rows(bodies, 3),
        [InlineKeyboardButton(_("Something else…"), callback_data=PREFIX + "custom")],
        _nav(context, back=False),
    ]
    text = _("Which organization issued the credential?")
    return await _ask(update, context, BODY, text, buttons, note)


async def ask_credential(update: Update, context: RecertContext, note: str = "") -> str:
    _ = context.gettext
    body = _draft(context).get("body")
    entries = context.catalog.of_body(body) if body else context.catalog.cpr_cards()
    text = (
        _("Which {body} credential?").format(body=html.escape(body))
        if body
        else _("Which CPR/AED card do you have?")
    )
    options = [
        InlineKeyboardButton(entry.name, callback_data=f"{PREFIX}cred:{entry.id}")
        for entry in entries
    ]
    return await _ask(update, context, CREDENTIAL, text, [*_rows(options, 2), _nav(context)], note)


async def ask_duplicate(update: Update, context: RecertContext, note: str = "") -> str:
    _ = context.gettext
    text = _(
        "You already have {name} on file. Shall I update its dates instead of adding it twice?"
    ).format(name=_name(context))
    buttons = [
        [InlineKeyboardButton(_("Update it"), callback_data=PREFIX + "update")],
        _nav(context),
    ]
    return await _ask(update, context, DUPLICATE, text, buttons, note)


async def ask_date(update: Update, context: RecertContext, note: str = "") -> str:
    text, buttons = _date_question(context)
    return await _ask(update, context, DATE, text, buttons, note)


async def ask_number(update: Update, context: RecertContext, note: str = "") -> str:
    _ = context.gettext
    text = _(
        "Your credential number, if you want me to keep it (only you will ever see "
        "it). Or press Skip."
    )
    buttons = [[InlineKeyboardButton(_("Skip"), callback_data=PREFIX + "skip")], _nav(context)]
    return await _ask(update, context, NUMBER, text, buttons, note)


async def ask_confirm(update: Update, context: RecertContext, note: str = "") -> str:
    _ = context.gettext
    buttons = [[InlineKeyboardButton(_("✅ Save"), callback_data=PREFIX + "save")], _nav(context)]
    return await _ask(update, context, CONFIRM, _confirmation(context), buttons, note)


async def ask_custom_name(update: Update, context: RecertContext, note: str = "") -> str:
    text = context.gettext("What is the credential called?")
    return await _ask(update, context, CUSTOM_NAME, text, [_nav(context)], note)


async def ask_custom_cycle(update: Update, context: RecertContext, note: str = "") -> str:
    _ = context.gettext
    months = [
        InlineKeyboardButton(
            context.ngettext("{count} month", "{count} months", n).format(count=n),
            callback_data=f"{PREFIX}months:{n}",
        )
        for n in (12, 24, 36)
    ]
    text = _("How many months does one cycle last? Pick one or type a number.")
    return await _ask(update, context, CUSTOM_CYCLE, text, [months, _nav(context)], note)


async def ask_custom_units(update: Update, context: RecertContext, note: str = "") -> str:
    text = context.gettext("How many credits does one cycle require? Type a number (0 if none).")
    return await _ask(update, context, CUSTOM_UNITS, text, [_nav(context)], note)


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


# -- answers: one callback per button and per typed answer, by state ------------------------

Question = Callable[..., Awaitable[str]]


async def _pressed(update: Update) -> str:
    """Answers the button and takes the buttons off its message; returns what follows the
    button's prefix ("body:NSCA")."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    await drop_buttons(query)
    return query.data.removeprefix(PREFIX)


def _typed_text(update: Update) -> str:
    message = update.effective_message
    assert message is not None
    return (message.text or "").strip()


async def start_add(update: Update, context: RecertContext) -> str:
    """/add: a fresh draft; asks for the body."""
    await ensure_trainer(update, context)
    assert context.user_data is not None
    context.user_data["add"] = {}
    return await ask_body(update, context)


async def start_cpr(update: Update, context: RecertContext) -> str:
    """The "add my CPR/AED card" button after a credential that needs one: a fresh draft
    without a body; asks which card."""
    await _pressed(update)
    assert context.user_data is not None
    context.user_data["add"] = {}
    return await ask_credential(update, context)


async def body_chosen(update: Update, context: RecertContext) -> str:
    """BODY: stores the body and asks for the credential."""
    body = (await _pressed(update)).removeprefix("body:")
    if body not in context.catalog.bodies():  # forged
        return await ask_body(update, context, context.gettext("Please use the buttons below."))
    _draft(context).update(body=body, catalog_id=None)
    return await ask_credential(update, context)


async def custom_chosen(update: Update, context: RecertContext) -> str:
    """BODY, "Something else…": a credential of no catalog body; asks for its name."""
    await _pressed(update)
    _draft(context).update(catalog_id=None, body=None)
    return await ask_custom_name(update, context)


async def credential_chosen(update: Update, context: RecertContext) -> str:
    """CREDENTIAL: stores the catalog entry; asks whether to update the one on file if there
    is one, else for the date."""
    catalog_id = (await _pressed(update)).removeprefix("cred:")
    entry = context.catalog.get(catalog_id)
    if entry is None:  # forged
        return await ask_credential(
            update, context, context.gettext("Please use the buttons below.")
        )
    user = update.effective_user
    assert user is not None
    draft = _draft(context)
    draft.update(catalog_id=catalog_id, body=entry.body, existing_id=None)
    draft.pop("mode", None)
    existing = await context.db.run(
        lambda session: credentials.same_kind(session, user.id, catalog_id, None)
    )
    if existing is not None:
        draft["existing_id"] = existing.id
        return await ask_duplicate(update, context)
    return await ask_date(update, context)


async def update_chosen(update: Update, context: RecertContext) -> str:
    """DUPLICATE, "Update it": the dates will replace those on file; asks for the date."""
    await _pressed(update)
    return await ask_date(update, context)


async def mode_chosen(update: Update, context: RecertContext) -> str:
    """DATE: stores which date will be typed (certified, or the card's expiry); asks it."""
    _draft(context)["mode"] = (await _pressed(update)).removeprefix("mode:")
    return await ask_date(update, context)


async def date_typed(update: Update, context: RecertContext) -> str:
    """DATE: stores the date read from the text; asks for the number (or why not)."""
    draft = _draft(context)
    text = _typed_text(update)
    parsed, reason = await read_date(context, text, expiry=draft.get("mode") == "expiry")
    if parsed is None:
        return await ask_date(update, context, reason)
    draft.update(date=parsed.value.isoformat(), day_given=parsed.day_given)
    return await ask_number(update, context)


async def number_typed(update: Update, context: RecertContext) -> str:
    """NUMBER: stores the credential number; asks to confirm."""
    text = _typed_text(update)
    if not text or len(text) > MAX_NUMBER or has_control(text):
        note = context.gettext(
            "A credential number has at most {limit} characters, without line breaks or "
            "special characters."
        ).format(limit=MAX_NUMBER)
        return await ask_number(update, context, note)
    _draft(context)["number"] = text
    return await ask_confirm(update, context)


async def number_skipped(update: Update, context: RecertContext) -> str:
    """NUMBER, Skip: no number; asks to confirm."""
    await _pressed(update)
    _draft(context)["number"] = None
    return await ask_confirm(update, context)


async def name_typed(update: Update, context: RecertContext) -> str:
    """CUSTOM_NAME: stores the name (unless one of the trainer's has it); asks for the
    cycle."""
    _ = context.gettext
    text = _typed_text(update)
    if not text or len(text) > MAX_NAME or has_control(text):
        note = _("Please type a name of at most {limit} characters.").format(limit=MAX_NAME)
        return await ask_custom_name(update, context, note)
    user = update.effective_user
    assert user is not None
    existing = await context.db.run(
        lambda session: credentials.same_kind(session, user.id, None, text)
    )
    if existing is not None:  # never overwrite it silently with a different cycle
        note = _(
            "You already have “{name}” on file: change its dates in /credentials, or "
            "type another name."
        ).format(name=html.escape(text))
        return await ask_custom_name(update, context, note)
    _draft(context).update(custom_name=text, existing_id=None)
    return await ask_custom_cycle(update, context)


async def months_chosen(update: Update, context: RecertContext) -> str:
    """CUSTOM_CYCLE, a button: stores the cycle's months; asks for the credits."""
    _draft(context)["custom_cycle_months"] = int((await _pressed(update)).removeprefix("months:"))
    return await ask_custom_units(update, context)


async def months_typed(update: Update, context: RecertContext) -> str:
    """CUSTOM_CYCLE, typed: stores the cycle's months; asks for the credits."""
    text = _typed_text(update)
    if not is_number(text) or not 1 <= int(text) <= MAX_CYCLE_MONTHS:
        note = context.gettext("Please type a whole number of months from 1 to {limit}.")
        return await ask_custom_cycle(update, context, note.format(limit=MAX_CYCLE_MONTHS))
    _draft(context)["custom_cycle_months"] = int(text)
    return await ask_custom_units(update, context)


async def units_typed(update: Update, context: RecertContext) -> str:
    """CUSTOM_UNITS: stores the credits a cycle requires; asks when it was earned."""
    amount = _amount(_typed_text(update))
    if amount is None:
        note = context.gettext("Please type a number from 0 to {limit}, such as 2 or 1.5.")
        return await ask_custom_units(
            update, context, note.format(limit=context.tr.number(MAX_UNITS))
        )
    draft = _draft(context)
    draft["custom_units"] = str(amount) if amount else None
    draft["mode"] = "start"
    return await ask_date(update, context)


async def back_from_date(update: Update, context: RecertContext) -> str:
    """DATE, Back: to the credential, or to the custom credential's credits."""
    await _pressed(update)
    if _draft(context).get("catalog_id"):
        return await ask_credential(update, context)
    return await ask_custom_units(update, context)


def _back_to(question: Question) -> Callable[[Update, RecertContext], Coroutine[Any, Any, str]]:
    async def back(update: Update, context: RecertContext) -> str:
        """Back: the previous question again, with the answers so far kept."""
        await _pressed(update)
        return await question(update, context)

    return back


def _again(
    question: Question, note: str
) -> Callable[[Update, RecertContext], Coroutine[Any, Any, str]]:
    async def again(update: Update, context: RecertContext) -> str:
        """What this step does not take (a button of another step, text at a buttons-only
        step, a sticker): the question again, with a note on what it waits for."""
        if update.callback_query is not None:
            await _pressed(update)
        return await question(update, context, context.gettext(note))

    return again


async def cancelled(update: Update, context: RecertContext) -> int:
    """Cancel: drops the draft and ends."""
    await _pressed(update)
    assert context.user_data is not None
    context.user_data.pop("add", None)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(context.gettext("Cancelled: nothing was saved."))
    return ConversationHandler.END


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


async def save(update: Update, context: RecertContext) -> int:
    """CONFIRM, Save: stores the credential (or updates the one on file), ends, and offers
    what comes next."""
    await _pressed(update)
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


def _step(
    question: Question, *own: BaseHandler[Update, RecertContext, object]
) -> list[BaseHandler[Update, RecertContext, object]]:
    """A state's handlers: its own, then what every step answers (Cancel; anything else with
    its question again)."""
    return [
        *own,
        CallbackQueryHandler(cancelled, pattern=CANCEL_BUTTON),
        CallbackQueryHandler(
            _again(question, N_("Please use the buttons below.")), pattern="|".join(BUTTONS)
        ),
        MessageHandler(TYPED, _again(question, N_("Please use the buttons below."))),
        MessageHandler(
            SENT_NOT_TEXT,
            _again(question, N_("I can't use that here; please answer the question below.")),
        ),
    ]


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    def button(callback: Any, pattern: str) -> CallbackQueryHandler[RecertContext, Any]:
        return CallbackQueryHandler(callback, pattern=pattern)

    def back(question: Question) -> CallbackQueryHandler[RecertContext, Any]:
        return button(_back_to(question), BACK_BUTTON)

    states: dict[object, list[BaseHandler[Update, RecertContext, object]]] = {
        BODY: _step(
            ask_body,
            button(body_chosen, BODY_BUTTON),
            button(custom_chosen, CUSTOM_BUTTON),
        ),
        CREDENTIAL: _step(
            ask_credential, button(credential_chosen, CREDENTIAL_BUTTON), back(ask_body)
        ),
        DUPLICATE: _step(
            ask_duplicate, button(update_chosen, UPDATE_BUTTON), back(ask_credential)
        ),
        DATE: _step(
            ask_date,
            MessageHandler(TYPED, date_typed),
            button(mode_chosen, MODE_BUTTON),
            button(back_from_date, BACK_BUTTON),
        ),
        NUMBER: _step(
            ask_number,
            MessageHandler(TYPED, number_typed),
            button(number_skipped, SKIP_BUTTON),
            back(ask_date),
        ),
        CONFIRM: _step(ask_confirm, button(save, SAVE_BUTTON), back(ask_number)),
        CUSTOM_NAME: _step(ask_custom_name, MessageHandler(TYPED, name_typed), back(ask_body)),
        CUSTOM_CYCLE: _step(
            ask_custom_cycle,
            MessageHandler(TYPED, months_typed),
            button(months_chosen, MONTHS_BUTTON),
            back(ask_custom_name),
        ),
        CUSTOM_UNITS: _step(
            ask_custom_units, MessageHandler(TYPED, units_typed), back(ask_custom_cycle)
        ),
    }
    return [
        conversation(
            name="add",
            drafts=("add",),
            entry_points=[command("add", start_add), button(start_cpr, CPR_BUTTON)],
            states={**states, **{number: states[name] for number, name in enumerate(NUMBERED)}},
            fallbacks=[command("cancel", cancel)],
            allow_reentry=True,
        ),
        button(log_specialization, SPECIALIZATION_BUTTON),
        button(later, LATER_BUTTON),
    ]


FEATURE = Feature(
    "add", handlers, commands=(Command("add", N_("Add a certification")),), prefixes=(PREFIX,)
)
