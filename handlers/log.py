"""/log: record credits earned.

Two ways in: `/log 0.5 Corrective exercise webinar` (or `/log 5h ...` in hours) logs at once
when nothing is missing; `/log` alone asks step by step: amount → which credentials → what a
bare number meant (when their credits mean different hours) → NSCA's category → date → title →
provider → cost → proof. Both fill one draft (`user_data["log"]`, persisted, so the
conversation survives a restart), and the conversation asks only for what is still missing.
Back goes to the previous question asked (what the one-liner, a certificate's card or a single
credential answered is skipped going back too); Cancel works at every step. A photo or PDF sent
on its own is offered as the proof of a new entry. The reply shows the new progress and an
Undo button.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.amounts import currency_for, parse_amount, parse_cost
from bot.context import RecertContext, local_today
from bot.i18n import N_
from handlers import (
    PRIVATE,
    SENT_NOT_TEXT,
    TYPED,
    command,
    conversation,
    drop_buttons,
    is_number,
    parse_id,
)
from handlers.add import has_control
from handlers.basics import cancel
from handlers.dateinput import read_date
from handlers.feature import Command, Feature
from handlers.loader import with_trainer
from handlers.render import credential_name, progress_bar, units
from handlers.snap import check_later, prefilled, read_later, reading_note
from storage import credits, nudges
from storage.catalog import Catalog, CatalogEntry
from storage.credentials import Held, held_by, taking_credits
from storage.credits import Amount, Logged, NewCredit, Outcome, Proof, fineprint_for, in_cents
from storage.models import Trainer

# The states, by name (persisted as such: a conversation survives a restart).
AMOUNT = "amount"
WHICH = "which"
UNIT = "unit"
CATEGORY = "category"
DATE = "date"
TITLE = "title"
PROVIDER = "provider"
COST = "cost"
PROOF = "proof"
# The numbers these states were stored as before they had names, in that order: a
# conversation persisted then goes on after the deploy at the state it was in.
NUMBERED = (AMOUNT, WHICH, CATEGORY, DATE, TITLE, PROVIDER, COST, PROOF, UNIT)
# What each question's answer is in the draft: Back drops it, so that it is asked again.
# The credentials ticked stay ticked (shown again to be changed); only "Done" is undone.
ANSWERS = {
    AMOUNT: ("amount", "hours"),
    WHICH: ("ids_done",),
    UNIT: ("unit", "unit_checked"),
    CATEGORY: ("category",),
    DATE: ("date",),
    TITLE: ("title",),
    PROVIDER: ("provider",),
    COST: ("cost", "currency"),
    PROOF: ("proof",),
}
ASKED = "asked"  # the draft's list of the questions asked so far, in order: Back's way back

PREFIX = "log:"
# One pattern per button of the conversation, byte for byte the callback data built below
# (buttons already in chats keep working).
TICK_BUTTON = rf"^{PREFIX}t:\d+$"
ALL_BUTTON = f"^{PREFIX}all$"
DONE_BUTTON = f"^{PREFIX}done$"
UNIT_BUTTON = rf"^{PREFIX}u:(h|\d+(\.\d+)?)$"
CATEGORY_BUTTON = f"^{PREFIX}c:[A-D]$"
DAY_BUTTON = f"^{PREFIX}d:[01]$"
SKIP_BUTTON = f"^{PREFIX}skip$"
BACK_BUTTON = f"^{PREFIX}back$"
CANCEL_BUTTON = f"^{PREFIX}cancel$"
BUTTONS = (
    TICK_BUTTON, ALL_BUTTON, DONE_BUTTON, UNIT_BUTTON, CATEGORY_BUTTON, DAY_BUTTON, SKIP_BUTTON,
    BACK_BUTTON, CANCEL_BUTTON,
)  # fmt: skip
# The entry points' buttons, and those outside the conversation.
PROOF_BUTTON = f"^{PREFIX}proof(:[a-z]+)?$"
NUDGE_BUTTON = r"^nudge:log:\d+$"
UNDO_BUTTON = rf"^{PREFIX}undo:[0-9a-f]{{32}}$"
NO_PROOF_BUTTON = f"^{PREFIX}noproof$"

MAX_UNITS = Decimal(100)
LEAST_UNITS = Decimal("0.01")  # what the units column keeps
TITLE_REFUSED = "title_refused"  # a one-liner's draft: its title was too long or not one line
MAX_HOURS = Decimal(1000)
MAX_COST = Decimal(100_000)
MAX_TITLE = 200
MAX_PROVIDER = 120
MAX_PROOF_BYTES = 20 * 1024 * 1024  # what the Bot API lets a bot download
_HOUR_WORDS = {"h", "hr", "hrs", "hour", "hours", "hora", "horas", "ч", "час", "часа", "часов"}
CATEGORIES = ("A", "B", "C", "D")
COST_EXAMPLES = "$129, 120 €, 1 500 ₽, 129 USD"

Question = Callable[..., Awaitable[str]]
Callback = Callable[[Update, RecertContext], Coroutine[Any, Any, str | int]]


def _draft(context: RecertContext) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault("log", {})  # type: ignore[no-any-return]


def _answering(context: RecertContext, state: str) -> dict[str, Any]:
    """The draft, with `state` as the question being answered: a conversation persisted
    before questions were remembered then still has it to go back to."""
    draft = _draft(context)
    _remember(draft, state)
    return draft


def _remember(draft: dict[str, Any], state: str) -> list[str]:
    """Records `state` as the question now asked (once; asked again after going back, what
    followed it is forgotten). Returns the questions asked so far."""
    asked: list[str] = draft.setdefault(ASKED, [])
    if state in asked:
        del asked[asked.index(state) + 1 :]
    else:
        asked.append(state)
    return asked


def amount_problem(value: Decimal, hours: bool) -> bool:
    """Not an amount to log: credits are checked as they will be stored (0.001 is 0.00);
    hours once converted, per credential (`storage.credits.log`)."""
    if not value.is_finite() or value <= 0 or value > (MAX_HOURS if hours else MAX_UNITS):
        return True
    return not hours and in_cents(value) <= 0


def _nav(context: RecertContext) -> list[InlineKeyboardButton]:
    """Back (when a question was asked before this one) and Cancel."""
    _ = context.gettext
    row = [InlineKeyboardButton(_("Cancel"), callback_data=PREFIX + "cancel")]
    if len(_draft(context).get(ASKED, [])) > 1:
        row.insert(0, InlineKeyboardButton(_("« Back"), callback_data=PREFIX + "back"))
    return row


def _skip(context: RecertContext) -> list[list[InlineKeyboardButton]]:
    return [[InlineKeyboardButton(context.gettext("Skip"), callback_data=PREFIX + "skip")]]


async def _held(update: Update, context: RecertContext) -> list[Held]:
    user = update.effective_user
    assert user is not None
    held = await with_trainer(
        update, context, lambda session, _t: held_by(session, user.id, context.catalog)
    )
    return taking_credits(held, context.catalog)


def _meanings(catalog: Catalog, held: list[Held], ids: list[int]) -> dict[Decimal, CatalogEntry]:
    """The hours one credit means for each chosen credential, one entry per distinct value:
    more than one, and a bare number ("2") is ambiguous (an ACE CEC is 10 hours, ACSM's 1)."""
    found: dict[Decimal, CatalogEntry] = {}
    for h in held:
        entry = catalog.get(h.credential.catalog_id)
        if h.credential.id in ids and entry is not None and entry.hours_per_unit:
            found.setdefault(Decimal(entry.hours_per_unit), entry)
    return found


def _needs_unit(catalog: Catalog, held: list[Held], draft: dict[str, Any]) -> bool:
    return (
        not draft.get("hours")
        and "unit" not in draft
        and not draft.get("unit_checked")  # a draft from before: its amount is in hours
        and len(_meanings(catalog, held, draft["ids"])) > 1
    )


def _needs_category(catalog: Catalog, held: list[Held], ids: list[int]) -> bool:
    return any(fineprint_for(h.credential, catalog).caps for h in held if h.credential.id in ids)


async def advance(
    update: Update, context: RecertContext, note: str = "", held: list[Held] | None = None
) -> str | int:
    """Asks for the first thing the draft still lacks, or saves it. `held`: the credentials
    that take credits, when the caller has just read them."""
    draft = _draft(context)
    if held is None:
        held = await _held(update, context)
    if not held:
        context.user_data.pop("log", None)  # type: ignore[union-attr]
        await _say(
            update,
            context.gettext(
                "You have no credentials that take credits yet. Add one with /add first."
            ),
        )
        return ConversationHandler.END
    if "ids" not in draft and len(held) == 1:
        draft.update(ids=[held[0].credential.id], ids_done=True)
    if "amount" not in draft:
        return await ask_amount(update, context, note)
    if not (draft.get("ids") and draft.get("ids_done")):
        return await ask_which(update, context, note, held)
    if _needs_unit(context.catalog, held, draft):
        return await ask_unit(update, context, note, held)
    if "category" not in draft and _needs_category(context.catalog, held, draft["ids"]):
        return await ask_category(update, context, note)
    later: tuple[tuple[str, Question], ...] = (
        ("date", ask_date),
        ("title", ask_title),
        ("provider", ask_provider),
        ("cost", ask_cost),
        ("proof", ask_proof),
    )
    for key, question in later:
        if key not in draft:
            return await question(update, context, note)
    return await _save(update, context)


async def _say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    chat = update.effective_chat
    assert chat is not None
    return await chat.send_message(text, reply_markup=markup)


# -- the questions: each sends its screen and returns its state ----------------------------


async def _ask(
    update: Update,
    context: RecertContext,
    state: str,
    text: str,
    rows: list[list[InlineKeyboardButton]],
    note: str = "",
) -> str:
    _remember(_draft(context), state)
    markup = InlineKeyboardMarkup([*rows, _nav(context)])
    await _say(update, (note + "\n\n" if note else "") + text, markup)
    return state


async def ask_amount(update: Update, context: RecertContext, note: str = "") -> str:
    text = context.gettext(
        "How much did you earn? Type the credits (for example 0.5) or the hours (for example 5h)."
    )
    return await _ask(update, context, AMOUNT, text, [], note)


async def ask_which(
    update: Update, context: RecertContext, note: str = "", held: list[Held] | None = None
) -> str:
    held = held if held is not None else await _held(update, context)
    text = context.gettext("Which credentials does it count toward? Tap to choose, then Done.")
    rows = _which_rows(context, held, set(_draft(context).get("ids", [])))
    return await _ask(update, context, WHICH, text, rows, note)


def _which_rows(
    context: RecertContext, held: list[Held], chosen: set[int]
) -> list[list[InlineKeyboardButton]]:
    """The multi-select: a ✓ on each chosen credential, then All of them and Done."""
    _ = context.gettext
    toggles = [
        InlineKeyboardButton(
            ("✓ " if h.credential.id in chosen else "")
            + html.unescape(credential_name(h.credential, context.catalog)),
            callback_data=f"{PREFIX}t:{h.credential.id}",
        )
        for h in held
    ]
    rows = [toggles[i : i + 2] for i in range(0, len(toggles), 2)]
    rows.append(
        [
            InlineKeyboardButton(_("All of them"), callback_data=PREFIX + "all"),
            InlineKeyboardButton(_("Done"), callback_data=PREFIX + "done"),
        ]
    )
    return rows


async def ask_unit(
    update: Update, context: RecertContext, note: str = "", held: list[Held] | None = None
) -> str:
    _ = context.gettext
    held = held if held is not None else await _held(update, context)
    draft = _draft(context)
    typed = context.tr.number(Decimal(draft["amount"]))
    text = _(
        "Credits mean different hours for these credentials. What did “{amount}” mean?"
    ).format(amount=typed)
    meanings = sorted(_meanings(context.catalog, held, draft["ids"]).items())
    rows = [
        [
            InlineKeyboardButton(
                _("{amount} {unit} ({hours} hours)").format(
                    amount=typed,
                    unit=f"{entry.body} {entry.unit_name or ''}".strip(),
                    hours=context.tr.number(Decimal(draft["amount"]) * per_unit),
                ),
                callback_data=f"{PREFIX}u:{per_unit}",
            )
        ]
        for per_unit, entry in meanings
    ]
    hours = _("{amount} hours").format(amount=typed)
    rows.append([InlineKeyboardButton(hours, callback_data=PREFIX + "u:h")])
    return await _ask(update, context, UNIT, text, rows, note)


async def ask_category(update: Update, context: RecertContext, note: str = "") -> str:
    _ = context.gettext
    labels = (
        _("A: events, conferences"),
        _("B: quizzes, writing, talks"),
        _("C: college, first aid"),
        _("D: home study, other certifications"),
    )
    rows = [
        [InlineKeyboardButton(label, callback_data=f"{PREFIX}c:{letter}")]
        for letter, label in zip(CATEGORIES, labels, strict=True)
    ]
    return await _ask(update, context, CATEGORY, _("Which NSCA category is it?"), rows, note)


async def ask_date(update: Update, context: RecertContext, note: str = "") -> str:
    _ = context.gettext
    days = [
        InlineKeyboardButton(_("Today"), callback_data=PREFIX + "d:0"),
        InlineKeyboardButton(_("Yesterday"), callback_data=PREFIX + "d:1"),
    ]
    text = _("When did you earn it? Type the date, or tap one.")
    return await _ask(update, context, DATE, text, [days], note)


async def ask_title(update: Update, context: RecertContext, note: str = "") -> str:
    text = context.gettext("What was the course or event called?")
    return await _ask(update, context, TITLE, text, [], note)


async def ask_provider(update: Update, context: RecertContext, note: str = "") -> str:
    text = context.gettext("Who provided it? (Optional.)")
    return await _ask(update, context, PROVIDER, text, _skip(context), note)


async def ask_cost(update: Update, context: RecertContext, note: str = "") -> str:
    code = _currency(context)
    text = context.gettext(
        "What did it cost you? Type the amount, or skip. I add it up per cycle.\n"
        "It is in {currency} unless you type another currency with it, for example "
        "{examples}."
    ).format(currency=f"{context.tr.currency_name(code)} ({code})", examples=COST_EXAMPLES)
    return await _ask(update, context, COST, text, _skip(context), note)


async def ask_proof(update: Update, context: RecertContext, note: str = "") -> str:
    text = context.gettext(
        "Send the certificate as a photo or a PDF, so it is at hand for an audit. Or skip."
    )
    return await _ask(update, context, PROOF, text, _skip(context), note)


QUESTIONS: dict[str, Question] = {
    AMOUNT: ask_amount,
    WHICH: ask_which,
    UNIT: ask_unit,
    CATEGORY: ask_category,
    DATE: ask_date,
    TITLE: ask_title,
    PROVIDER: ask_provider,
    COST: ask_cost,
    PROOF: ask_proof,
}


def _currency(context: RecertContext) -> str:
    """What a cost typed without a currency is in: the trainer's, else their language's."""
    chosen = context.trainer.currency if context.trainer else None
    return currency_for(chosen, context.tr.language)


# -- entry points ------------------------------------------------------------------------


async def start_log(update: Update, context: RecertContext) -> str | int:
    """/log with or without the one-liner's amount and title: logs at once when nothing is
    missing, else asks for the first thing that is."""
    assert context.user_data is not None
    context.user_data["log"] = {}
    message = update.effective_message
    assert message is not None
    text = message.text or message.caption or ""
    proof: Proof | str | None = None
    if message.photo or message.document:
        proof = _proof_of(message)
    one_liner = _one_liner(text.split(maxsplit=1)[1:])
    # A title the guided flow would refuse is refused here too, never cut to fit.
    title_refused = isinstance(one_liner, dict) and one_liner.pop(TITLE_REFUSED, False)
    if isinstance(one_liner, dict) and not isinstance(proof, str) and not title_refused:
        # Everything said at once: read and, when there is nothing to ask, log in one trip.
        one_liner["proof"] = _as_data(proof) if proof else None
        return await _log_at_once(update, context, one_liner)
    held = await _held(update, context)  # first: it brings the trainer and their language
    if isinstance(proof, str):
        context.user_data.pop("log", None)
        await _say(update, _proof_refusal(context, proof))
        return ConversationHandler.END
    if proof is not None:
        _draft(context)["proof"] = _as_data(proof)
    if isinstance(one_liner, str):
        return await advance(update, context, _amount_problem_text(context, one_liner), held)
    if isinstance(one_liner, dict):  # the one-liner, but for its title: ask for that alone
        _draft(context).update(one_liner, date=context.today().isoformat())
    if title_refused:
        note = context.gettext(
            "The title can be at most {limit} characters, on one line: nothing is logged yet."
        ).format(limit=MAX_TITLE)
        return await advance(update, context, note, held)
    return await advance(update, context, held=held)


def _one_liner(rest: list[str]) -> dict[str, Any] | str | None:
    """`0.5 Webinar`, `5 h Workshop`: the draft it makes (the date is the trainer's today,
    filled in later); the typed amount when it is not one; None when nothing was typed."""
    if not rest:
        return None
    words = rest[0].split()
    amount = parse_amount(words[0])
    consumed = 1
    if amount is not None and not amount[1] and len(words) > 1 and words[1].lower() in _HOUR_WORDS:
        amount, consumed = (amount[0], True), 2
    if amount is None or amount_problem(*amount):
        return words[0]
    draft: dict[str, Any] = {
        "amount": str(amount[0]),
        "hours": amount[1],
        "provider": None,
        "cost": None,
    }
    title = " ".join(words[consumed:])
    if len(title) > MAX_TITLE or has_control(title):
        draft[TITLE_REFUSED] = True
    elif title:
        draft["title"] = title
    return draft


async def _log_at_once(update: Update, context: RecertContext, draft: dict[str, Any]) -> str | int:
    user = update.effective_user
    assert user is not None
    catalog, zone = context.catalog, context.settings.default_time_zone

    def read_and_log(
        session: Session, trainer: Trainer | None
    ) -> tuple[list[Held], dict[str, Any], Logged | None]:
        held = taking_credits(held_by(session, user.id, catalog), catalog)
        today = local_today(trainer, zone)
        ready = {**draft, "date": today.isoformat()}
        if len(held) == 1:
            ready.update(ids=[held[0].credential.id], ids_done=True)
        if "title" not in ready or len(held) != 1 or _needs_category(catalog, held, ready["ids"]):
            return held, ready, None  # something to ask first
        new = _new_credit(ready)
        known = {h.credential.id or 0: h.earned for h in held}  # not read a second time
        logged = credits.log(session, user.id, ready["ids"], new, catalog, today, known)
        return held, ready, logged

    held, ready, logged = await with_trainer(update, context, read_and_log)
    if logged is None:
        _draft(context).update(ready)
        return await advance(update, context, held=held)
    context.user_data.pop("log", None)  # type: ignore[union-attr]
    await _say_logged(update, context, logged, _new_credit(ready))
    return ConversationHandler.END


def _amount_problem_text(context: RecertContext, typed: str) -> str:
    return context.gettext(
        "“{text}” is not an amount I can log: type a number of credits from {least} up to "
        "{units} (like 0.5), or of hours up to {hours} (like 5h)."
    ).format(
        text=html.escape(typed[:20]),
        least=context.tr.number(LEAST_UNITS),
        units=context.tr.number(MAX_UNITS),
        hours=context.tr.number(MAX_HOURS),
    )


def _proof_of(message: Message) -> Proof | str:
    """The proof in a message, or why it cannot be one ("type" or "size")."""
    if message.photo:
        photo = message.photo[-1]
        if (photo.file_size or 0) > MAX_PROOF_BYTES:
            return "size"
        return Proof(photo.file_id, "photo", None)
    document = message.document
    if document is None:
        return "type"
    is_pdf = document.mime_type == "application/pdf" or (
        document.file_name or ""
    ).lower().endswith(".pdf")
    if not is_pdf:
        return "type"
    if (document.file_size or 0) > MAX_PROOF_BYTES:
        return "size"
    return Proof(document.file_id, "document", (document.file_name or "certificate.pdf")[:128])


def _as_data(proof: Proof) -> dict[str, str | None]:
    """Drafts are persisted as JSON: keep the proof as plain data."""
    return {"file_id": proof.file_id, "kind": proof.kind, "name": proof.name}


def _proof_refusal(context: RecertContext, why: str) -> str:
    """Why a file can't be a proof ("size" or "type", as `_proof_of` says)."""
    if why == "size":
        return context.gettext("That file is too large: a proof can be up to 20 MB.")
    return context.gettext("A proof has to be a photo or a PDF.")


async def offer_proof(update: Update, context: RecertContext) -> None:
    """A photo or PDF sent on its own: offer to log a certificate with it."""
    message = update.effective_message
    assert message is not None and context.user_data is not None
    proof = _proof_of(message)
    _ = context.gettext
    if isinstance(proof, str):
        await message.reply_text(
            _("That file is too large: a proof can be up to 20 MB.")
            if proof == "size"
            else _("I keep photos and PDFs of certificates. Send /help to see what else I can do.")
        )
        return
    context.user_data["pending_proof"] = _as_data(proof)
    reading = await reading_note(update, context, _as_data(proof))
    prompt = await message.reply_text(
        _("Log this certificate?") + reading,
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(_("Yes, log credits"), callback_data=PREFIX + "proof"),
                    InlineKeyboardButton(_("No"), callback_data=PREFIX + "noproof"),
                ]
            ]
        ),
    )
    if reading:
        read_later(update, context, _as_data(proof), prompt)  # the prompt becomes its card


