"""Hiring: a team's group that takes join requests.

A join request (`chat_join_request`) lets the bot write to the applicant even if they never
started it: it asks whether they agree to share their certification deadlines with the team,
showing exactly what would be shared. The team's managers get, in private, who asks and what
they agreed to share (or that they did not), with Approve and Decline; approving without
consent is possible and says that nothing is shared. Every `hire:` button is checked again on
the server: the presser is the applicant (consent) or a manager of the team (decision).

`/start` in private offers a deep link that adds the bot to a group with exactly the
administrator right it needs (`add_to_group_url`).
"""

from __future__ import annotations

import html
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatJoinRequestHandler,
    CommandHandler,
    filters,
)

from bot.context import RecertContext
from bot.i18n import Translator
from handlers import parse_id, show
from handlers.basics import ensure_trainer
from handlers.feature import Feature
from handlers.team_common import GROUP_MESSAGE, is_manager, shared_line
from scheduler.team import Shared
from storage import hiring, teams
from storage.models import JoinRequest, Team

log = logging.getLogger(__name__)
PREFIX = "hire:"
# What the bot needs as a group administrator: approving join requests takes "invite users";
# being an administrator at all brings the member updates (who left, who was promoted). No
# other right: it never deletes, pins, restricts or changes the group.
ADMIN_RIGHTS = "invite_users"


def add_to_group_url(context: RecertContext) -> str:
    return f"https://t.me/{context.bot.username}?startgroup=team&admin={ADMIN_RIGHTS}"


def add_to_group_button(context: RecertContext) -> InlineKeyboardButton:
    """For /start: add the bot to a gym's group, as an administrator with only that right."""
    return InlineKeyboardButton(
        context.gettext("👥 Add me to your gym's group"), url=add_to_group_url(context)
    )


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=PREFIX + data)


def _shared_lines(tr: Translator, shared: tuple[Shared, ...], context: RecertContext) -> list[str]:
    if not shared:
        return ["• " + tr.gettext("no credentials yet")]
    return ["• " + shared_line(tr, credential, context.today()) for credential in shared]


async def _shared(context: RecertContext, user_id: int) -> tuple[Shared, ...]:
    catalog, today = context.catalog, context.today()
    return await context.db.run(
        lambda session: teams.shared_credentials(session, user_id, catalog, today)
    )


def manager_card(
    tr: Translator,
    team: Team,
    request: JoinRequest,
    shared: tuple[Shared, ...],
    context: RecertContext,
) -> str:
    """What a manager sees of an applicant: their name, and only what they agreed to share."""
    _ = tr.gettext
    lines = [
        _("🙋 <b>{name}</b> asks to join {team}.").format(
            name=html.escape(request.name), team=html.escape(team.title)
        )
    ]
    if request.consent is None:
        lines.append(_("They have not answered yet whether to share their deadlines."))
    elif request.consent:
        lines.append(_("They agreed to share:"))
        lines += _shared_lines(tr, shared, context)
    else:
        lines.append(_("They did not agree to share: approving them shares nothing."))
    return "\n".join(lines)


def _decision_markup(tr: Translator, request: JoinRequest) -> InlineKeyboardMarkup:
    _ = tr.gettext
    return InlineKeyboardMarkup(
        [
            [
                _button(_("✅ Approve"), f"ok:{request.id}"),
                _button(_("Decline"), f"nope:{request.id}"),
            ]
        ]
    )


async def tell_managers(
    context: RecertContext, team: Team, request: JoinRequest, shared: tuple[Shared, ...]
) -> int:
    """Each recorded manager gets the card in private, in their language; returns how many."""
    team_id = team.id or 0
    managers = await context.db.run(lambda session: hiring.managers_to_tell(session, team_id))
    told = 0
    for user_id, language in managers:
        tr = context.i18n.translator(language or team.language)
        try:
            await context.bot.send_message(
                user_id,
                manager_card(tr, team, request, shared if request.consent else (), context),
                reply_markup=_decision_markup(tr, request),
            )
            told += 1
        except Forbidden:
            # A manager who never opened the private chat: the others decide.
            log.info("team %s: a manager cannot be written to", team_id)
    return told


async def join_request(update: Update, context: RecertContext) -> None:
    """Someone asks to join a team's group: the bot writes to them (allowed after a join
    request) to ask their consent, and tells the managers."""
    request = update.chat_join_request
    assert request is not None
    chat_id, applicant = request.chat.id, request.from_user
    team = await context.db.run(lambda session: teams.by_chat(session, chat_id))
    if team is None or not team.active:
        return  # not a team: the group's administrators decide in Telegram as usual
    team_id, name = team.id or 0, applicant.full_name[:128]
    row = await context.db.run(
        lambda session: hiring.requested(session, team_id, applicant.id, name)
    )
    _ = context.gettext
    shared = await _shared(context, applicant.id)
    text = "\n".join(
        [
            _("Hi {name}! You asked to join {team}.").format(
                name=html.escape(applicant.first_name), team=html.escape(team.title)
            ),
            "",
            _(
                "Its managers would like to see your certification deadlines. If you agree, "
                "they and the group will see exactly this:"
            ),
            *_shared_lines(context.tr, shared, context),
            "",
            _(
                "Never your credential numbers or proof files. Either way, the managers decide "
                "on your request; /leave stops sharing at any time."
            ),
        ]
    )
    try:
        await context.bot.send_message(
            request.user_chat_id,
            text,
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        _button(_("✅ Agree and share"), f"yes:{row.id}"),
                        _button(_("Don't share"), f"no:{row.id}"),
                    ]
                ]
            ),
        )
    except Forbidden:
        log.info("team %s: the applicant cannot be written to", team_id)
    await tell_managers(context, team, row, ())


