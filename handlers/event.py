"""In-house continuing education: a manager posts an event in the team's group, members
confirm their attendance in private, and the credits are logged with an attendance record as
their proof.

In the group, one line (fields separated by ";"):
    /event 2026-12-05; Kettlebell workshop; ACE-2026-114; ACE 0.2, NASM 0.2
date; title; the provider, or the body's approval code (one word with a digit); the units per
body (a body from the catalog and an amount in its units, or hours: "NASM 2h").

The group post has "I attended" (a member of the group: the bot writes to them in private to
confirm, or, for someone who never started it, the button answers with a deep link,
`/start event-<id>`) and "Attendance CSV" (managers only, sent to them in private). Every
`event:` button is checked again on the server: the event exists, its team is active, the
presser is in its group (Bot API) or manages it. Confirming logs through `storage.events`,
which uses `storage.credits.log`: the body's fine print applies as at /log.
"""

from __future__ import annotations

import asyncio
import html
import re
from datetime import date
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import RecertContext
from bot.dates import date_problem, parse_date
from bot.i18n import N_, Translator
from handlers import PRIVATE, drop_buttons, parse_id, show
from handlers.basics import ensure_trainer
from handlers.feature import Command, Feature
from handlers.log import amount_problem, outcome_text, parse_amount
from handlers.render import credential_name
from handlers.team_common import (
    GROUP_MESSAGE,
    group_team_for,
    in_group,
    is_manager,
    team_tr,
)
from storage import events
from storage.catalog import Catalog
from storage.credits import Proof
from storage.exports import AttendanceRow, attendance_csv
from storage.models import Team, TeamEvent

PREFIX = "event:"
START = "event-"
MAX_TITLE = 200
MAX_PROVIDER = 120
# An approval or course code: one word of letters, digits and dashes, with a digit in it
# ("ACE-2026-114", "NASM1234"); anything else in that field is the provider's name.
CODE = re.compile(r"^(?=[^\s]*\d)[A-Za-z0-9][A-Za-z0-9\-./]{2,31}$")
# Body and amount pairs are split at a comma or ";" followed by a space and a letter, so that
# "NASM 0,5, ACE 0,5" keeps its decimal commas.
PAIR_SPLIT = re.compile(r"[,;]\s+(?=[^\d\s])")
PAIR = re.compile(r"^(?P<body>.*?\S)\s+(?P<amount>\d.*)$")


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=PREFIX + data)


def _usage(context: RecertContext) -> str:
    return context.gettext(
        "Post an event in one line, the fields separated by “;”: date; title; provider or "
        "approval code; units per body.\nFor example: <code>/event 2026-12-05; Kettlebell "
        "workshop; ACE-2026-114; ACE 0.2, NASM 0.2</code>\nUnits are in each body's own "
        "credits, or hours: <code>NASM 2h</code>."
    )


def _team_today(team: Team, context: RecertContext) -> date:
    return context.now().astimezone(ZoneInfo(team.time_zone)).date()


def parse_units(text: str, catalog: Catalog) -> events.Units | tuple[str, str]:
    """`ACE 0.2, NASM 2h` to units per body (the catalog's spelling); or what is wrong and
    the piece it is wrong in: ("body", piece) or ("amount", piece)."""
    bodies = {body.casefold(): body for body in catalog.bodies()}
    units: events.Units = {}
    for piece in PAIR_SPLIT.split(text.strip()):
        match = PAIR.match(piece.strip())
        if match is None:
            return ("amount", piece.strip())
        body = bodies.get(match["body"].casefold())
        if body is None:
            return ("body", match["body"])
        amount = parse_amount(match["amount"])
        if amount is None or amount_problem(*amount):
            return ("amount", piece.strip())
        units[body] = amount
    return units


def units_text(tr: Translator, units: events.Units, catalog: Catalog) -> str:
    parts = []
    for body, (value, hours) in units.items():
        entries = catalog.of_body(body)
        unit = entries[0].unit_name if entries and entries[0].unit_name else ""
        amount = (
            tr.gettext("{hours} h").format(hours=tr.number(value))
            if hours
            else f"{tr.number(value)} {unit}".strip()
        )
        parts.append(f"{html.escape(body)} {amount}")
    return ", ".join(parts)


def event_text(tr: Translator, event: TeamEvent, catalog: Catalog) -> str:
    """The event as the group, the attendee and the CSV caption see it."""
    _ = tr.gettext
    lines = [
        _("📚 <b>{title}</b>, {date}").format(
            title=html.escape(event.title), date=tr.date(event.held_on, "long")
        )
    ]
    if event.provider:
        lines.append(_("Provider: {provider}").format(provider=html.escape(event.provider)))
    if event.code:
        lines.append(_("Approval code: {code}").format(code=html.escape(event.code)))
    lines.append(
        _("Counts: {units}").format(units=units_text(tr, events.units_of(event), catalog))
    )
    lines.append(_("Posted by {manager}").format(manager=html.escape(event.manager_name)))
    return "\n".join(lines)


