"""/export: spreadsheets (CSV) of credentials and credits, and a calendar (.ics) with every
deadline and alarms before it. /audit: one ZIP per credential and cycle with a summary, the
credits and every proof attached, ready to forward when a body audits."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import RecertContext
from bot.i18n import N_
from handlers import command, parse_id
from handlers.feature import Command, Feature
from handlers.render import (
    after_grace_lines,
    cost_currency,
    credential_name,
    standing_label,
    units,
)
from storage import credits
from storage.credentials import past_cycles, taking_credits
from storage.exports import (
    CredentialRow,
    CreditRow,
    Deadline,
    audit_zip,
    credentials_csv,
    credits_csv,
    deadlines_ics,
)
from storage.models import Credit

PREFIX = "audit:"
ALARM_DAYS = (90, 30, 7, 1)
MAX_UPLOAD = 50 * 1024 * 1024  # what a bot may send


def _credit_headers(context: RecertContext) -> list[str]:
    _ = context.gettext
    return [
        _("Credential"),
        _("Earned on"),
        _("Title"),
        _("Provider"),
        _("Credits"),
        _("Unit"),
        _("Cost"),
        _("Currency"),
        _("Proof"),
    ]


def _proof_name(credit: Credit) -> str | None:
    if not credit.proof_file_id:
        return None
    if credit.proof_name:
        return credit.proof_name
    slug = re.sub(r"[^\w-]+", "-", credit.title.lower()).strip("-")[:40] or "certificate"
    return f"{credit.earned_on.isoformat()}-{slug}.jpg"


async def export(update: Update, context: RecertContext) -> None:
    """/export: three files, built off the event loop."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    held, every_credit = await context.db.run(
        lambda session: credits.everything(session, user.id, context.catalog)
    )
    _ = context.gettext
    if not held:
        await chat.send_message(_("You have no credentials on file yet. Add one with /add."))
        return
    tr, catalog = context.tr, context.catalog
    names = {h.credential.id: html.unescape(credential_name(h.credential, catalog)) for h in held}
    credential_rows, deadlines = [], []
    for h in held:
        credential = h.credential
        entry = catalog.get(credential.catalog_id)
        assert h.holding is not None
        standing = context.standing(h.holding, h.earned)
        name = names[credential.id]
        after = after_grace_lines(tr, entry)
        credential_rows.append(
            CredentialRow(
                name=name,
                body=entry.body if entry else None,
                cycle_start=credential.cycle_start,
                cycle_end=standing.deadline,
                units_required=standing.owed,
                units_earned=standing.counted,
                unit_name=entry.unit_name if entry else None,
                number=credential.number,
                state=standing_label(tr, standing.state),
                grace_end=standing.grace_end,
                after_grace=html.unescape(after[0]) if after else None,
            )
        )
        if credential.cycle_end is not None:
            description = _("Renew {name} by this day.").format(name=name)
            if credential.units_required:
                description += " " + _("Credits required: {requirement}").format(
                    requirement=units(tr, credential.units_required, entry)
                )
            if standing.grace_end is not None:
                description += "\n" + _(
                    "Grace period: a late renewal is accepted until {date}."
                ).format(date=tr.date(standing.grace_end, "long"))
            if after:
                description += "\n" + _("After that: {text}").format(text=html.unescape(after[0]))
            if entry is not None and entry.renew_url:
                description += "\n" + entry.renew_url
            deadlines.append(
                Deadline(
                    uid=f"credential-{credential.id}-{credential.cycle_end.isoformat()}@recert",
                    day=credential.cycle_end,
                    summary=_("{name} expires").format(name=name),
                    description=description,
                    alarms_days_before=ALARM_DAYS,
                    alarm_text=_("{name} is due soon: renew it on time.").format(name=name),
                )
            )
    entries = {h.credential.id: catalog.get(h.credential.catalog_id) for h in held}
    credit_rows = [
        CreditRow(
            credential=names.get(credit.credential_id, "?"),
            units=credit.units,
            unit_name=(entry.unit_name if (entry := entries.get(credit.credential_id)) else None),
            earned_on=credit.earned_on,
            title=credit.title,
            provider=credit.provider,
            cost=credit.cost,
            currency=cost_currency(context, credit),
            proof=_proof_name(credit),
        )
        for credit in every_credit
    ]
    credential_headers = [
        _("Credential"),
        _("Body"),
        _("Number"),
        _("State"),
        _("Cycle start"),
        _("Cycle end"),
        _("Credits required"),
        _("Credits earned"),
        _("Unit"),
        _("Grace period ends"),
        _("After the grace period"),
    ]

    def build() -> tuple[bytes, bytes, bytes]:
        return (
            credentials_csv(credential_headers, credential_rows),
            credits_csv(_credit_headers(context), credit_rows),
            deadlines_ics(_("Recert deadlines"), deadlines, datetime.now(UTC)),
        )

    first, second, calendar = await asyncio.to_thread(build)
    await chat.send_document(
        InputFile(first, filename="recert-credentials.csv"),
        caption=_("Your credentials (opens in any spreadsheet)."),
    )
    await chat.send_document(
        InputFile(second, filename="recert-credits.csv"), caption=_("Every credit you logged.")
    )
    await chat.send_document(
        InputFile(calendar, filename="recert-deadlines.ics"),
        caption=_("Open this to put every deadline, with reminders, in your phone's calendar."),
    )