async def start_with_proof(update: Update, context: RecertContext) -> str | int:
    """ "Yes, log credits" under a photo or PDF: the guided flow with the proof attached."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    pending = context.user_data.pop("pending_proof", None)
    if pending is None:
        await query.answer(
            context.gettext("This button no longer works. Please start again."), show_alert=True
        )
        return ConversationHandler.END
    await query.answer()
    await drop_buttons(query)
    # From a read certificate's card: its draft, less the field "Change…" chose.
    change = query.data.removeprefix(PREFIX + "proof").lstrip(":") if query.data else ""
    context.user_data["log"] = {**prefilled(context.user_data, change), "proof": pending}
    return await advance(update, context)


async def start_from_nudge(update: Update, context: RecertContext) -> str | int:
    """ "Log credits" on a nudge: /log for that credential; the nudge shows the choice."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    nudge_id = parse_id(query.data.rsplit(":", 1)[1])
    found = (
        await context.db.run(lambda session: nudges.answer(session, user.id, nudge_id))
        if nudge_id is not None
        else None
    )
    if found is None:
        await query.answer(
            context.gettext("This button no longer works. Please start again."), show_alert=True
        )
        return ConversationHandler.END
    await query.answer()
    message = query.message
    kept = html.escape(getattr(message, "text", "") or "")
    await query.edit_message_text(kept + "\n\n" + context.gettext("✏️ Logging credits…"))
    assert context.user_data is not None
    context.user_data["log"] = {"ids": [found[1].id], "ids_done": True}
    return await advance(update, context)