# -- the group side --------------------------------------------------------------------------


async def post_event(update: Update, context: RecertContext) -> None:
    """/event in the group (a manager): checks each field, stores the event and posts it with
    "I attended" and "Attendance CSV"."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    team = await group_team_for(update, context)
    if team is None:
        await message.reply_text(_("This group has no team yet: an administrator sends /team."))
        return
    if not await is_manager(context, team, user.id):
        await message.reply_text(_("Only the team's managers can post events."))
        return
    text = (message.text or "").split(maxsplit=1)
    fields = [part.strip() for part in text[1].split(";", 3)] if len(text) > 1 else []
    if len(fields) != 4 or not all(fields[:2]) or not fields[3]:
        await message.reply_text(_usage(context))
        return
    typed_date, title, source, typed_units = fields
    parsed = await asyncio.to_thread(parse_date, typed_date, context.tr.language)
    if parsed is None:
        await message.reply_text(
            _("I couldn't read “{text}” as a date.").format(text=html.escape(typed_date[:40]))
            + "\n\n"
            + _usage(context)
        )
        return
    held_on = parsed.value
    problem = date_problem(held_on, _team_today(team, context), expiry=False)
    if problem is not None:
        reason = (
            _("{date} is in the future: post the event on its day or after, when it was held.")
            if problem == "future"
            else _("{date} is too long ago to be right.")
        )
        await message.reply_text(reason.format(date=context.tr.date(held_on, "long")))
        return
    if len(title) > MAX_TITLE or len(source) > MAX_PROVIDER:
        await message.reply_text(
            _("The title may be up to {title} characters, the provider up to {provider}.").format(
                title=MAX_TITLE, provider=MAX_PROVIDER
            )
        )
        return
    units = parse_units(typed_units, context.catalog)
    if isinstance(units, tuple):
        what, piece = units
        if what == "body":
            reply = _("I don't know the certifying body “{body}”. I know: {bodies}.").format(
                body=html.escape(piece[:40]), bodies=", ".join(context.catalog.bodies())
            )
        else:
            reply = _(
                "“{text}” is not a body and an amount of credits, such as “NASM 0.2” or “ACE 2h”."
            ).format(text=html.escape(piece[:40]))
        await message.reply_text(reply)
        return
    code = source if source and CODE.match(source) else None
    provider = None if code else (source or None)
    team_id, manager_name = team.id or 0, user.full_name[:128]
    event = await context.db.run(
        lambda session: events.create(
            session, team_id, title, held_on, provider, code, units, user.id, manager_name
        )
    )
    tr = team_tr(context, team)
    await message.chat.send_message(
        event_text(tr, event, context.catalog)
        + "\n\n"
        + tr.gettext("Were you there? Press “I attended” and confirm in private."),
        reply_markup=InlineKeyboardMarkup(
            [
                [_button(tr.gettext("✋ I attended"), f"a:{event.id}")],
                [_button(tr.gettext("⬇️ Attendance CSV (managers)"), f"csv:{event.id}")],
            ]
        ),
    )


async def _event_for(
    update: Update, context: RecertContext, *, private: bool = False
) -> tuple[TeamEvent, Team] | None:
    """The event a button names, with its active team; a forged, old or closed one (or, with
    `private`, one pressed outside the private chat) is answered here and None returned."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and query.data is not None and chat is not None
    if private and chat.type != chat.PRIVATE:
        await query.answer(
            context.gettext("This only works in your private chat with me."), show_alert=True
        )
        return None
    parts = query.data.split(":")
    event_id = parse_id(parts[2]) if len(parts) == 3 else None
    found = (
        await context.db.run(lambda session: events.get(session, event_id))
        if event_id is not None
        else None
    )
    if found is None:
        await query.answer(context.gettext("This event is no longer open."), show_alert=True)
    return found


def _confirm_markup(context: RecertContext, event: TeamEvent) -> InlineKeyboardMarkup:
    _ = context.gettext
    return InlineKeyboardMarkup(
        [
            [
                _button(_("✅ Yes, I attended"), f"y:{event.id}"),
                _button(_("Cancel"), f"n:{event.id}"),
            ]
        ]
    )


def _confirm_text(context: RecertContext, team: Team, event: TeamEvent) -> str:
    _ = context.gettext
    return "\n\n".join(
        [
            _("Did you attend this event of {team}?").format(team=html.escape(team.title)),
            event_text(context.tr, event, context.catalog),
            _(
                "If you confirm, I log its credits to your credentials of these bodies (their "
                "rules apply as always) with an attendance record as the proof, and the team's "
                "managers see that you attended."
            ),
        ]
    )


