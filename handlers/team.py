"""Teams, in the group and in private chat.

In the group: the bot introduces itself when added; `/team` (a chat administrator, checked
with the Bot API) sets the team up and shows its settings; `/announce`, `/leave`. Chat life:
the bot removed deactivates the team (and every manager role ends), a member who leaves
stops sharing (and loses a manager role), one promoted to administrator is a manager, an
upgrade to a supergroup moves the team to the new chat id.

In private: the Join link (`/start team-<token>`) shows exactly what the team will see and
asks for consent; `/leave` ends sharing; `/announce`. The managers' `/roster` is in
`handlers/roster.py`; texts and Bot API checks shared with it and the team job are in
`handlers/team_common.py`.

Every button (`team:` prefix) is checked again on the server: the presser is a manager of the
team it names (Bot API or a grant), and a member it names shares with that team.
"""

from __future__ import annotations

import html
import logging
from functools import partial
from typing import Any

from telegram import ChatMember, ChatMemberUpdated, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import RecertContext
from bot.i18n import N_
from handlers import PRIVATE, command, is_number, parse_id, roster, show
from handlers.basics import ensure_trainer
from handlers.feature import Command, Feature
from handlers.team_common import (
    ADMINS,
    GROUP_MESSAGE,
    IN_CHAT,
    PREFIX,
    Delivery,
    admin_of,
    button_of,
    group_team_for,
    in_group,
    is_manager,
    ladder_markup,
    ladder_text,
    managed_teams,
    preview_text,
    send_to_team,
    settings_markup,
    settings_text,
    team_tr,
)
from handlers.timezone import place_label
from scheduler.team import Audience, changed_step
from storage import teams
from storage.models import Team

log = logging.getLogger(__name__)
MAX_ANNOUNCEMENT = 3000


# -- the group side --------------------------------------------------------------------------


async def bot_membership(update: Update, context: RecertContext) -> None:
    """The bot added to a group introduces itself; removed, it deactivates the team."""
    changed = update.my_chat_member
    assert changed is not None
    chat = changed.chat
    # A forged update may lack its chat (PTB parses it anyway): nothing to act on.
    if chat is None or chat.type not in (chat.GROUP, chat.SUPERGROUP):
        return
    was_in, is_in = _presence(changed)
    if is_in and not was_in:
        chat_id = chat.id
        team = await context.db.run(lambda session: teams.by_chat(session, chat_id))
        if team is not None and team.active:
            return  # a supergroup that took the team over: it knows us already
        _ = context.gettext
        try:
            await chat.send_message(
                _(
                    "Hello! I'm Recert: I keep fitness trainers' certifications from lapsing. A "
                    "chat administrator can set up this group's team with /team. Trainers then "
                    "join with one button, and share only what they agree to."
                )
            )
        except (BadRequest, Forbidden) as error:
            # Added where it may not post (or removed at once): /team works all the same.
            log.info("group %s: introduction not sent: %s", chat_id, error.message)
    elif was_in and not is_in:
        chat_id = chat.id
        await context.db.run(lambda session: teams.deactivate(session, chat_id))


def _presence(changed: ChatMemberUpdated) -> tuple[bool, bool]:
    def present(member: ChatMember) -> bool:
        return member.status in IN_CHAT or (
            member.status == ChatMemberStatus.RESTRICTED and bool(getattr(member, "is_member", 0))
        )

    return present(changed.old_chat_member), present(changed.new_chat_member)


async def member_changed(update: Update, context: RecertContext) -> None:
    """A `chat_member` update: a member who left or was removed stops sharing at once (and
    their role ends); one promoted to administrator is a manager from now on, in private
    too; one demoted is not (unless granted the role)."""
    changed = update.chat_member
    assert changed is not None
    was_in, is_in = _presence(changed)
    chat_id, user = changed.chat.id, changed.new_chat_member.user
    user_id = user.id
    if was_in and not is_in:
        await context.db.run(lambda session: teams.leave_chat(session, chat_id, user_id))
        return
    was_admin = changed.old_chat_member.status in ADMINS
    is_admin = changed.new_chat_member.status in ADMINS
    if was_admin != is_admin and not user.is_bot:
        await context.db.run(
            lambda session: teams.admin_changed(session, chat_id, user_id, is_admin)
        )