async def decline_proof(update: Update, context: RecertContext) -> None:
    query = update.callback_query
    assert query is not None and context.user_data is not None
    context.user_data.pop("pending_proof", None)
    await query.answer()
    await drop_buttons(query)


# -- answers: one callback per button and per typed answer, by state ------------------------


async def _pressed(update: Update) -> str:
    """Answers the button and takes the buttons off its message; returns what follows the
    button's prefix ("c:A")."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    await drop_buttons(query)
    return query.data.removeprefix(PREFIX)


def _typed_text(update: Update) -> str:
    message = update.effective_message
    assert message is not None
    return (message.text or "").strip()


async def amount_typed(update: Update, context: RecertContext) -> str | int:
    """AMOUNT: stores the credits or hours typed; asks for what is still missing (which
    credentials, what a bare number meant, the category, the date...)."""
    text = _typed_text(update)
    amount = parse_amount(text)
    if amount is None or amount_problem(*amount):
        return await ask_amount(update, context, _amount_problem_text(context, text))
    _answering(context, AMOUNT).update(amount=str(amount[0]), hours=amount[1])
    return await advance(update, context)


async def _choose(
    update: Update, context: RecertContext, change: str
) -> tuple[list[Held], list[int]]:
    """WHICH: the credentials chosen after a tick (`t:<id>`) or All of them (`all`); what is
    no longer held, or forged, is left out."""
    held = await _held(update, context)
    ids = [h.credential.id for h in held if h.credential.id is not None]
    draft = _answering(context, WHICH)
    chosen: list[int] = [i for i in draft.get("ids", []) if i in ids]
    value = change.removeprefix("t:")
    if change == "all":
        chosen = ids
    elif is_number(value) and int(value) in ids:
        tapped = int(value)
        chosen = [i for i in chosen if i != tapped] if tapped in chosen else [*chosen, tapped]
    draft["ids"] = chosen
    return held, chosen


async def ticked(update: Update, context: RecertContext) -> str:
    """WHICH, a credential: ticks it (or unticks it) in place; the question stays."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    held, chosen = await _choose(update, context, query.data.removeprefix(PREFIX))
    rows = _which_rows(context, held, set(chosen))
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup([*rows, _nav(context)]))
    except BadRequest as error:  # a forged or stale id changed nothing
        if "not modified" not in error.message:
            raise
    return WHICH