async def attended_pressed(update: Update, context: RecertContext) -> None:
    """ "I attended" in the group: a member of the group gets the confirmation in private; one
    the bot may not write to yet gets a deep link to start it."""
    query = update.callback_query
    assert query is not None
    found = await _event_for(update, context)
    if found is None:
        return
    event, team = found
    _ = context.gettext
    user_id = query.from_user.id
    if not await in_group(context, team, user_id):
        await query.answer(_("Only members of the team's group can confirm."), show_alert=True)
        return
    event_id = event.id or 0
    if await context.db.run(lambda session: events.attended(session, event_id, user_id)):
        await query.answer(_("Your attendance is recorded already."), show_alert=True)
        return
    try:
        await context.bot.send_message(
            user_id,
            _confirm_text(context, team, event),
            reply_markup=_confirm_markup(context, event),
        )
    except Forbidden:
        # They never started the bot (or blocked it): Telegram opens the private chat with
        # the event in the /start payload.
        await query.answer(url=f"https://t.me/{context.bot.username}?start={START}{event_id}")
        return
    await query.answer(_("I've written to you in private: confirm there."))


async def start_event(update: Update, context: RecertContext) -> None:
    """`/start event-<id>`: the deep link from "I attended" for someone new to the bot."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    await ensure_trainer(update, context)
    _ = context.gettext
    event_id = parse_id(message.text.split(maxsplit=1)[1].removeprefix(START))
    found = (
        await context.db.run(lambda session: events.get(session, event_id))
        if event_id is not None
        else None
    )
    if found is None:
        await message.reply_text(_("This event is no longer open."))
        return
    event, team = found
    if not await in_group(context, team, user.id):
        await message.reply_text(_("Only members of the team's group can confirm."))
        return
    await message.reply_text(
        _confirm_text(context, team, event), reply_markup=_confirm_markup(context, event)
    )


def record_text(tr: Translator, team: Team, event: TeamEvent, name: str, catalog: Catalog) -> str:
    """The attendance record, kept as the credits' proof: plain text, in the attendee's
    language."""
    _ = tr.gettext
    lines = [
        _("Attendance record"),
        "",
        _("Event: {title}").format(title=event.title),
        _("Date: {date}").format(date=tr.date(event.held_on, "long")),
    ]
    if event.provider:
        lines.append(_("Provider: {provider}").format(provider=event.provider))
    if event.code:
        lines.append(_("Approval code: {code}").format(code=event.code))
    lines += [
        _("Counts: {units}").format(
            units=html.unescape(units_text(tr, events.units_of(event), catalog))
        ),
        _("Team: {team}").format(team=team.title),
        _("Posted by the team's manager: {manager}").format(manager=event.manager_name),
        _("Attendee: {name}").format(name=name),
    ]
    return "\n".join(lines) + "\n"


async def confirm(update: Update, context: RecertContext) -> None:
    """ "Yes, I attended" in private: sends the attendance record, then logs the credits with
    it as proof (once per person and event) and shows what each credential got."""
    query = update.callback_query
    assert query is not None
    found = await _event_for(update, context, private=True)
    if found is None:
        return
    event, team = found
    _ = context.gettext
    trainer = await ensure_trainer(update, context)
    if not await in_group(context, team, trainer.id):
        await query.answer(_("Only members of the team's group can confirm."), show_alert=True)
        return
    await query.answer()
    event_id, trainer_id, catalog = event.id or 0, trainer.id, context.catalog
    if await context.db.run(lambda session: events.attended(session, event_id, trainer_id)):
        await show(update, _("Your attendance is recorded already."))
        return
    targets = await context.db.run(
        lambda session: events.counts_toward(session, event, trainer_id, catalog)
    )
    if not targets:
        bodies = ", ".join(html.escape(body) for body in events.units_of(event))
        await show(
            update,
            _(
                "This event counts for {bodies}, and you have no credential of those bodies "
                "here. Add yours with /add, then press “I attended” again."
            ).format(bodies=bodies),
            _confirm_markup(context, event),
        )
        return
    await drop_buttons(query)  # the question stays; the answer comes below the record
    text = record_text(context.tr, team, event, trainer.name, catalog)
    sent = await query.get_bot().send_document(
        trainer_id,
        InputFile(text.encode("utf-8"), filename=f"attendance-{event_id}.txt"),
        caption=_("Attendance record: {title}").format(title=html.escape(event.title)),
    )
    assert sent.document is not None
    proof = Proof(sent.document.file_id, "document", sent.document.file_name)
    today = context.today()
    result = await context.db.run(
        lambda session: events.attend(session, event_id, trainer_id, proof, catalog, today)
    )
    if result.already:
        await context.bot.send_message(trainer_id, _("Your attendance is recorded already."))
        return
    if result.none:
        # The event closed, or the credentials went, while the record was being sent.
        await context.bot.send_message(trainer_id, _("This event is no longer open."))
        return
    lines = [_("✅ Attendance recorded: {title}.").format(title=html.escape(event.title))]
    lines += [outcome_text(context, logged, new) for logged, new in result.logged]
    lines.append(_("The attendance record above is kept as the proof."))
    await context.bot.send_message(trainer_id, "\n".join(lines))


async def not_attended(update: Update, context: RecertContext) -> None:
    """ "Cancel" on the confirmation: nothing is recorded."""
    query = update.callback_query
    assert query is not None
    if await _event_for(update, context, private=True) is None:
        return
    await query.answer()
    await show(update, context.gettext("Nothing recorded."))


async def attendance_csv_pressed(update: Update, context: RecertContext) -> None:
    """ "Attendance CSV" (a manager of the event's team): the file, sent in private."""
    query = update.callback_query
    assert query is not None
    found = await _event_for(update, context)
    if found is None:
        return
    event, team = found
    _ = context.gettext
    user_id = query.from_user.id
    if not await is_manager(context, team, user_id):
        await query.answer(
            _("Only the team's managers can download the attendance."), show_alert=True
        )
        return
    event_id, catalog = event.id or 0, context.catalog
    people = await context.db.run(lambda session: events.attendees(session, event_id))
    rows = []
    for person in people:
        logged = person.logged or ((None, None),)
        for credential, units in logged:
            entry = catalog.get(credential.catalog_id) if credential is not None else None
            rows.append(
                AttendanceRow(
                    event.title,
                    event.held_on,
                    event.provider,
                    event.code,
                    event.manager_name,
                    person.name,
                    person.confirmed_at,
                    html.unescape(credential_name(credential, catalog)) if credential else None,
                    units,
                    entry.unit_name if entry else None,
                )
            )
    headers = [
        _("Event"),
        _("Date"),
        _("Provider"),
        _("Approval code"),
        _("Manager"),
        _("Attendee"),
        _("Confirmed (UTC)"),
        _("Credential"),
        _("Units logged"),
        _("Unit"),
    ]
    data = await asyncio.to_thread(attendance_csv, headers, rows)
    try:
        await context.bot.send_document(
            user_id,
            InputFile(data, filename=f"attendance-{event_id}.csv"),
            caption=context.ngettext(
                "Attendance at {title}: {count} person.",
                "Attendance at {title}: {count} people.",
                len(people),
            ).format(title=html.escape(event.title), count=len(people)),
        )
    except Forbidden:
        # A manager who never opened the private chat (or blocked the bot).
        await query.answer(
            _("Open a private chat with me (@{bot}) first, then press again.").format(
                bot=context.bot.username
            ),
            show_alert=True,
        )
        return
    await query.answer(_("Sent to you in private."))


# -- for the roster --------------------------------------------------------------------------


async def roster_lines(context: RecertContext, team: Team) -> list[str]:
    """Who attended the team's latest events, for the managers' roster (one round trip)."""
    team_id = team.id or 0
    recent = await context.db.run(lambda session: events.recent_attendance(session, team_id))
    if not recent:
        return []
    _ = context.gettext
    tr = context.tr
    lines = [_("📚 <b>Events</b>")]
    for event, names in recent:
        who = ", ".join(html.escape(name) for name in names) if names else _("nobody yet")
        lines.append(
            _("{title} ({date}): {who}").format(
                title=html.escape(event.title), date=tr.date(event.held_on), who=who
            )
        )
    return lines


async def event_in_private(update: Update, context: RecertContext) -> None:
    """/event in private: events are posted in the team's group."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(
        context.gettext("Post events in your team's group, where members can say they attended.")
    )


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    """Before start's conversation: the deep link is a /start with a payload."""
    return [
        CommandHandler(
            "start", start_event, filters=PRIVATE & filters.Regex(rf"^/start(@\w+)?\s+{START}")
        ),
        CommandHandler("event", post_event, filters=GROUP_MESSAGE),
        CommandHandler("event", event_in_private, filters=PRIVATE),
        CallbackQueryHandler(attended_pressed, pattern=rf"^{PREFIX}a:"),
        CallbackQueryHandler(confirm, pattern=rf"^{PREFIX}y:"),
        CallbackQueryHandler(not_attended, pattern=rf"^{PREFIX}n:"),
        CallbackQueryHandler(attendance_csv_pressed, pattern=rf"^{PREFIX}csv:"),
    ]


FEATURE = Feature(
    "event",
    handlers,
    commands=(
        Command(
            "event", N_("Post an in-house training event (managers)"), private=False, admins=True
        ),
    ),
    # Attendance is pressed in the group; every event: button is checked on the server.
    prefixes=(PREFIX,),
    private_only=False,
    # Its deep link is a /start with a payload: before start's conversation.
    routes_first=True,
)