async def member_left(update: Update, context: RecertContext) -> None:
    """The "left the group" service message: the same, for bots that are not admins."""
    message = update.effective_message
    assert message is not None and message.left_chat_member is not None
    chat_id, user_id = message.chat.id, message.left_chat_member.id
    if user_id == context.bot.id:
        await context.db.run(lambda session: teams.deactivate(session, chat_id))
        return
    await context.db.run(lambda session: teams.leave_chat(session, chat_id, user_id))


async def migrated(update: Update, context: RecertContext) -> None:
    """The group became a supergroup: the team follows the new chat id."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        old_id, new_id = message.chat.id, message.migrate_to_chat_id
    else:
        assert message.migrate_from_chat_id is not None
        old_id, new_id = message.migrate_from_chat_id, message.chat.id
    await context.db.run(partial(teams.migrate, old_chat_id=old_id, new_chat_id=new_id))


async def retitled(update: Update, context: RecertContext) -> None:
    """The group was renamed: so is its team (the digest and the roster name it)."""
    message = update.effective_message
    assert message is not None and message.new_chat_title is not None
    chat_id, title = message.chat.id, message.new_chat_title
    await context.db.run(lambda session: teams.retitle(session, chat_id, title))


async def team_command(update: Update, context: RecertContext) -> None:
    """/team in a group: set the team up (administrators), or show and change its settings
    (managers); `/team CITY` sets its time zone."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    _ = context.gettext
    chat_id = chat.id
    team = await context.db.run(lambda session: teams.by_chat(session, chat_id))
    if team is None or not team.active:
        if not await admin_of(context, chat_id, user.id):
            await message.reply_text(_("Only a chat administrator can set up the team."))
            return
        # The administrator's own zone; without one the team is asked for its zone (on the
        # operator's default until then), never left on UTC unawares.
        zone = context.trainer.time_zone if context.trainer else None
        default = context.settings.default_time_zone
        language, title, now = context.tr.language, chat.title or "Team", context.now()
        set_up: tuple[Team, bool] = await context.db.run(
            lambda session: teams.set_up(
                session, chat_id, title, language, zone, user.id, now, default
            )
        )
        team = set_up[0]  # unpacked into `team` mypy would keep its `Team | None`
        await _note_admins(context, team)
    elif not await is_manager(context, team, user.id):
        await message.reply_text(_("Only the team's managers can change its settings."))
        return
    if context.args:
        await _set_zone(update, context, team, " ".join(context.args))
        return
    tr = team_tr(context, team)
    await chat.send_message(
        settings_text(tr, team), reply_markup=settings_markup(context, tr, team)
    )


async def _note_admins(context: RecertContext, team: Team) -> None:
    """The group's other administrators are managers too: recorded now, so that their
    /roster in private and the escalations find the team (each use checks them again)."""
    try:
        admins = await context.bot.get_chat_administrators(team.chat_id)
    except (BadRequest, Forbidden):
        return
    team_id = team.id or 0
    ids = [admin.user.id for admin in admins if not admin.user.is_bot]

    def note(session):  # type: ignore[no-untyped-def]
        for user_id in ids:
            teams.note_manager(session, team_id, user_id, teams.ADMIN)

    await context.db.run(note)


