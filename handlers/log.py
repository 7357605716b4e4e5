"""/log: record credits earned.

Two ways in: `/log 0.5 Corrective exercise webinar` (or `/log 5h ...` in hours) logs at once
when nothing is missing; `/log` alone asks step by step (amount, which credentials, date,
title, provider, cost, proof). Both fill one draft, and the conversation asks only for what
is still missing. A photo or PDF sent on its own is offered as the proof of a new entry. The
reply shows the new progress and an Undo button.
"""

from __future__ import annotations

import html
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
from storage.credits import Amount, Logged, NewCredit, Proof, fineprint_for, in_cents
from storage.models import Trainer

PREFIX = "log:"
AMOUNT, WHICH, CATEGORY, DATE, TITLE, PROVIDER, COST, PROOF, UNIT = range(9)
STEPS = (AMOUNT, WHICH, UNIT, CATEGORY, DATE, TITLE, PROVIDER, COST, PROOF)
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


def _draft(context: RecertContext) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault("log", {})  # type: ignore[no-any-return]


def amount_problem(value: Decimal, hours: bool) -> bool:
    """Not an amount to log: credits are checked as they will be stored (0.001 is 0.00);
    hours once converted, per credential (`storage.credits.log`)."""
    if not value.is_finite() or value <= 0 or value > (MAX_HOURS if hours else MAX_UNITS):
        return True
    return not hours and in_cents(value) <= 0


def _cancel_row(context: RecertContext) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(context.gettext("Cancel"), callback_data=PREFIX + "cancel")]


def _skip_row(context: RecertContext) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(context.gettext("Skip"), callback_data=PREFIX + "skip"),
        *_cancel_row(context),
    ]


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
        and not draft.get("unit_checked")
        and len(_meanings(catalog, held, draft["ids"])) > 1
    )


def _needs_category(catalog: Catalog, held: list[Held], ids: list[int]) -> bool:
    return any(fineprint_for(h.credential, catalog).caps for h in held if h.credential.id in ids)


async def advance(
    update: Update, context: RecertContext, note: str = "", held: list[Held] | None = None
) -> int:
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
        return await _ask(update, context, AMOUNT, note)
    if not (draft.get("ids") and draft.get("ids_done")):
        return await _ask(update, context, WHICH, note, held)
    if _needs_unit(context.catalog, held, draft):
        return await _ask(update, context, UNIT, note, held)
    if "category" not in draft and _needs_category(context.catalog, held, draft["ids"]):
        return await _ask(update, context, CATEGORY, note)
    for step, key in (
        (DATE, "date"),
        (TITLE, "title"),
        (PROVIDER, "provider"),
        (COST, "cost"),
        (PROOF, "proof"),
    ):
        if key not in draft:
            return await _ask(update, context, step, note)
    return await _save(update, context)


async def _say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    chat = update.effective_chat
    assert chat is not None
    return await chat.send_message(text, reply_markup=markup)


async def _ask(
    update: Update,
    context: RecertContext,
    step: int,
    note: str = "",
    held: list[Held] | None = None,
) -> int:
    _ = context.gettext
    draft = _draft(context)
    draft["step"] = step
    rows: list[list[InlineKeyboardButton]]
    if step == AMOUNT:
        text = _(
            "How much did you earn? Type the credits (for example 0.5) or the hours "
            "(for example 5h)."
        )
        rows = [_cancel_row(context)]
    elif step == WHICH:
        assert held is not None
        text = _("Which credentials does it count toward? Tap to choose, then Done.")
        rows = _which_rows(context, held, set(draft.get("ids", [])))
    elif step == UNIT:
        assert held is not None
        typed = context.tr.number(Decimal(draft["amount"]))
        text = _(
            "Credits mean different hours for these credentials. What did “{amount}” mean?"
        ).format(amount=typed)
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
            for per_unit, entry in sorted(_meanings(context.catalog, held, draft["ids"]).items())
        ]
        rows.append(
            [
                InlineKeyboardButton(
                    _("{amount} hours").format(amount=typed), callback_data=PREFIX + "u:h"
                )
            ]
        )
        rows.append(_cancel_row(context))
    elif step == CATEGORY:
        text = _("Which NSCA category is it?")
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
        rows.append(_cancel_row(context))
    elif step == DATE:
        text = _("When did you earn it? Type the date, or tap one.")
        rows = [
            [
                InlineKeyboardButton(_("Today"), callback_data=PREFIX + "d:0"),
                InlineKeyboardButton(_("Yesterday"), callback_data=PREFIX + "d:1"),
            ],
            _cancel_row(context),
        ]
    elif step == TITLE:
        text = _("What was the course or event called?")
        rows = [_cancel_row(context)]
    elif step == PROVIDER:
        text = _("Who provided it? (Optional.)")
        rows = [_skip_row(context)]
    elif step == COST:
        text = _("What did it cost you? Type the amount, or skip. I add it up per cycle.")
        rows = [_skip_row(context)]
    else:
        text = _(
            "Send the certificate as a photo or a PDF, so it is at hand for an audit. Or skip."
        )
        rows = [_skip_row(context)]
    await _say(update, (note + "\n\n" if note else "") + text, InlineKeyboardMarkup(rows))
    return step