async def all_chosen(update: Update, context: RecertContext) -> str | int:
    """WHICH, All of them: stores every credential that takes credits; asks what follows."""
    held, _chosen = await _choose(update, context, await _pressed(update))
    _draft(context)["ids_done"] = True
    return await advance(update, context, held=held)


async def done_chosen(update: Update, context: RecertContext) -> str | int:
    """WHICH, Done: the ticked credentials are the answer (none: asked again); asks what
    follows."""
    held, chosen = await _choose(update, context, await _pressed(update))
    if not chosen:
        return await ask_which(update, context, context.gettext("Choose at least one."), held)
    _draft(context)["ids_done"] = True
    return await advance(update, context, held=held)


async def unit_chosen(update: Update, context: RecertContext) -> str | int:
    """UNIT: stores what a bare number meant (one body's credits, converted to hours for
    every credential when saved; or hours); asks what follows."""
    value = (await _pressed(update)).removeprefix("u:")
    held = await _held(update, context)
    draft = _answering(context, UNIT)
    meanings = {str(per_unit) for per_unit in _meanings(context.catalog, held, draft["ids"])}
    if value != "h" and value not in meanings:  # forged, or the credentials changed
        return await ask_unit(update, context, context.gettext("Please use the buttons below."))
    draft["unit"] = value
    return await advance(update, context, held=held)