async def _set_zone(update: Update, context: RecertContext, team: Team, text: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    tr = team_tr(context, team)
    places = context.zones.suggest(text)
    if not places:
        await chat.send_message(
            tr.gettext("I don't know that place. Try a big city nearby, or a UTC offset.")
        )
        return
    if len(places) > 1:
        await chat.send_message(
            tr.gettext("Which one?"),
            reply_markup=InlineKeyboardMarkup(
                [
                    [button_of(place_label(tr, place), f"tz:{team.id}:{place.zone}")]
                    for place in places
                ]
            ),
        )
        return
    await _configure(update, context, team, zone=places[0].zone)


async def _ladder_action(
    update: Update, context: RecertContext, team: Team, action: str, args: list[str]
) -> None:
    """The ladder's screen (`lad`), a step changed (`ld:ID:c|p:AUDIENCE:d|s`: its day moves
    to the next choice, or "only if credits are short" flips), or back to the settings."""
    query = update.callback_query
    assert query is not None
    tr = team_tr(context, team)
    if action == "set":
        await query.answer()
        await show(update, settings_text(tr, team), settings_markup(context, tr, team))
        return
    certs, cards = teams.ladders(team)
    if action == "ld":
        which, audience, change = [*args, "", "", ""][:3]
        if which not in ("c", "p") or audience not in {a.value for a in Audience}:
            await query.answer(
                context.gettext("This button no longer works. Please start again."),
                show_alert=True,
            )
            return
        cards_ladder = which == "p"
        steps = cards if cards_ladder else certs
        # Cards have no credits to be short of; the trainer is told regardless.
        short = change == "s" and not cards_ladder and audience != Audience.TRAINER
        steps = changed_step(steps, Audience(audience), days=change == "d", short=short)
        team_id = team.id or 0
        changed = await context.db.run(
            lambda session: teams.set_ladder(session, team_id, cards_ladder, steps)
        )
        if changed is None:
            await query.answer()
            return
        team = changed
        certs, cards = teams.ladders(team)
    await query.answer()
    await show(update, ladder_text(tr, team, certs, cards), ladder_markup(tr, team, certs, cards))


async def _configure(update: Update, context: RecertContext, team: Team, **changes: Any) -> None:
    team_id, now = team.id or 0, context.now()
    changed = await context.db.run(
        lambda session: teams.configure(session, team_id, now, **changes)
    )
    if changed is None:
        return
    tr = team_tr(context, changed)
    await show(update, settings_text(tr, changed), settings_markup(context, tr, changed))


async def announce_group(update: Update, context: RecertContext) -> None:
    """/announce TEXT in the group, from a manager."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    team = await group_team_for(update, context)
    if team is None:
        await message.reply_text(
            _("This group has no team yet. An administrator can set one up with /team.")
        )
        return
    if not await is_manager(context, team, user.id):
        await message.reply_text(_("Only the team's managers can post announcements."))
        return
    await _announce(update, context, team, _after_command(message))


def _after_command(message: Message) -> str:
    """The message's text after "/announce" (or "/announce@bot"), line breaks kept."""
    parts = (message.text or "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def _announce(update: Update, context: RecertContext, team: Team, text: str) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    text = text.strip()
    if not text:
        await message.reply_text(_("Write the announcement after the command: /announce TEXT"))
        return
    if len(text) > MAX_ANNOUNCEMENT:
        await message.reply_text(_("That is too long for one announcement. Please shorten it."))
        return
    tr = team_tr(context, team)
    body = (
        tr.gettext("📣 <b>Announcement</b> from {name}:").format(name=html.escape(user.full_name))
        + "\n"
        + html.escape(text)
    )
    sent = await send_to_team(context.application, team, body)
    private = update.effective_chat is not None and update.effective_chat.type == "private"
    name = html.escape(team.title)
    if sent is Delivery.REFUSED:  # in the group too: the manager should know it did not go
        await message.reply_text(
            _(
                "Telegram did not accept that announcement for {team}. Please check the text."
            ).format(team=name)
        )
    elif not private:
        return  # posted where they are; or the group is gone, and no reply can reach it
    elif sent is Delivery.SENT:
        await message.reply_text(_("Posted to {team}.").format(team=name))
    else:
        await message.reply_text(
            _(
                "I could not post to {team}: I am no longer in its group, so the team is "
                "closed. Add me to the group again and send /team there."
            ).format(team=name)
        )


async def leave_group(update: Update, context: RecertContext) -> None:
    """/leave in the group: this trainer stops sharing with this team."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    team = await group_team_for(update, context)
    team_id = team.id if team else 0
    left = team is not None and await context.db.run(
        lambda session: teams.leave(session, team_id or 0, user.id)
    )
    await message.reply_text(
        _("Done: you no longer share your deadlines with this team.")
        if left
        else _("You were not sharing your deadlines with this team.")
    )


# -- joining, in private ---------------------------------------------------------------------


BAD_LINK = N_(
    "This join link does not work: it may have been replaced by a newer one, or the team was "
    "closed. Ask for the current link in your team's group."
)


async def join_start(update: Update, context: RecertContext) -> None:
    """`/start team-<token>`: what the team would see, and Agree / Decline."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    token = (context.args or [""])[0].removeprefix("team-")
    team = await context.db.run(lambda session: teams.by_token(session, token))
    if team is None:
        await message.reply_text(_(BAD_LINK))
        return
    if not await in_group(context, team, user.id):
        await message.reply_text(
            _("This join link is for a group you are not in. Ask your manager to add you first.")
        )
        return
    trainer = await ensure_trainer(update, context)
    team_id = team.id or 0
    existing = await context.db.run(lambda session: teams.membership(session, team_id, user.id))
    if existing is not None and existing.status == teams.SHARED:
        await message.reply_text(
            _("You already share your deadlines with {team}. /leave stops it.").format(
                team=html.escape(team.title)
            )
        )
        return
    catalog, today = context.catalog, context.today()
    shared = await context.db.run(
        lambda session: teams.shared_credentials(session, user.id, catalog, today)
    )
    await message.reply_text(
        preview_text(context.tr, team, trainer.name, shared, today),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    button_of(_("✅ Agree and share"), f"yes:{team.join_token}"),
                    button_of(_("Decline"), f"no:{team.join_token}"),
                ]
            ]
        ),
    )


