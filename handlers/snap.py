"""Snap to log: a certificate's photo or PDF is read and offered as a prefilled credit.

"0.5 CEU · 15 March 2025 · Corrective Exercise Fundamentals · counts toward NASM-CPT?"
[Log it] [Change…] [Cancel]. Reading takes a second or two, so it runs as a task after the
handler has answered ("Log this certificate? ⏳ Reading it…", today's prompt, which then
becomes the card): updates are handled one after another, and other chats must not wait.
Saving, and asking what could not be read, is /log's own conversation (`log:proof:<field>`
enters it with this draft), so the fine print is applied in one place. A renewal card's
photo, at /credentials' "Edit dates", is read for its expiry.
"""

from __future__ import annotations

import html
import logging
from datetime import date
from decimal import Decimal
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from bot.context import RecertContext
from handlers import drop_buttons, is_number
from handlers.feature import Feature
from handlers.reader import Reader, Unavailable, Unreadable
from handlers.render import credential_name
from scheduler.certificate import Certificate, understand
from scheduler.cycles import cycle_from_expiry
from storage import credentials, credits
from storage.catalog import Catalog
from storage.credentials import Held, held_by, rule_for

logger = logging.getLogger(__name__)

PREFIX = "snap:"
KEY = "snap"  # user_data: the draft the card shown offers
# What "Change…" offers, and the draft keys each one empties so that /log asks for it.
CHANGES = {
    "amount": ("amount", "hours"),
    "date": ("date",),
    "title": ("title",),
    "provider": ("provider",),
    "ids": ("ids", "ids_done", "category"),
}


def _reader(context: RecertContext) -> Reader:
    reader = context.bot_data.get("reader")
    if reader is None:
        reader = context.bot_data["reader"] = Reader()
    return reader


def prefilled(user_data: dict[Any, Any], change: str) -> dict[str, Any]:
    """The draft of the card just answered, less the field to change: /log asks for it."""
    draft: dict[str, Any] = dict(user_data.pop(KEY, None) or {})
    draft.pop("card", None)
    for key in CHANGES.get(change, ()):
        draft.pop(key, None)
    return draft


def _month_first(context: RecertContext) -> bool:
    """How the trainer's language writes 03/04/2025: month first in English (US)."""
    return str(context.tr.locale.date_formats["short"].pattern).startswith("M")


async def reading_note(update: Update, context: RecertContext, proof: dict[str, Any]) -> str:
    """What to add to "Log this certificate?" while the file is read: "" when it can't be
    (a photo, and no Tesseract here: said once per person)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None and context.user_data is not None
    shown = context.user_data.pop(KEY, None)
    if shown and shown.get("card"):
        # The card shown before is for another file: its buttons would log this one.
        try:
            await context.bot.edit_message_reply_markup(chat.id, shown["card"], reply_markup=None)
        except BadRequest as error:
            if "not modified" not in error.message and "not found" not in error.message:
                raise
    reader = _reader(context)
    if proof["kind"] != "document" and not reader.can_ocr():
        await _say_unavailable(context, reader, user.id, chat.id)
        return ""
    return "\n" + context.gettext("⏳ Reading it…")


def read_later(
    update: Update, context: RecertContext, proof: dict[str, Any], prompt: Message
) -> None:
    """Reads the file after the handler has answered, and turns the prompt into the card."""
    user = update.effective_user
    assert user is not None
    context.application.create_task(_read_into(context, user.id, prompt, proof), update=update)


async def _say_unavailable(
    context: RecertContext, reader: Reader, user_id: int, chat_id: int
) -> None:
    if reader.first_time_unavailable(user_id):
        await context.bot.send_message(
            chat_id,
            context.gettext(
                "I can't read certificates on this server (its text reader is not "
                "installed), so I'll ask for the details. Your file is kept as the proof."
            ),
        )


async def _download(context: RecertContext, file_id: str) -> bytes:
    file = await context.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


async def _read(
    context: RecertContext, user_id: int, chat_id: int, proof: dict[str, Any]
) -> Certificate | None:
    """The certificate understood, or None when it can't be read."""
    reader = _reader(context)
    try:
        lines = await reader.read(
            user_id,
            lambda: _download(context, proof["file_id"]),
            proof["kind"] == "document",
            context.tr.language,
        )
    except Unavailable:  # a scanned PDF, and no Tesseract here
        await _say_unavailable(context, reader, user_id, chat_id)
        return None
    except (Unreadable, TimeoutError):
        # Not worth an error in the logs: a damaged file or a page too dense to read in time.
        logger.info("a certificate could not be read")
        return None
    bodies = {entry.body for entry in context.catalog}
    return understand(lines, context.today(), bodies, _month_first(context))