async def category_chosen(update: Update, context: RecertContext) -> str | int:
    """CATEGORY: stores NSCA's category; asks for the date (or what else is missing)."""
    _answering(context, CATEGORY)["category"] = (await _pressed(update)).removeprefix("c:")
    return await advance(update, context)


async def day_chosen(update: Update, context: RecertContext) -> str | int:
    """DATE, Today or Yesterday: stores that day; asks for the title (or what follows)."""
    days_ago = int((await _pressed(update)).removeprefix("d:"))
    _answering(context, DATE)["date"] = (context.today() - timedelta(days=days_ago)).isoformat()
    return await advance(update, context)


async def date_typed(update: Update, context: RecertContext) -> str | int:
    """DATE, typed: stores the date read (or says why not and asks again); asks for the
    title (or what follows)."""
    parsed, reason = await read_date(context, _typed_text(update), expiry=False, earned=True)
    if parsed is None:
        return await ask_date(update, context, reason)
    _answering(context, DATE)["date"] = parsed.value.isoformat()
    return await advance(update, context)


def _line_problem(context: RecertContext, text: str, limit: int) -> str:
    """Why a title or provider can't be kept ("" when it can)."""
    if text and len(text) <= limit and not has_control(text):
        return ""
    return context.gettext("Please type at most {limit} characters, on one line.").format(
        limit=limit
    )