async def _consent(update: Update, context: RecertContext, token: str, agreed: bool) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    _ = context.gettext
    team = await context.db.run(lambda session: teams.by_token(session, token))
    if team is None:
        await query.answer(_(BAD_LINK), show_alert=True)
        return
    if not await in_group(context, team, user.id):
        await query.answer(
            _("This join link is for a group you are not in. Ask your manager to add you first."),
            show_alert=True,
        )
        return
    trainer = await ensure_trainer(update, context)
    team_id = team.id or 0
    await context.db.run(lambda session: teams.answer(session, team_id, user.id, agreed))
    await query.answer()
    name = html.escape(team.title)
    kept = html.escape(getattr(query.message, "text", "") or "")  # the preview, as agreed to
    if agreed:
        result = _("✅ You now share your deadlines with {team}. /leave stops it at any time.")
    else:
        result = _("Okay: nothing is shared with {team}. The link works if you change your mind.")
    result = result.format(team=name)
    if agreed and trainer.time_zone is None:  # came straight from the link: not set up yet
        trainer_id = user.id
        held = await context.db.run(lambda session: teams.holds_any(session, trainer_id))
        if held:  # added with /add before any /start: only the time zone is missing
            result += "\n\n" + _(
                "Send /start to set your time zone, so that reminders come at your local hour."
            )
        else:
            result += "\n\n" + _("Send /start to add your certifications and get reminders.")
    await show(update, kept + "\n\n" + result)