async def _read_into(
    context: RecertContext, user_id: int, prompt: Message, proof: dict[str, Any]
) -> None:
    """The prompt becomes the card; or says it couldn't be read, keeping its buttons."""
    assert context.user_data is not None
    certificate = await _read(context, user_id, prompt.chat_id, proof)
    if context.user_data.get("pending_proof") != proof:
        # Answered already ("Yes, log credits" or "No"), or another file came since (its
        # prompt is the one that counts): this one stops saying it is being read.
        await _edit(prompt, context.gettext("Log this certificate?"), None)
        return
    held = await context.db.run(lambda session: held_by(session, user_id, context.catalog))
    eligible = [h for h in held if not _is_card(h, context.catalog)]
    _ = context.gettext
    if certificate is None or not eligible:
        text = (_("I couldn't read it.") + " " if certificate is None else "") + _(
            "Log this certificate?"
        )
        await _edit(prompt, text, prompt.reply_markup)
        return
    draft = draft_from(certificate, eligible, context.catalog)
    context.user_data[KEY] = {**draft, "card": prompt.message_id}
    await _edit(
        prompt,
        card_text(context, certificate, draft, eligible),
        _card_buttons(context, complete=_complete(draft)),
    )


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        # Unchanged, or deleted by the person meanwhile: nothing to show it on.
        if "not modified" not in error.message and "not found" not in error.message:
            raise