async def title_typed(update: Update, context: RecertContext) -> str | int:
    """TITLE: stores the course's name; asks for the provider (or what follows)."""
    text = _typed_text(update)
    problem = _line_problem(context, text, MAX_TITLE)
    if problem:
        return await ask_title(update, context, problem)
    _answering(context, TITLE)["title"] = text
    return await advance(update, context)


async def provider_typed(update: Update, context: RecertContext) -> str | int:
    """PROVIDER: stores who provided it; asks for the cost (or what follows)."""
    text = _typed_text(update)
    problem = _line_problem(context, text, MAX_PROVIDER)
    if problem:
        return await ask_provider(update, context, problem)
    _answering(context, PROVIDER)["provider"] = text
    return await advance(update, context)


async def cost_typed(update: Update, context: RecertContext) -> str | int:
    """COST: stores the cost and its currency (typed with it, else the trainer's); asks for
    the proof (or saves)."""
    currency = _currency(context)
    money = parse_cost(_typed_text(update), currency, context.tr.currencies())
    cost = money[0] if money else Decimal(-1)
    if not cost.is_finite() or cost < 0 or cost > MAX_COST:
        note = context.gettext("Please type an amount from 0 to {limit}, or skip.")
        return await ask_cost(update, context, note.format(limit=context.tr.number(MAX_COST)))
    draft = _answering(context, COST)
    draft["cost"] = str(cost.quantize(Decimal("0.01")))
    draft["currency"] = money[1] if money else currency
    return await advance(update, context)


async def proof_sent(update: Update, context: RecertContext) -> str | int:
    """PROOF, a file: stores the photo or PDF (anything else: why not, and asked again);
    saves, then reads the file for its course code."""
    message = update.effective_message
    assert message is not None
    proof = _proof_of(message)
    if isinstance(proof, str):
        return await ask_proof(update, context, _proof_refusal(context, proof))
    draft = _answering(context, PROOF)
    draft["proof"] = _as_data(proof)
    state = await advance(update, context)
    check_later(update, context, draft["proof"])  # its course code, ACE's no-repeat rule
    return state