def _which_rows(
    context: RecertContext, held: list[Held], chosen: set[int]
) -> list[list[InlineKeyboardButton]]:
    """The multi-select: a ✓ on each chosen credential, All of them, Done, Cancel."""
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
    rows.append(_cancel_row(context))
    return rows


# -- entry points ------------------------------------------------------------------------


async def start_log(update: Update, context: RecertContext) -> int:
    """/log with or without the one-liner's amount and title."""
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
        return await _refuse_proof(update, context, proof)
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


async def _log_at_once(update: Update, context: RecertContext, draft: dict[str, Any]) -> int:
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
        return held, ready, credits.log(session, user.id, ready["ids"], new, catalog, today)

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


async def _refuse_proof(update: Update, context: RecertContext, why: str) -> int:
    _ = context.gettext
    text = (
        _("That file is too large: a proof can be up to 20 MB.")
        if why == "size"
        else _("A proof has to be a photo or a PDF.")
    )
    step = _draft(context).get("step")
    if step is None:
        context.user_data.pop("log", None)  # type: ignore[union-attr]
        await _say(update, text)
        return ConversationHandler.END
    return await _ask(update, context, step, text)


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


async def start_with_proof(update: Update, context: RecertContext) -> int:
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


async def start_from_nudge(update: Update, context: RecertContext) -> int:
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


# -- answers -------------------------------------------------------------------------------