async def leave_private(update: Update, context: RecertContext) -> None:
    """/leave in private: stop sharing (with the one team, or the one chosen)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    sharing = await context.db.run(lambda session: teams.sharing_with(session, user.id))
    if not sharing:
        await message.reply_text(_("You do not share your deadlines with any team."))
        return
    if len(sharing) == 1:
        await _leave(update, context, sharing[0])
        return
    await message.reply_text(
        _("Stop sharing with which team?"),
        reply_markup=InlineKeyboardMarkup(
            [[button_of(team.title, f"lv:{team.id}")] for team in sharing]
        ),
    )


async def _leave(update: Update, context: RecertContext, team: Team) -> None:
    user = update.effective_user
    assert user is not None
    await _stop_sharing(context, team, user.id)
    await _say_left(update, context, team)


async def _stop_sharing(context: RecertContext, team: Team, user_id: int) -> bool:
    """True when they were sharing with `team` (and no longer are)."""
    team_id = team.id or 0
    return bool(await context.db.run(lambda session: teams.leave(session, team_id, user_id)))


async def _say_left(update: Update, context: RecertContext, team: Team) -> None:
    await show(
        update,
        context.gettext("Done: {team} no longer sees your deadlines.").format(
            team=html.escape(team.title)
        ),
    )


async def announce_private(update: Update, context: RecertContext) -> None:
    """/announce TEXT in private: posted to the team managed (or the one chosen)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    managed = await managed_teams(update, context)
    if not managed:
        return
    text = _after_command(message)
    if len(managed) == 1 or not text.strip():
        await _announce(update, context, managed[0], text)
        return
    assert context.user_data is not None
    context.user_data["announce"] = text
    await message.reply_text(
        _("Post it to which team?"),
        reply_markup=InlineKeyboardMarkup(
            [[button_of(team.title, f"ann:{team.id}")] for team in managed]
        ),
    )


async def team_in_private(update: Update, context: RecertContext) -> None:
    """/team in private: it belongs in the group."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(
        context.gettext(
            "/team works in your trainers' group: add me to the group, then send /team there "
            "as a chat administrator."
        )
    )


# -- buttons ---------------------------------------------------------------------------------


PRIVATE_ONLY = {"yes", "no", "lv", "ann", *roster.ACTIONS}
MANAGER_ACTIONS = {
    "day",
    "d",
    "hour",
    "h",
    "tz",
    "link",
    "ann",
    "lad",
    "ld",
    "set",
    *roster.ACTIONS,
}


async def button(update: Update, context: RecertContext) -> None:
    """Every `team:` button. The team is read from the data and the presser checked again."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    _ = context.gettext
    action, *rest = query.data.removeprefix(PREFIX).split(":")
    chat = update.effective_chat
    if action in PRIVATE_ONLY and (chat is None or chat.type != chat.PRIVATE):
        # Forged, or a message forwarded into a group: a roster or a consent shown there would
        # be shown to the whole group.
        await query.answer(_("This only works in your private chat with me."), show_alert=True)
        return
    if action in ("yes", "no") and len(rest) == 1:
        await _consent(update, context, rest[0], action == "yes")
        return
    team_id = parse_id(rest[0]) if rest else None
    if team_id is None:
        await query.answer(_("This button no longer works. Please start again."), show_alert=True)
        return
    team = await context.db.run(lambda session: teams.get(session, team_id))
    if team is None or not team.active:
        await query.answer(_("This team is no longer active."), show_alert=True)
        return
    if action == "lv":
        if not await _stop_sharing(context, team, user.id):
            # Forged, or pressed again: not sharing with that team, so no team is named.
            await query.answer(
                _("This button no longer works. Please start again."), show_alert=True
            )
            return
        await query.answer()
        await _say_left(update, context, team)
        return
    if action not in MANAGER_ACTIONS:
        await query.answer(_("This button no longer works. Please start again."), show_alert=True)
        return
    if not await is_manager(context, team, user.id):
        await query.answer(_("Only the team's managers can do that."), show_alert=True)
        return
    if action in roster.ACTIONS:
        await roster.roster_button(update, context, team, action, rest[1:])
        return
    await _manager_action(update, context, team, action, rest[1:])