def check_later(update: Update, context: RecertContext, proof: dict[str, Any]) -> None:
    """A proof given at /log's last step, once that entry is logged: read for its course
    code, kept with the entry; a course a body counts once, logged again, is pointed out."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    if proof["kind"] != "document" and not _reader(context).can_ocr():
        return  # nothing to add: what the trainer typed is what was logged
    context.application.create_task(_check(context, user.id, chat.id, proof), update=update)


async def _check(
    context: RecertContext, user_id: int, chat_id: int, proof: dict[str, Any]
) -> None:
    certificate = await _read(context, user_id, chat_id, proof)
    if certificate is None or not certificate.sure("code"):
        return
    assert certificate.code is not None
    code, catalog = certificate.code.value, context.catalog
    repeats = await context.db.run(
        lambda session: credits.add_code(session, user_id, proof["file_id"], code, catalog)
    )
    for credential, batch in repeats:
        entry = catalog.get(credential.catalog_id)
        await context.bot.send_message(
            chat_id,
            context.gettext(
                "{body} counts a course once: the course code {code} on this certificate "
                "was logged for {name} before in this cycle. Undo this entry?"
            ).format(
                body=html.escape(entry.body if entry else ""),
                code=html.escape(code),
                name=credential_name(credential, catalog),
            ),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            context.gettext("Undo"), callback_data=f"log:undo:{batch}"
                        )
                    ]
                ]
            )
            if batch
            else None,
        )


def _is_card(held: Held, catalog: Catalog) -> bool:
    entry = catalog.get(held.credential.catalog_id)
    return entry is not None and entry.is_cpr


def draft_from(certificate: Certificate, held: list[Held], catalog: Catalog) -> dict[str, Any]:
    """A /log draft from what was read surely; what is unsure is left out, and so asked."""
    read: dict[str, Any] = {}
    ids = _credentials_for(certificate, held, catalog)
    if ids:
        read.update(ids=ids, ids_done=True)
    if certificate.sure("units"):
        assert certificate.units is not None
        found = certificate.units.value
        named = {
            entry.unit_name
            for h in held
            if h.credential.id in (ids or [])
            and (entry := catalog.get(h.credential.catalog_id)) is not None
        }
        # 0.5 CEU for a credential counted in CECs is not 0.5 of its units: ask instead.
        if found.kind == "hours" or named <= {found.kind.upper(), None}:
            read.update(amount=str(found.amount), hours=found.kind == "hours")
    if certificate.sure("completed_on"):
        assert certificate.completed_on is not None
        read["date"] = certificate.completed_on.value.isoformat()
    if certificate.sure("title"):
        assert certificate.title is not None
        read["title"] = certificate.title.value
    read["provider"] = (
        certificate.provider.value
        if certificate.provider is not None and certificate.provider.sure
        else None
    )
    if certificate.sure("code"):
        assert certificate.code is not None
        read["code"] = certificate.code.value
    return {"cost": None, **read}


def _credentials_for(certificate: Certificate, held: list[Held], catalog: Catalog) -> list[int]:
    """The credential it counts toward: the only one, or the only one of the body it names."""
    if len(held) == 1:
        return [held[0].credential.id or 0]
    if not certificate.sure("body"):
        return []
    assert certificate.body is not None
    of_body = [
        h.credential.id or 0
        for h in held
        if (entry := catalog.get(h.credential.catalog_id)) and entry.body == certificate.body.value
    ]
    return of_body if len(of_body) == 1 else []


def _complete(draft: dict[str, Any]) -> bool:
    return all(key in draft for key in ("amount", "date", "title", "ids"))


def card_text(
    context: RecertContext, certificate: Certificate, draft: dict[str, Any], held: list[Held]
) -> str:
    """ "0.5 CEU · 15 March 2025 · Corrective Exercise Fundamentals · counts toward NASM-CPT?"
    with the provider and code under it, and what could not be read, to be asked."""
    _ = context.gettext
    tr = context.tr
    parts: list[str] = []
    missing: list[str] = []
    if "amount" in draft:
        amount = Decimal(draft["amount"])
        if draft.get("hours"):
            parts.append(
                context.ngettext(
                    "{count} contact hour", "{count} contact hours", int(amount)
                ).format(count=tr.number(amount))
            )
        else:
            assert certificate.units is not None
            parts.append(f"{tr.number(amount)} {certificate.units.value.kind.upper()}")
    else:
        missing.append(_("the amount"))
    if "date" in draft:
        parts.append(tr.date(date.fromisoformat(draft["date"]), "long"))
    else:
        missing.append(_("the date"))
    if "title" in draft:
        parts.append(html.escape(draft["title"]))
    else:
        missing.append(_("the course title"))
    names = [
        credential_name(h.credential, context.catalog)
        for h in held
        if h.credential.id in draft.get("ids", [])
    ]
    if names:
        parts.append(_("counts toward {names}?").format(names=", ".join(names)))
    else:
        missing.append(_("which credential it counts toward"))
    lines = [_("📄 From your certificate:"), " · ".join(parts)]
    if draft.get("provider"):
        lines.append(_("Provider: {provider}").format(provider=html.escape(draft["provider"])))
    if draft.get("code"):
        lines.append(_("Course code: {code}").format(code=html.escape(draft["code"])))
    if missing:
        lines.append(
            _("I couldn't read {fields} for sure: I'll ask.").format(fields=", ".join(missing))
        )
    return "\n".join(lines)


def _card_buttons(context: RecertContext, complete: bool) -> InlineKeyboardMarkup:
    _ = context.gettext
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("Log it") if complete else _("Continue"), callback_data="log:proof:save"
                ),
                InlineKeyboardButton(_("Change…"), callback_data=PREFIX + "change"),
                InlineKeyboardButton(_("Cancel"), callback_data=PREFIX + "cancel"),
            ]
        ]
    )


def _change_buttons(context: RecertContext) -> InlineKeyboardMarkup:
    _ = context.gettext
    labels = {
        "amount": _("Amount"),
        "date": _("Date"),
        "title": _("Title"),
        "provider": _("Provider"),
        "ids": _("Credentials"),
    }
    fields = [
        InlineKeyboardButton(label, callback_data=f"log:proof:{change}")
        for change, label in labels.items()
    ]
    rows = [fields[i : i + 3] for i in range(0, len(fields), 3)]
    rows.append([InlineKeyboardButton(_("Back"), callback_data=PREFIX + "back")])
    return InlineKeyboardMarkup(rows)


async def button(update: Update, context: RecertContext) -> None:
    """Change… (which field), Back (to the card) and Cancel on a card."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.user_data is not None
    action = query.data.removeprefix(PREFIX)
    draft = context.user_data.get(KEY)
    if draft is None:
        await query.answer(
            context.gettext("This button no longer works. Please start again."), show_alert=True
        )
        await drop_buttons(query)
        return
    await query.answer()
    if action == "cancel":
        context.user_data.pop(KEY, None)
        context.user_data.pop("pending_proof", None)
        await drop_buttons(query)
        chat = update.effective_chat
        assert chat is not None
        await chat.send_message(context.gettext("Cancelled: nothing was logged."))
        return
    markup = (
        _change_buttons(context)
        if action == "change"
        else _card_buttons(context, _complete(draft))
    )
    await query.edit_message_reply_markup(markup)