async def _request_for(
    update: Update, context: RecertContext
) -> tuple[JoinRequest, Team, str] | None:
    """The request a button names and the action; a forged or old one is answered here."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and query.data is not None and chat is not None
    _ = context.gettext
    if chat.type != chat.PRIVATE:
        await query.answer(_("This only works in your private chat with me."), show_alert=True)
        return None
    parts = query.data.split(":")
    request_id = parse_id(parts[2]) if len(parts) == 3 else None
    found = (
        await context.db.run(lambda session: hiring.get(session, request_id))
        if request_id is not None
        else None
    )
    if found is None:
        await query.answer(_("This request is no longer open."), show_alert=True)
        return None
    return found[0], found[1], parts[1]


async def consent_pressed(update: Update, context: RecertContext) -> None:
    """The applicant agrees to share, or not; the managers are told what they agreed to."""
    query = update.callback_query
    assert query is not None
    found = await _request_for(update, context)
    if found is None:
        return
    request, team, action = found
    _ = context.gettext
    user_id = query.from_user.id
    if request.user_id != user_id:
        await query.answer(_("This request is no longer open."), show_alert=True)
        return
    agreed = action == "yes"
    if agreed:
        await ensure_trainer(update, context)  # a member's row names a trainer
    request_id = request.id or 0
    answered = await context.db.run(
        lambda session: hiring.consent(session, request_id, user_id, agreed)
    )
    if answered is None:
        await query.answer(_("This request is no longer open."), show_alert=True)
        return
    await query.answer()
    request = answered[0]
    name = html.escape(team.title)
    if agreed:
        result = _("✅ Thank you: if the managers approve, you share your deadlines with {team}.")
    else:
        result = _(
            "Okay: nothing is shared with {team}. The managers still decide on your request."
        )
    await show(update, result.format(team=name))
    shared = await _shared(context, user_id) if agreed else ()
    await tell_managers(context, team, request, shared)


async def decision_pressed(update: Update, context: RecertContext) -> None:
    """A manager approves or declines: Telegram is asked, then the card says what happened
    and what is shared."""
    query = update.callback_query
    assert query is not None
    found = await _request_for(update, context)
    if found is None:
        return
    request, team, action = found
    _ = context.gettext
    manager_id = query.from_user.id
    if not await is_manager(context, team, manager_id):
        await query.answer(
            _("Only the team's managers can decide on join requests."), show_alert=True
        )
        return
    approved, request_id = action == "ok", request.id or 0
    decided = await context.db.run(
        lambda session: hiring.decide(session, request_id, manager_id, approved)
    )
    if decided is None:
        await query.answer(_("This request was decided already."), show_alert=True)
        return
    try:
        if approved:
            await context.bot.approve_chat_join_request(team.chat_id, decided.user_id)
        else:
            await context.bot.decline_chat_join_request(team.chat_id, decided.user_id)
    except BadRequest as error:
        # Withdrawn, handled in Telegram itself, or the bot lost its "invite users" right.
        log.info("team %s: join request not decided: %s", team.id, error.message)
        await context.db.run(lambda session: hiring.undecide(session, request_id))
        await query.answer(
            _(
                "Telegram refused: the request may have been withdrawn or handled already, or I "
                "lack the “invite users” right in the group."
            ),
            show_alert=True,
        )
        return
    await query.answer()
    name = html.escape(decided.name)
    if not approved:
        await show(update, _("Declined: {name}.").format(name=name))
        return
    await context.db.run(lambda session: hiring.admit(session, request_id))
    if decided.consent:
        shared = await _shared(context, decided.user_id)
        lines = [
            _("✅ Approved: {name}. They share with the team:").format(name=name),
            *_shared_lines(context.tr, shared, context),
        ]
    else:
        lines = [
            _(
                "✅ Approved: {name}. Nothing is shared: they did not agree to share. They can "
                "press Join in the group later."
            ).format(name=name)
        ]
    await show(update, "\n".join(lines))


async def started_in_group(update: Update, context: RecertContext) -> None:
    """`/start` in a group (the add-to-group link sends it): how to set the team up."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(
        context.gettext(
            "Thanks for adding me! A chat administrator sets the team up with /team. Trainers "
            "then join with one button, and share only what they agree to."
        )
    )


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    return [
        ChatJoinRequestHandler(join_request),
        CallbackQueryHandler(consent_pressed, pattern=rf"^{PREFIX}(yes|no):"),
        CallbackQueryHandler(decision_pressed, pattern=rf"^{PREFIX}(ok|nope):"),
        CommandHandler(
            "start",
            started_in_group,
            filters=GROUP_MESSAGE & filters.Regex(r"^/start(@\w+)?\s+team$"),
        ),
    ]


FEATURE = Feature(
    "hiring",
    handlers,
    # Consent and decisions are private; each hire: button is checked again on the server.
    prefixes=(PREFIX,),
    # The add-to-group link sends a /start with a payload in the group: before the reply to a
    # trainer's own command sent in a group.
    routes_first=True,
)