async def _manager_action(
    update: Update, context: RecertContext, team: Team, action: str, args: list[str]
) -> None:
    query = update.callback_query
    assert query is not None
    _ = context.gettext
    tr = team_tr(context, team)
    if action in ("lad", "ld", "set"):
        await _ladder_action(update, context, team, action, args)
        return
    if action == "day":
        await query.answer()
        await show(
            update,
            settings_text(tr, team),
            InlineKeyboardMarkup(
                [[button_of(tr.weekday(day), f"d:{team.id}:{day}")] for day in range(7)]
            ),
        )
    elif action == "hour":
        await query.answer()
        hours = [button_of(tr.hour(hour), f"h:{team.id}:{hour}") for hour in range(6, 22)]
        await show(
            update,
            settings_text(tr, team),
            InlineKeyboardMarkup([hours[i : i + 4] for i in range(0, len(hours), 4)]),
        )
    elif (
        action in ("d", "h")
        and args
        and is_number(args[0])
        and int(args[0]) < (7 if action == "d" else 24)
    ):
        await query.answer()
        key = "weekday" if action == "d" else "hour"
        await _configure(update, context, team, **{key: int(args[0])})
    elif action == "tz" and args:
        zone = ":".join(args)
        if not _valid(zone):
            await query.answer(
                _("This button no longer works. Please start again."), show_alert=True
            )
            return
        await query.answer()
        await _configure(update, context, team, zone=zone)
    elif action == "link":
        team_id = team.id or 0
        fresh = await context.db.run(lambda session: teams.replace_token(session, team_id))
        await query.answer(
            tr.gettext("A new join link is ready; the old one no longer works."), show_alert=True
        )
        if fresh is not None:
            await show(update, settings_text(tr, fresh), settings_markup(context, tr, fresh))
    elif action == "ann":
        text = (context.user_data or {}).pop("announce", "")
        if not text:
            await query.answer(
                _("This button no longer works. Please start again."), show_alert=True
            )
            return
        await query.answer()
        await _announce(update, context, team, text)
    else:
        await query.answer(_("This button no longer works. Please start again."), show_alert=True)


def _valid(zone: str) -> bool:
    from bot.timezones import is_valid_zone

    return "/" in zone and is_valid_zone(zone)


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    """Before start's conversation (the Join deep link is a /start) and the group catch-all."""
    return [
        *roster.handlers(),
        CommandHandler(
            "start", join_start, filters=PRIVATE & filters.Regex(r"^/start(@\w+)?\s+team-")
        ),
        ChatMemberHandler(bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        ChatMemberHandler(member_changed, ChatMemberHandler.CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.LEFT_CHAT_MEMBER, member_left),
        MessageHandler(filters.StatusUpdate.MIGRATE, migrated),
        MessageHandler(filters.StatusUpdate.NEW_CHAT_TITLE, retitled),
        CommandHandler("team", team_command, filters=GROUP_MESSAGE),
        CommandHandler("announce", announce_group, filters=GROUP_MESSAGE),
        CommandHandler("leave", leave_group, filters=GROUP_MESSAGE),
        command("team", team_in_private),
        command("announce", announce_private),
        command("leave", leave_private),
        CallbackQueryHandler(button, pattern=f"^{PREFIX}"),
    ]


FEATURE = Feature(
    "team",
    handlers,
    commands=(
        Command(
            "team",
            N_("Set up the team, or its digest day, hour and time zone"),
            private=False,
            admins=True,
        ),
        Command("announce", N_("Post an announcement (managers)"), private=False, admins=True),
        Command(
            "roster",
            N_("Your team's roster (managers)"),
            groups=True,
            group_description=N_("The roster, in private (managers)"),
        ),
        Command(
            "leave",
            N_("Stop sharing with a team"),
            groups=True,
            group_description=N_("Stop sharing your deadlines with this team"),
        ),
    ),
    # Every team: button is checked again on the server (the presser manages that team; a
    # member it names shares with it); the roster's and consent's work in private only.
    prefixes=(PREFIX,),
    private_only=False,
    # Its Join link is a /start with a payload (before start's conversation), and chat-life
    # updates are its own.
    routes_first=True,
)