# -- renewal cards -------------------------------------------------------------------------


async def card_sent(update: Update, context: RecertContext) -> None:
    """A photo or PDF of a renewed card at "Edit dates": read for its new expiry date. The
    step stays open, so typing the date still works."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None and context.user_data is not None
    _ = context.gettext
    edit = context.user_data.get("edit") or {}
    document = message.document
    is_pdf = document is not None and (
        document.mime_type == "application/pdf"
        or (document.file_name or "").lower().endswith(".pdf")
    )
    if message.photo:
        file_id = message.photo[-1].file_id
    elif is_pdf:
        assert document is not None
        file_id = document.file_id
    else:
        await message.reply_text(_("Please type the new value, or press Cancel."))
        return
    reader = _reader(context)
    if not is_pdf and not reader.can_ocr():
        await _say_unavailable(context, reader, user.id, message.chat_id)
        await message.reply_text(_("Please type the new value, or press Cancel."))
        return
    await message.reply_text(_("⏳ Reading the card…"))
    proof = {"file_id": file_id, "kind": "document" if is_pdf else "photo"}
    context.application.create_task(
        _read_card(context, user.id, message.chat_id, proof, int(edit.get("id", 0))),
        update=update,
    )


async def _read_card(
    context: RecertContext, user_id: int, chat_id: int, proof: dict[str, Any], credential_id: int
) -> None:
    _ = context.gettext
    certificate = await _read(context, user_id, chat_id, proof)
    expiry = certificate.expires_on if certificate is not None else None
    if expiry is None or not expiry.sure:
        await context.bot.send_message(
            chat_id,
            _("I couldn't find the expiry date on it. Please type it, as printed on the card."),
        )
        return
    await context.bot.send_message(
        chat_id,
        _("The card says it is valid until {date}. Is that the new expiry date?").format(
            date=context.tr.date(expiry.value, "long")
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("Yes, use it"),
                        callback_data=f"{PREFIX}exp:{credential_id}:{expiry.value.isoformat()}",
                    ),
                    InlineKeyboardButton(_("No"), callback_data=f"cred:v:{credential_id}"),
                ]
            ]
        ),
    )


async def use_expiry(update: Update, context: RecertContext) -> int:
    """ "Yes, use it": the card's expiry date becomes the cycle's end."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    _sep, raw_id, raw_date = query.data.removeprefix(PREFIX).split(":")
    try:
        expiry = date.fromisoformat(raw_date)
    except ValueError:
        expiry = None
    catalog = context.catalog

    def renew(session: Any) -> Any:
        credential = credentials.owned(session, user.id, int(raw_id))
        if credential is None or expiry is None:
            return None
        cycle = cycle_from_expiry(rule_for(credential, catalog), expiry)
        return credentials.set_cycle(session, user.id, int(raw_id), cycle)

    credential = await context.db.run(renew) if is_number(raw_id) else None
    if credential is None:
        await query.answer(
            context.gettext("That credential is not on file (any more)."), show_alert=True
        )
        return ConversationHandler.END
    await query.answer()
    await drop_buttons(query)
    if context.user_data is not None:
        context.user_data.pop("edit", None)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        context.gettext("Dates updated: {name} is now valid until {date}.").format(
            name=credential_name(credential, catalog),
            date=context.tr.date(credential.cycle_end, "long"),
        )
    )
    return ConversationHandler.END


USE_EXPIRY = rf"^{PREFIX}exp:\d+:[0-9-]{{10}}$"


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    """The card's buttons; "Yes, use it" also here for when "Edit dates" has ended."""
    return [
        CallbackQueryHandler(button, pattern=rf"^{PREFIX}(change|back|cancel)$"),
        CallbackQueryHandler(use_expiry, pattern=USE_EXPIRY),
    ]


FEATURE = Feature("snap", handlers, prefixes=(PREFIX,))