def _skipped(state: str) -> Callback:
    async def skipped(update: Update, context: RecertContext) -> str | int:
        """PROVIDER, COST or PROOF, Skip: stores that there is none; asks what follows (or
        saves)."""
        await _pressed(update)
        _answering(context, state)[ANSWERS[state][0]] = None
        return await advance(update, context)

    return skipped


def _back_from(state: str) -> Callback:
    async def back(update: Update, context: RecertContext) -> str:
        """Back: drops this question's answer and the previous one's, and asks the previous
        question again (the one asked before this one: what was never asked is skipped)."""
        await _pressed(update)
        draft = _draft(context)
        asked = _remember(draft, state)
        asked.pop()
        for key in ANSWERS[state]:
            draft.pop(key, None)
        previous = asked[-1] if asked else state  # nothing before: this question again
        for key in ANSWERS[previous]:
            draft.pop(key, None)
        return await QUESTIONS[previous](update, context)

    return back


def _again(state: str, note: str) -> Callback:
    async def again(update: Update, context: RecertContext) -> str:
        """What this step does not take (a button of another step, a sticker at a step that
        waits for text): the question again, with a note on what it waits for."""
        if update.callback_query is not None:
            await _pressed(update)
        return await QUESTIONS[state](update, context, context.gettext(note))

    return again


def _hint(state: str, hint: str) -> Callback:
    async def hinted(update: Update, context: RecertContext) -> str:
        """Something typed or sent at a step that waits for a tap (or a file): one line on
        what it takes, the question and its buttons stay where they are."""
        await _say(update, context.gettext(hint))
        return state

    return hinted


async def cancelled(update: Update, context: RecertContext) -> int:
    """Cancel: drops the draft and ends."""
    await _pressed(update)
    assert context.user_data is not None
    context.user_data.pop("log", None)
    await _say(update, context.gettext("Cancelled: nothing was logged."))
    return ConversationHandler.END


def _new_credit(draft: dict[str, Any]) -> NewCredit:
    proof, unit = draft.get("proof"), draft.get("unit")
    amount = Decimal(draft["amount"])
    if unit not in (None, "h"):  # that body's credits: the same course in hours, for each
        amount *= Decimal(unit)
    return NewCredit(
        amount=Amount(amount, bool(draft.get("hours")) or unit is not None),
        earned_on=date.fromisoformat(draft["date"]),
        title=draft["title"],
        provider=draft.get("provider"),
        cost=Decimal(draft["cost"]) if draft.get("cost") else None,
        currency=draft.get("currency"),
        category=draft.get("category"),
        proof=Proof(**proof) if proof else None,
        code=draft.get("code"),
    )


async def _save(update: Update, context: RecertContext) -> int:
    user = update.effective_user
    assert user is not None and context.user_data is not None
    draft = context.user_data.pop("log")
    new = _new_credit(draft)
    catalog, today, ids = context.catalog, context.today(), list(draft["ids"])
    logged = await context.db.run(
        lambda session: credits.log(session, user.id, ids, new, catalog, today)
    )
    await _say_logged(update, context, logged, new)
    return ConversationHandler.END


async def _say_logged(
    update: Update, context: RecertContext, logged: Logged, new: NewCredit
) -> None:
    """What was logged (or refused, and why), with Undo when something was stored."""
    markup = None
    if logged.stored:
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        context.gettext("Undo"), callback_data=f"{PREFIX}undo:{logged.batch}"
                    )
                ]
            ]
        )
    await _say(update, outcome_text(context, logged, new), markup)


def outcome_text(context: RecertContext, logged: Logged, new: NewCredit) -> str:
    """One line per credential: what was logged and the new progress, or why not."""
    _ = context.gettext
    tr = context.tr
    lines = []
    for outcome in logged.outcomes:
        entry = context.catalog.get(outcome.credential.catalog_id)
        if outcome.refused is not None:
            lines.append(_refusal_text(context, outcome))
            continue
        assert outcome.units is not None
        line = _("Logged {units} to {name}.").format(
            units=units(tr, outcome.units, entry),
            name=credential_name(outcome.credential, context.catalog),
        )
        if outcome.owed:
            line += " " + _("Now {counted} of {required}.").format(
                counted=units(tr, outcome.counted, entry),
                required=units(tr, outcome.owed, entry),
            )
            line += "\n" + progress_bar(outcome.counted, outcome.owed)
        lines.append(line)
        if outcome.over_cap:
            lines.append(
                _(
                    "Only part counts: category {category} is capped, so {units} of it "
                    "is left out."
                ).format(category=new.category, units=units(tr, outcome.over_cap, entry))
            )
        if outcome.excess and entry is not None and entry.no_rollover:
            lines.append(
                _(
                    "{units} beyond the requirement will not carry over to the next "
                    "cycle: {body} does not roll credits over."
                ).format(units=units(tr, outcome.excess, entry), body=html.escape(entry.body))
            )
    return "\n".join(lines)