async def button(update: Update, context: RecertContext) -> int:
    """Every `log:` button inside the conversation."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    draft = _draft(context)
    kind, _sep, value = query.data.removeprefix(PREFIX).partition(":")
    step = draft.get("step")
    if kind == "cancel":
        context.user_data.pop("log", None)  # type: ignore[union-attr]
        await drop_buttons(query)
        await _say(update, context.gettext("Cancelled: nothing was logged."))
        return ConversationHandler.END
    if step == WHICH and kind in ("t", "all", "done"):
        held = await _held(update, context)
        ids = {h.credential.id for h in held}
        chosen: list[int] = [i for i in draft.get("ids", []) if i in ids]
        if kind == "t" and is_number(value) and int(value) in ids:
            chosen = (
                [i for i in chosen if i != int(value)]
                if int(value) in chosen
                else [*chosen, int(value)]
            )
        elif kind == "all":
            chosen = [h.credential.id for h in held if h.credential.id is not None]
        draft["ids"] = chosen
        if kind == "t":  # the question stays where it is: only its ✓ marks change
            try:
                await query.edit_message_reply_markup(
                    InlineKeyboardMarkup(_which_rows(context, held, set(chosen)))
                )
            except BadRequest as error:  # a forged or stale id changed nothing
                if "not modified" not in error.message:
                    raise
            return WHICH
        if not chosen:
            await drop_buttons(query)
            return await _ask(
                update, context, WHICH, context.gettext("Choose at least one."), held
            )
        draft["ids_done"] = True
    elif step == UNIT and kind == "u":
        held = await _held(update, context)
        meanings = {str(per_unit) for per_unit in _meanings(context.catalog, held, draft["ids"])}
        if value != "h" and value not in meanings:
            await drop_buttons(query)
            return await advance(update, context, context.gettext("Please use the buttons below."))
        if value != "h":  # in that body's credits: the same course in hours, for every body
            draft["amount"] = str(Decimal(draft["amount"]) * Decimal(value))
        draft.update(hours=True, unit_checked=True)
    elif step == CATEGORY and kind == "c" and value in CATEGORIES:
        draft["category"] = value
    elif step == DATE and kind == "d" and value in ("0", "1"):
        draft["date"] = (context.today() - timedelta(days=int(value))).isoformat()
    elif kind == "skip" and step in (PROVIDER, COST, PROOF):
        draft[{PROVIDER: "provider", COST: "cost", PROOF: "proof"}[step]] = None
    else:  # a button of an earlier step, or forged
        await drop_buttons(query)
        return await advance(update, context, context.gettext("Please use the buttons below."))
    await drop_buttons(query)
    return await advance(update, context)


async def typed(update: Update, context: RecertContext) -> int:
    """Text typed at a step: an amount, a date, a title, a provider or a cost."""
    message = update.effective_message
    assert message is not None
    text = (message.text or "").strip()
    draft = _draft(context)
    step = draft.get("step")
    _ = context.gettext
    if step == AMOUNT:
        amount = parse_amount(text)
        if amount is None or amount_problem(*amount):
            return await _ask(update, context, AMOUNT, _amount_problem_text(context, text))
        draft.update(amount=str(amount[0]), hours=amount[1])
    elif step == DATE:
        parsed, reason = await read_date(context, text, expiry=False, earned=True)
        if parsed is None:
            return await _ask(update, context, DATE, reason)
        draft["date"] = parsed.value.isoformat()
    elif step in (TITLE, PROVIDER):
        limit = MAX_TITLE if step == TITLE else MAX_PROVIDER
        if not text or len(text) > limit or has_control(text):
            return await _ask(
                update,
                context,
                step,
                _("Please type at most {limit} characters, on one line.").format(limit=limit),
            )
        draft["title" if step == TITLE else "provider"] = text
    elif step == COST:
        chosen = context.trainer.currency if context.trainer else None
        currency = currency_for(chosen, context.tr.language)
        money = parse_cost(text, currency, context.tr.currencies())
        cost = money[0] if money else Decimal(-1)
        if not cost.is_finite() or cost < 0 or cost > MAX_COST:
            return await _ask(
                update,
                context,
                COST,
                _("Please type an amount from 0 to {limit}, or skip.").format(
                    limit=context.tr.number(MAX_COST)
                ),
            )
        draft["cost"] = str(cost.quantize(Decimal("0.01")))
        draft["currency"] = money[1] if money else currency
    else:  # a buttons-only step: one line, not the whole question again
        await _say(update, _("Please tap one of the buttons above."))
        return int(step) if step is not None else AMOUNT
    return await advance(update, context)


async def sent_file(update: Update, context: RecertContext) -> int:
    """A photo, a document or anything else while /log is under way."""
    message = update.effective_message
    assert message is not None
    draft = _draft(context)
    if draft.get("step") == PROOF:
        proof = _proof_of(message)
        if isinstance(proof, str):
            return await _refuse_proof(update, context, proof)
        draft["proof"] = _as_data(proof)
        state = await advance(update, context)
        check_later(update, context, draft["proof"])  # its course code, ACE's no-repeat rule
        return state
    return await advance(
        update,
        context,
        context.gettext("I can't use that here; please answer the question below."),
    )


def _new_credit(draft: dict[str, Any]) -> NewCredit:
    proof = draft.get("proof")
    return NewCredit(
        amount=Amount(Decimal(draft["amount"]), bool(draft.get("hours"))),
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
        credential = outcome.credential
        entry = context.catalog.get(credential.catalog_id)
        name = credential_name(credential, context.catalog)
        body = html.escape(entry.body) if entry else ""
        if outcome.refused is not None:
            reasons = {
                "future": _("Not logged to {name}: that date is in the future."),
                "before_cycle": _(
                    "Not logged to {name}: it was earned before the current "
                    "cycle began on {start}, so it does not count."
                ),
                "after_cycle": _(
                    "Not logged to {name}: credits earned after {end} no longer count "
                    "toward this cycle."
                ),
                "repeat": _(
                    "Not logged to {name}: {body} does not count the same course twice in a cycle."
                ),
                "hours_unknown": _(
                    "Not logged to {name}: I don't know how many hours make one "
                    "of its credits; please give the amount in credits."
                ),
                "too_small": _(
                    "Not logged to {name}: that comes to less than {least} of its credits."
                ),
            }
            lines.append(
                reasons[str(outcome.refused)].format(
                    name=name,
                    body=body,
                    start=tr.date(credential.cycle_start),
                    end=tr.date(outcome.last_day) if outcome.last_day else "",
                    least=tr.number(LEAST_UNITS),
                )
            )
            continue
        assert outcome.units is not None
        line = _("Logged {units} to {name}.").format(
            units=units(tr, outcome.units, entry), name=name
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
                ).format(units=units(tr, outcome.excess, entry), body=body)
            )
    return "\n".join(lines)


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


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    proof_files = filters.PHOTO | filters.Document.ALL
    every_step = [
        CallbackQueryHandler(button, pattern=rf"^{PREFIX}(?!undo:|proof(:|$)|noproof$)"),
        MessageHandler(TYPED, typed),
        MessageHandler(SENT_NOT_TEXT, sent_file),
    ]
    return [
        conversation(
            entry_points=[
                command("log", start_log),
                MessageHandler(
                    PRIVATE & proof_files & filters.CaptionRegex(r"^/log(@\w+)?(\s|$)"),
                    start_log,
                ),
                CallbackQueryHandler(start_with_proof, pattern=rf"^{PREFIX}proof(:[a-z]+)?$"),
                CallbackQueryHandler(start_from_nudge, pattern=r"^nudge:log:\d+$"),
            ],
            states={step: every_step for step in STEPS},
            fallbacks=[command("cancel", cancel)],
            name="log",
            drafts=("log",),
            persistent=True,
            allow_reentry=True,
        ),
        CallbackQueryHandler(undo, pattern=rf"^{PREFIX}undo:[0-9a-f]{{32}}$"),
        CallbackQueryHandler(decline_proof, pattern=rf"^{PREFIX}noproof$"),
        MessageHandler(PRIVATE & proof_files, offer_proof),
    ]


FEATURE = Feature(
    "log",
    handlers,
    commands=(Command("log", N_("Log credits earned"), reads_trainer=True),),
    prefixes=(PREFIX,),
)