async def audit(update: Update, context: RecertContext) -> None:
    """/audit: which credential and cycle to pack."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    _ = context.gettext

    def load(session):  # type: ignore[no-untyped-def]
        held, _credits = credits.everything(session, user.id, context.catalog)
        return [
            (h.credential, past_cycles(session, user.id, h.credential.id or 0))
            for h in taking_credits(held, context.catalog)  # a CPR/AED card has no credits
        ]

    choices = await context.db.run(load)
    if not choices:
        await chat.send_message(_("You have no credentials on file yet. Add one with /add."))
        return
    rows = []
    for credential, past in choices:
        name = html.unescape(credential_name(credential, context.catalog))
        rows.append(
            [
                InlineKeyboardButton(
                    _("{name}: current cycle").format(name=name),
                    callback_data=f"{PREFIX}{credential.id}:c",
                )
            ]
        )
        for cycle in past[-2:]:  # the last two closed cycles: audits look back one cycle
            end = cycle.cycle_end.year if cycle.cycle_end else ""
            label = f"{name}: {cycle.cycle_start.year}–{end}"
            rows.append(
                [InlineKeyboardButton(label, callback_data=f"{PREFIX}{credential.id}:p{cycle.id}")]
            )
    await chat.send_message(
        _(
            "Certifying bodies audit at random and give a few weeks to send "
            "proof. Which credential and cycle should I pack?"
        ),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def pack(update: Update, context: RecertContext) -> None:
    """Builds the ZIP: a summary, the credits as CSV, and each proof fetched from Telegram."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and query.data is not None and user is not None and chat
    raw_id, _sep, which = query.data.removeprefix(PREFIX).partition(":")
    credential_id = parse_id(raw_id)
    past_id = parse_id(which[1:]) if which.startswith("p") else None
    _ = context.gettext
    found = None
    if credential_id is not None and (which == "c" or past_id is not None):
        found = await context.db.run(
            lambda session: credits.for_audit(session, user.id, credential_id, past_id)
        )
    if found is None:
        await query.answer(_("That credential is not on file (any more)."), show_alert=True)
        return
    await query.answer(_("Packing…"))
    credential, cycle, entries = found
    tr, catalog = context.tr, context.catalog
    entry = catalog.get(credential.catalog_id)
    name = html.unescape(credential_name(credential, catalog))
    proofs: list[tuple[str, bytes]] = []
    missing = 0
    for credit in entries:
        if not credit.proof_file_id:
            continue
        try:
            file = await context.bot.get_file(credit.proof_file_id)
            proofs.append(
                (_proof_name(credit) or "proof", bytes(await file.download_as_bytearray()))
            )
        except TelegramError:
            missing += 1
    earned = sum((credit.units for credit in entries), Decimal(0))
    lines = [
        _("Continuing education for {name}").format(name=name),
        entry.full_name if entry else "",
        _("Credential number: {number}").format(number=credential.number or "—"),
        _("Cycle: {start} to {end}").format(
            start=tr.date(cycle.start, "long"),
            end=tr.date(cycle.end, "long") if cycle.end else "—",
        ),
        _("Credits required: {requirement}").format(
            requirement=units(tr, cycle.units_required, entry)
        ),
        _("Credits logged: {earned}").format(earned=units(tr, earned, entry)),
        "",
    ]
    for credit in entries:
        lines.append(
            f"{credit.earned_on.isoformat()}  {units(tr, credit.units, entry)}  "
            f"{credit.title}"
            + (f"  ({credit.provider})" if credit.provider else "")
            + (f"  [{_proof_name(credit)}]" if credit.proof_file_id else "")
        )
    rows = [
        CreditRow(
            credential=name,
            units=c.units,
            unit_name=entry.unit_name if entry else None,
            earned_on=c.earned_on,
            title=c.title,
            provider=c.provider,
            cost=c.cost,
            currency=cost_currency(context, c),
            proof=_proof_name(c),
        )
        for c in entries
    ]
    summary = "\n".join(lines)
    headers = _credit_headers(context)
    data = await asyncio.to_thread(
        lambda: audit_zip(
            "summary.txt", summary, "credits.csv", credits_csv(headers, rows), proofs
        )
    )
    if len(data) > MAX_UPLOAD:
        await chat.send_message(
            _(
                "The pack is larger than Telegram lets me send (50 MB). Use "
                "/history to forward the proofs one by one."
            )
        )
        return
    slug = re.sub(r"[^\w-]+", "-", name).strip("-")
    years = f"{cycle.start.year}-{cycle.end.year if cycle.end else ''}".rstrip("-")
    caption = (
        context.ngettext("{count} credit entry", "{count} credit entries", len(entries)).format(
            count=len(entries)
        )
        + ", "
        + context.ngettext("{count} proof file.", "{count} proof files.", len(proofs)).format(
            count=len(proofs)
        )
    )
    if missing:
        caption += " " + context.ngettext(
            "{count} proof could not be fetched from Telegram.",
            "{count} proofs could not be fetched from Telegram.",
            missing,
        ).format(count=missing)
    await chat.send_document(
        InputFile(data, filename=f"audit-{slug}-{years}.zip"), caption=caption
    )


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    return [
        command("export", export),
        command("audit", audit),
        CallbackQueryHandler(pack, pattern=rf"^{PREFIX}"),
    ]


FEATURE = Feature(
    "exports",
    handlers,
    commands=(
        Command("export", N_("Spreadsheet and calendar files")),
        Command("audit", N_("Proof pack for an audit")),
    ),
    prefixes=(PREFIX,),
)