def _refusal_text(context: RecertContext, outcome: Outcome) -> str:
    """Why nothing was logged to one credential."""
    _ = context.gettext
    tr, credential = context.tr, outcome.credential
    entry = context.catalog.get(credential.catalog_id)
    reasons = {
        "future": _("Not logged to {name}: that date is in the future."),
        "before_cycle": _(
            "Not logged to {name}: it was earned before the current "
            "cycle began on {start}, so it does not count."
        ),
        "after_cycle": _(
            "Not logged to {name}: credits earned after {end} no longer count toward this cycle."
        ),
        "repeat": _(
            "Not logged to {name}: {body} does not count the same course twice in a cycle."
        ),
        "hours_unknown": _(
            "Not logged to {name}: I don't know how many hours make one "
            "of its credits; please give the amount in credits."
        ),
        "too_small": _("Not logged to {name}: that comes to less than {least} of its credits."),
    }
    return reasons[str(outcome.refused)].format(
        name=credential_name(credential, context.catalog),
        body=html.escape(entry.body) if entry else "",
        start=tr.date(credential.cycle_start),
        end=tr.date(outcome.last_day) if outcome.last_day else "",
        least=tr.number(LEAST_UNITS),
    )


async def undo(update: Update, context: RecertContext) -> None:
    """Undo: removes what that /log stored; a second tap says it is done already."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    batch = query.data.removeprefix(PREFIX + "undo:")
    removed = await context.db.run(lambda session: credits.undo(session, user.id, batch))
    _ = context.gettext
    if not removed:
        await query.answer(_("Already undone."), show_alert=True)
        return
    await query.answer()
    await drop_buttons(query)
    await _say(
        update,
        context.ngettext(
            "Undone: {count} entry removed.", "Undone: {count} entries removed.", removed
        ).format(count=removed),
    )


def _step(
    state: str, *own: BaseHandler[Update, RecertContext, object], text: bool = False
) -> list[BaseHandler[Update, RecertContext, object]]:
    """A state's handlers: its own, then what every step answers: Back, Cancel, a button of
    another step (the question again), and what it does not take: at a step that waits for
    text, a sticker or a photo gets a note and the question again; at one that waits for a
    tap, whatever is typed or sent gets one line."""
    stray = (
        _again(state, N_("I can't use that here; please answer the question below."))
        if text
        else _hint(state, N_("Please tap one of the buttons above."))
    )
    return [
        *own,
        CallbackQueryHandler(_back_from(state), pattern=BACK_BUTTON),
        CallbackQueryHandler(cancelled, pattern=CANCEL_BUTTON),
        CallbackQueryHandler(
            _again(state, N_("Please use the buttons below.")), pattern="|".join(BUTTONS)
        ),
        MessageHandler(TYPED, stray),
        MessageHandler(SENT_NOT_TEXT, stray),
    ]


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    def button(callback: Any, pattern: str) -> CallbackQueryHandler[RecertContext, Any]:
        return CallbackQueryHandler(callback, pattern=pattern)

    def typed(callback: Any) -> MessageHandler[RecertContext, Any]:
        return MessageHandler(TYPED, callback)

    def skip(state: str) -> CallbackQueryHandler[RecertContext, Any]:
        return button(_skipped(state), SKIP_BUTTON)

    not_a_file = N_("Please send the certificate as a photo or a PDF, or tap Skip.")
    states: dict[object, list[BaseHandler[Update, RecertContext, object]]] = {
        AMOUNT: _step(AMOUNT, typed(amount_typed), text=True),
        WHICH: _step(
            WHICH,
            button(ticked, TICK_BUTTON),
            button(all_chosen, ALL_BUTTON),
            button(done_chosen, DONE_BUTTON),
        ),
        UNIT: _step(UNIT, button(unit_chosen, UNIT_BUTTON)),
        CATEGORY: _step(CATEGORY, button(category_chosen, CATEGORY_BUTTON)),
        DATE: _step(DATE, typed(date_typed), button(day_chosen, DAY_BUTTON), text=True),
        TITLE: _step(TITLE, typed(title_typed), text=True),
        PROVIDER: _step(PROVIDER, typed(provider_typed), skip(PROVIDER), text=True),
        COST: _step(COST, typed(cost_typed), skip(COST), text=True),
        PROOF: _step(
            PROOF,
            MessageHandler(SENT_NOT_TEXT, proof_sent),
            skip(PROOF),
            typed(_hint(PROOF, not_a_file)),
        ),
    }
    proof_files = filters.PHOTO | filters.Document.ALL
    return [
        conversation(
            entry_points=[
                command("log", start_log),
                MessageHandler(
                    PRIVATE & proof_files & filters.CaptionRegex(r"^/log(@\w+)?(\s|$)"),
                    start_log,
                ),
                button(start_with_proof, PROOF_BUTTON),
                button(start_from_nudge, NUDGE_BUTTON),
            ],
            states={**states, **{number: states[name] for number, name in enumerate(NUMBERED)}},
            fallbacks=[command("cancel", cancel)],
            name="log",
            drafts=("log",),
            persistent=True,
            allow_reentry=True,
        ),
        button(undo, UNDO_BUTTON),
        button(decline_proof, NO_PROOF_BUTTON),
        MessageHandler(PRIVATE & proof_files, offer_proof),
    ]


FEATURE = Feature(
    "log",
    handlers,
    commands=(Command("log", N_("Log credits earned"), reads_trainer=True),),
    prefixes=(PREFIX,),
)
