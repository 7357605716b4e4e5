"""Teams, in the group and in private chat.

In the group: the bot introduces itself when added; `/team` (a chat administrator, checked
with the Bot API) sets the team up and shows its settings; `/announce`, `/leave`, `/roster`
(which points to the private chat). Chat life: the bot removed deactivates the team, a member
who leaves stops sharing, an upgrade to a supergroup moves the team to the new chat id.

In private: the Join link (`/start team-<token>`) shows exactly what the team will see and
asks for consent; `/leave` ends sharing; `/roster` is the managers' view (paged, sorted by
urgency, a CSV export, managers granted and revoked); `/announce`.

Every button (`team:` prefix) is checked again on the server: the presser is a manager of the
team it names (Bot API or a grant), and a member it names shares with that team. Group messages
speak the team's language: that of the administrator who ran /team.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from telegram import (
    Bot,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import RecertContext
from bot.i18n import N_, Translator
from handlers import PRIVATE, command, is_number, show
from handlers.basics import ensure_trainer
from handlers.render import days_left, progress_bar
from handlers.timezone import zone_label
from scheduler.team import STATE_OF, Digest, Member, MemberState, Mention, Shared, roster_order
from storage import teams
from storage.exports import RosterRow, roster_csv
from storage.models import Team

PREFIX = "team:"
PAGE_SIZE = 8
MAX_ANNOUNCEMENT = 3000
GROUP_MESSAGE = filters.UpdateType.MESSAGE & filters.ChatType.GROUPS
ICON = {
    MemberState.EXPIRED: "🔴",
    MemberState.IN_GRACE: "🟠",
    MemberState.DUE_SOON: "🟡",
    MemberState.NO_CREDENTIALS: "⚪",
    MemberState.OK: "🟢",
}
ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
IN_CHAT = (*ADMINS, ChatMemberStatus.MEMBER)


# -- texts, shared with the team job ---------------------------------------------------------


def team_tr(context: RecertContext, team: Team) -> Translator:
    return context.i18n.translator(team.language)


def state_label(tr: Translator, state: MemberState) -> str:
    _ = tr.gettext
    return {
        MemberState.EXPIRED: _("expired"),
        MemberState.IN_GRACE: _("in the grace period"),
        MemberState.DUE_SOON: _("due soon"),
        MemberState.NO_CREDENTIALS: _("no credentials yet"),
        MemberState.OK: _("ok"),
    }[state]


def _amount(tr: Translator, value: Any, unit: str | None) -> str:
    return tr.number(value) + (f" {unit}" if unit else "")


def shared_line(tr: Translator, credential: Shared, today: date) -> str:
    """One credential as a team sees it: name, expiry, credit progress. Nothing else."""
    _ = tr.gettext
    parts = [f"<b>{html.escape(credential.name)}</b>"]
    if credential.end is None:
        parts.append(_("no expiry date"))
    else:
        parts.append(
            _("expires {date} ({left})").format(
                date=tr.date(credential.end), left=days_left(tr, credential.end, today)
            )
        )
    if credential.required:
        parts.append(
            _("credits {earned} of {required}").format(
                earned=tr.number(credential.counted),
                required=_amount(tr, credential.required, credential.unit),
            )
        )
    return " · ".join(parts)


def preview_text(
    tr: Translator, team: Team, name: str, shared: Sequence[Shared], today: date
) -> str:
    _ = tr.gettext
    lines = [
        _("<b>{team}</b> asks to see your certification deadlines.").format(
            team=html.escape(team.title)
        ),
        "",
        _("If you agree, the team's managers and the group will see exactly this:"),
        _("Name: {name}").format(name=html.escape(name)),
    ]
    if shared:
        lines.extend("• " + shared_line(tr, credential, today) for credential in shared)
    else:
        lines.append("• " + _("no credentials yet"))
    lines += [
        "",
        _(
            "Never your credential numbers or proof files. What you add later is shared the "
            "same way. /leave stops sharing at any time."
        ),
    ]
    return "\n".join(lines)


def mention_line(tr: Translator, mention: Mention, today: date, new: bool = False) -> str:
    credential = mention.credential
    assert credential.end is not None
    return ("🆕 " if new else "• ") + tr.gettext("{name}: {credential}, {date} ({left})").format(
        name=html.escape(mention.member.name),
        credential=html.escape(credential.name),
        date=tr.date(credential.end),
        left=days_left(tr, credential.end, today),
    )


def digest_blocks(
    tr: Translator,
    team: Team,
    summary: Digest,
    today: date,
    new: frozenset[int] | set[int] = frozenset(),
) -> list[str]:
    """The weekly digest as blocks of lines (`paginate` joins them into messages); `new`
    names the credentials whose alert falls on this day, marked rather than sent apart."""
    _ = tr.gettext
    blocks = [
        _("📋 <b>Weekly digest for {team}</b>, {date}").format(
            team=html.escape(team.title), date=tr.date(today, "long")
        )
        + "\n"
        + tr.ngettext(
            "{count} member shares their deadlines.",
            "{count} members share their deadlines.",
            summary.members,
        ).format(count=summary.members)
    ]
    for title, mentions in (
        (_("🔴 <b>Expired</b>"), summary.expired),
        (_("🟠 <b>In the grace period</b>"), summary.grace),
        (_("🟡 <b>Due within 30 days</b>"), summary.due),
    ):
        if mentions:
            blocks.append(
                "\n".join(
                    [title]
                    + [
                        mention_line(tr, m, today, m.credential.credential_id in new)
                        for m in mentions
                    ]
                )
            )
    if summary.renewed:
        blocks.append(
            "\n".join(
                [_("🎉 <b>Renewed this week</b>")]
                + [
                    "• "
                    + _("{name}: {credential}").format(
                        name=html.escape(r.member_name), credential=html.escape(r.credential_name)
                    )
                    for r in summary.renewed
                ]
            )
        )
    if summary.all_clear:
        blocks.append(_("✅ Nobody is due within 30 days. Well done, team!"))
    return blocks


def alert_text(
    tr: Translator, team: Team, alerts: Sequence[tuple[str, Mention]], today: date
) -> str:
    """The day's alerts for a team, in one message."""
    _ = tr.gettext
    lines = [_("🔔 <b>{team}</b>").format(team=html.escape(team.title))]
    for kind, mention in alerts:
        credential = mention.credential
        assert credential.end is not None
        name, what = html.escape(mention.member.name), html.escape(credential.name)
        if kind == "lapsed":
            lines.append(
                _("🔴 {name}: {credential} lapsed on {date}.").format(
                    name=name, credential=what, date=tr.date(credential.end)
                )
            )
        else:
            lines.append(
                _("🟡 {name}: {credential} is due {left}, on {date}.").format(
                    name=name,
                    credential=what,
                    left=days_left(tr, credential.end, today),
                    date=tr.date(credential.end),
                )
            )
    return "\n".join(lines)


def escalation_text(
    tr: Translator, team_title: str, trainer_name: str, credential_name: str, end: date
) -> str:
    return tr.gettext(
        "⚠️ {name} ({team}) has not answered the reminders about {credential}, due on {date}. "
        "A word from you may help."
    ).format(
        name=html.escape(trainer_name),
        team=html.escape(team_title),
        credential=html.escape(credential_name),
        date=tr.date(end, "long"),
    )


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=PREFIX + data)


def join_url(context: RecertContext, team: Team) -> str:
    return f"https://t.me/{context.bot.username}?start=team-{team.join_token}"


def settings_text(tr: Translator, team: Team) -> str:
    _ = tr.gettext
    return "\n".join(
        [
            _("👥 <b>{team}</b> is a Recert team.").format(team=html.escape(team.title)),
            _(
                "Trainers: press Join to share your certification deadlines with the team. You "
                "will see exactly what is shared before you agree."
            ),
            "",
            _("Weekly digest: {day} at {hour} ({zone}).").format(
                day=tr.weekday(team.digest_weekday),
                hour=tr.hour(team.digest_hour),
                zone=zone_label(tr, team.time_zone),
            ),
            _("Managers: /team CITY sets the time zone; /announce TEXT posts to the group."),
        ]
    )


def settings_markup(context: RecertContext, tr: Translator, team: Team) -> InlineKeyboardMarkup:
    _ = tr.gettext
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("✋ Join"), url=join_url(context, team))],
            [
                _button(_("Digest day"), f"day:{team.id}"),
                _button(_("Digest hour"), f"hour:{team.id}"),
            ],
            [_button(_("New join link"), f"link:{team.id}")],
        ]
    )


# -- Bot API checks --------------------------------------------------------------------------


def api_reader(application: Any) -> Bot:
    """The bot without PTB's rate limiter, for questions only (getChatMember,
    getChatAdministrators). The limiter counts every call naming a group against that group's
    20 messages a minute, so a manager paging the roster in private would soon wait seconds
    per press; Telegram's per-group limit is on messages sent, and those all still go
    through the limiter. Same token, same server, same connection pool."""
    reader = application.bot_data.get("api_reader")
    if reader is None:
        bot = application.bot
        reader = Bot(
            bot.token,
            base_url=bot.base_url.replace(bot.token, "{token}"),
            base_file_url=bot.base_file_url.replace(bot.token, "{token}"),
            request=bot.request,
        )
        application.bot_data["api_reader"] = reader
    return reader  # type: ignore[no-any-return]


async def _member_status(context: RecertContext, team: Team, user_id: int) -> ChatMember | None:
    """The person's membership of the team's group, asked of the Bot API now. A group that
    became a supergroup unnoticed is followed once."""
    for _attempt in range(2):
        try:
            return await api_reader(context.application).get_chat_member(team.chat_id, user_id)
        except ChatMigrated as error:
            old_id, new_id = team.chat_id, error.new_chat_id
            await context.db.run(partial(teams.migrate, old_chat_id=old_id, new_chat_id=new_id))
            team.chat_id = new_id
        except (BadRequest, Forbidden):
            return None  # not in the chat, or the bot is not any more
    return None


async def admin_of(context: RecertContext, chat_id: int, user_id: int) -> bool:
    """A chat administrator (or its creator), by the Bot API, never by the message."""
    try:
        member = await api_reader(context.application).get_chat_member(chat_id, user_id)
    except (BadRequest, Forbidden):
        return False
    return member.status in ADMINS


async def is_admin(context: RecertContext, team: Team, user_id: int) -> bool:
    member = await _member_status(context, team, user_id)
    return member is not None and member.status in ADMINS


async def is_manager(context: RecertContext, team: Team, user_id: int) -> bool:
    """A manager: granted the role, or a chat administrator right now (then recorded, so the
    private roster and escalations find them; dropped once they are an admin no more)."""
    team_id = team.id or 0
    row = await context.db.run(lambda session: teams.manager_row(session, team_id, user_id))
    if row is not None and row.source == teams.GRANTED:
        return True
    admin = await is_admin(context, team, user_id)
    if admin and row is None:
        await context.db.run(
            lambda session: teams.note_manager(session, team_id, user_id, teams.ADMIN)
        )
    elif not admin and row is not None:
        await context.db.run(lambda session: teams.forget_manager(session, team_id, user_id))
    return admin


async def in_group(context: RecertContext, team: Team, user_id: int) -> bool:
    member = await _member_status(context, team, user_id)
    if member is None:
        return False
    return member.status in IN_CHAT or bool(getattr(member, "is_member", False))


# -- the group side --------------------------------------------------------------------------


async def bot_membership(update: Update, context: RecertContext) -> None:
    """The bot added to a group introduces itself; removed, it deactivates the team."""
    changed = update.my_chat_member
    assert changed is not None
    chat = changed.chat
    if chat.type not in (chat.GROUP, chat.SUPERGROUP):
        return
    was_in, is_in = _presence(changed)
    if is_in and not was_in:
        chat_id = chat.id
        team = await context.db.run(lambda session: teams.by_chat(session, chat_id))
        if team is not None and team.active:
            return  # a supergroup that took the team over: it knows us already
        _ = context.gettext
        await chat.send_message(
            _(
                "Hello! I'm Recert: I keep fitness trainers' certifications from lapsing. A "
                "chat administrator can set up this group's team with /team. Trainers then "
                "join with one button, and share only what they agree to."
            )
        )
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
    """A member who left or was removed (a `chat_member` update) stops sharing at once."""
    changed = update.chat_member
    assert changed is not None
    was_in, is_in = _presence(changed)
    if was_in and not is_in:
        chat_id, user_id = changed.chat.id, changed.new_chat_member.user.id
        await context.db.run(lambda session: teams.leave_chat(session, chat_id, user_id))


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
        zone = (
            context.trainer.time_zone if context.trainer and context.trainer.time_zone else None
        ) or context.settings.default_time_zone
        language, title, now = context.tr.language, chat.title or "Team", context.now()
        team, _created = await context.db.run(
            lambda session: teams.set_up(session, chat_id, title, language, zone, user.id, now)
        )
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
        admins = await api_reader(context.application).get_chat_administrators(team.chat_id)
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
    zones = context.zones.lookup(text)
    if not zones:
        await chat.send_message(
            tr.gettext("I don't know that place. Try a big city nearby, or a UTC offset.")
        )
        return
    if len(zones) > 1:
        await chat.send_message(
            tr.gettext("Which one?"),
            reply_markup=InlineKeyboardMarkup(
                [[_button(zone_label(tr, zone), f"tz:{team.id}:{zone}")] for zone in zones]
            ),
        )
        return
    await _configure(update, context, team, zone=zones[0])


async def _configure(update: Update, context: RecertContext, team: Team, **changes: Any) -> None:
    team_id, now = team.id or 0, context.now()
    changed = await context.db.run(
        lambda session: teams.configure(session, team_id, now, **changes)
    )
    if changed is None:
        return
    tr = team_tr(context, changed)
    await show(update, settings_text(tr, changed), settings_markup(context, tr, changed))


async def group_team_for(update: Update, context: RecertContext) -> Team | None:
    chat = update.effective_chat
    assert chat is not None
    chat_id = chat.id
    team = await context.db.run(lambda session: teams.by_chat(session, chat_id))
    return team if team is not None and team.active else None


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
    await _announce(update, context, team, " ".join(context.args or []))


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
    if update.effective_chat is not None and update.effective_chat.type == "private":
        await message.reply_text(
            _("Posted to {team}.").format(team=html.escape(team.title))
            if sent
            else _("I could not post to {team}: am I still in the group?").format(
                team=html.escape(team.title)
            )
        )


async def send_to_team(application: Any, team: Team, text: str, **kwargs: Any) -> bool:
    """Send to the team's group, following a migration once; a bot no longer in the group
    deactivates the team. Goes through PTB's rate limiter (20 messages a minute per group)."""
    db = application.bot_data["db"]
    for _attempt in range(2):
        try:
            await application.bot.send_message(team.chat_id, text, **kwargs)
            return True
        except ChatMigrated as error:
            old_id, new_id = team.chat_id, error.new_chat_id
            await db.run(partial(teams.migrate, old_chat_id=old_id, new_chat_id=new_id))
            team.chat_id = new_id
        except Forbidden:
            # Removed from the group while we were away: the team is no more.
            await db.run(partial(teams.deactivate, chat_id=team.chat_id))
            return False
    return False


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


async def roster_group(update: Update, context: RecertContext) -> None:
    """/roster in the group: the roster is private, so point to the private chat."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    team = await group_team_for(update, context)
    if team is None or not await is_manager(context, team, user.id):
        await message.reply_text(_("Only the team's managers can see the roster."))
        return
    await message.reply_text(
        _("The roster is for managers only: send /roster to me in private."),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("Open a private chat"), url=f"https://t.me/{context.bot.username}"
                    )
                ]
            ]
        ),
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
                    _button(_("✅ Agree and share"), f"yes:{team.join_token}"),
                    _button(_("Decline"), f"no:{team.join_token}"),
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
            [[_button(team.title, f"lv:{team.id}")] for team in sharing]
        ),
    )


async def _leave(update: Update, context: RecertContext, team: Team) -> None:
    user = update.effective_user
    assert user is not None
    team_id = team.id or 0
    await context.db.run(lambda session: teams.leave(session, team_id, user.id))
    await show(
        update,
        context.gettext("Done: {team} no longer sees your deadlines.").format(
            team=html.escape(team.title)
        ),
    )


# -- the managers' view, in private ----------------------------------------------------------


async def managed_teams(context: RecertContext, user_id: int) -> list[Team]:
    candidates = await context.db.run(lambda session: teams.managed_by(session, user_id))
    return [team for team in candidates if await is_manager(context, team, user_id)]


NOT_A_MANAGER = N_(
    "You do not manage a team. A chat administrator sets one up with /team in the group."
)


async def roster_private(update: Update, context: RecertContext) -> None:
    """/roster: the roster of the one team managed, or a choice of teams."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    managed = await managed_teams(context, user.id)
    if not managed:
        await message.reply_text(_(NOT_A_MANAGER))
        return
    if len(managed) == 1:
        await show_roster(update, context, managed[0], 0)
        return
    await message.reply_text(
        _("Which team?"),
        reply_markup=InlineKeyboardMarkup(
            [[_button(team.title, f"r:{team.id}:0")] for team in managed]
        ),
    )


async def _members(context: RecertContext, team: Team) -> list[Member]:
    catalog, now = context.catalog, context.now()
    members = await context.db.run(lambda session: teams.roster(session, team, catalog, now))
    return roster_order(members)


def _team_today(team: Team) -> date:
    return datetime.now(ZoneInfo(team.time_zone)).date()


def _urgent(member: Member) -> Shared | None:
    state = member.state
    matching = [
        c for c in member.credentials if c.end is not None and STATE_OF[c.standing] is state
    ]
    return min(matching, key=lambda c: c.end or date.max) if matching else None


async def show_roster(update: Update, context: RecertContext, team: Team, page: int) -> None:
    _ = context.gettext
    tr = context.tr
    members = await _members(context, team)
    pages = max(1, -(-len(members) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = members[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [
        _("👥 <b>{team}</b>").format(team=html.escape(team.title))
        + " · "
        + tr.ngettext("{count} member shares", "{count} members share", len(members)).format(
            count=len(members)
        )
    ]
    if not members:
        lines.append(_("Nobody has joined yet. Trainers join with the Join button in the group."))
    for member in shown:
        name = html.escape(member.name)
        line = f"{ICON[member.state]} <b>{name}</b>: {state_label(tr, member.state)}"
        urgent = _urgent(member)
        if urgent is not None and member.state is not MemberState.OK and urgent.end is not None:
            line += " · " + _("{credential}, {date}").format(
                credential=html.escape(urgent.name), date=tr.date(urgent.end)
            )
        lines.append(line)
    if pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
    rows = [
        [_button(member.name[:40], f"m:{team.id}:{member.trainer_id}:{page}")] for member in shown
    ]
    nav = []
    if page > 0:
        nav.append(_button("◀", f"r:{team.id}:{page - 1}"))
    if page + 1 < pages:
        nav.append(_button("▶", f"r:{team.id}:{page + 1}"))
    if nav:
        rows.append(nav)
    rows.append([_button(_("⬇️ CSV"), f"csv:{team.id}"), _button(_("Managers"), f"mg:{team.id}")])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def show_member(
    update: Update, context: RecertContext, team: Team, member: Member, page: int
) -> None:
    _ = context.gettext
    tr = context.tr
    today = _team_today(team)
    team_id = team.id or 0
    row = await context.db.run(
        lambda session: teams.manager_row(session, team_id, member.trainer_id)
    )
    lines = [
        f"{ICON[member.state]} <b>{html.escape(member.name)}</b>: {state_label(tr, member.state)}",
        _("Sharing since {date}").format(date=tr.date(member.joined_on)),
    ]
    for credential in member.credentials:
        line = shared_line(tr, credential, today)
        if credential.required:
            line += "\n" + progress_bar(credential.counted, credential.required)
        lines.append(line)
    granted = row is not None and row.source == teams.GRANTED
    role = (
        _button(_("Remove the manager role"), f"v:{team.id}:{member.trainer_id}")
        if granted
        else _button(_("Make a manager"), f"g:{team.id}:{member.trainer_id}")
    )
    await show(
        update,
        "\n\n".join(lines),
        InlineKeyboardMarkup([[role], [_button(_("◀ Roster"), f"r:{team.id}:{page}")]]),
    )


async def show_managers(update: Update, context: RecertContext, team: Team) -> None:
    _ = context.gettext
    team_id = team.id or 0
    rows = await context.db.run(lambda session: teams.managers(session, team_id))
    lines = [_("<b>Managers of {team}</b>").format(team=html.escape(team.title))]
    buttons = []
    for row, name in rows:
        label = html.escape(name or str(row.user_id))
        if row.source == teams.GRANTED:
            lines.append("• " + _("{name} (granted)").format(name=label))
            buttons.append(
                [
                    _button(
                        _("Revoke {name}").format(name=(name or str(row.user_id))[:30]),
                        f"v:{team.id}:{row.user_id}",
                    )
                ]
            )
        else:
            lines.append("• " + _("{name} (chat administrator)").format(name=label))
    lines.append(
        _(
            "Chat administrators are managers while they are administrators. Grant the role "
            "to a member from the roster."
        )
    )
    buttons.append([_button(_("◀ Roster"), f"r:{team.id}:0")])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(buttons))


async def send_csv(update: Update, context: RecertContext, team: Team) -> None:
    chat = update.effective_chat
    assert chat is not None
    _ = context.gettext
    tr = context.tr
    members = await _members(context, team)
    rows = []
    for member in members:
        if not member.credentials:
            rows.append(
                RosterRow(
                    member.name, state_label(tr, member.state), None, None, None, None, None, None
                )
            )
        for credential in member.credentials:
            rows.append(
                RosterRow(
                    member.name,
                    state_label(tr, member.state),
                    credential.name,
                    state_label(tr, STATE_OF[credential.standing]),
                    credential.end,
                    credential.counted if credential.required else None,
                    credential.required,
                    credential.unit,
                )
            )
    headers = [
        _("Member"),
        _("Member state"),
        _("Credential"),
        _("State"),
        _("Expires"),
        _("Credits earned"),
        _("Credits required"),
        _("Unit"),
    ]
    data = await asyncio.to_thread(roster_csv, headers, rows)
    await chat.send_document(
        InputFile(data, filename="team-roster.csv"),
        caption=_("The roster of {team} (opens in any spreadsheet).").format(
            team=html.escape(team.title)
        ),
    )


async def announce_private(update: Update, context: RecertContext) -> None:
    """/announce TEXT in private: posted to the team managed (or the one chosen)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    managed = await managed_teams(context, user.id)
    if not managed:
        await message.reply_text(_(NOT_A_MANAGER))
        return
    text = " ".join(context.args or [])
    if len(managed) == 1 or not text.strip():
        await _announce(update, context, managed[0], text)
        return
    assert context.user_data is not None
    context.user_data["announce"] = text
    await message.reply_text(
        _("Post it to which team?"),
        reply_markup=InlineKeyboardMarkup(
            [[_button(team.title, f"ann:{team.id}")] for team in managed]
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

MANAGER_ACTIONS = {"day", "d", "hour", "h", "tz", "link", "r", "m", "csv", "mg", "g", "v", "ann"}


async def button(update: Update, context: RecertContext) -> None:
    """Every `team:` button. The team is read from the data and the presser checked again."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    _ = context.gettext
    action, *rest = query.data.removeprefix(PREFIX).split(":")
    if action in ("yes", "no") and len(rest) == 1:
        await _consent(update, context, rest[0], action == "yes")
        return
    if not rest or not is_number(rest[0]):
        await query.answer(_("This button no longer works. Please start again."), show_alert=True)
        return
    team_id = int(rest[0])
    team = await context.db.run(lambda session: teams.get(session, team_id))
    if team is None or not team.active:
        await query.answer(_("This team is no longer active."), show_alert=True)
        return
    if action == "lv":
        await query.answer()
        await _leave(update, context, team)
        return
    if action not in MANAGER_ACTIONS:
        await query.answer(_("This button no longer works. Please start again."), show_alert=True)
        return
    if not await is_manager(context, team, user.id):
        await query.answer(_("Only the team's managers can do that."), show_alert=True)
        return
    args = rest[1:]
    if action in ("m", "g", "v"):
        if not args or not is_number(args[0]):
            await query.answer(
                _("This button no longer works. Please start again."), show_alert=True
            )
            return
        await _member_action(update, context, team, action, int(args[0]), args[1:])
        return
    await _manager_action(update, context, team, action, args)


async def _member_action(
    update: Update,
    context: RecertContext,
    team: Team,
    action: str,
    trainer_id: int,
    args: list[str],
) -> None:
    query = update.callback_query
    assert query is not None
    _ = context.gettext
    catalog, now, team_id = context.catalog, context.now(), team.id or 0
    if action == "v":
        # Revoking works for any granted manager, member or not.
        row = await context.db.run(lambda session: teams.manager_row(session, team_id, trainer_id))
        if row is None or row.source != teams.GRANTED:
            await query.answer(
                _(
                    "Only a role that was granted can be revoked: chat administrators are "
                    "managers while they are administrators."
                ),
                show_alert=True,
            )
            return
        await context.db.run(lambda session: teams.forget_manager(session, team_id, trainer_id))
        await query.answer(_("The manager role was removed."), show_alert=True)
        await show_managers(update, context, team)
        return
    member = await context.db.run(
        lambda session: teams.member_of(session, team, trainer_id, catalog, now)
    )
    if member is None:
        await query.answer(_("That person is not on this team's roster."), show_alert=True)
        return
    if action == "g":
        await context.db.run(
            lambda session: teams.note_manager(session, team_id, trainer_id, teams.GRANTED)
        )
        await query.answer(_("{name} is now a manager.").format(name=member.name), show_alert=True)
    else:
        await query.answer()
    page = int(args[0]) if args and is_number(args[0]) else 0
    await show_member(update, context, team, member, page)


async def _manager_action(
    update: Update, context: RecertContext, team: Team, action: str, args: list[str]
) -> None:
    query = update.callback_query
    assert query is not None
    _ = context.gettext
    tr = team_tr(context, team)
    if action == "day":
        await query.answer()
        await show(
            update,
            settings_text(tr, team),
            InlineKeyboardMarkup(
                [[_button(tr.weekday(day), f"d:{team.id}:{day}")] for day in range(7)]
            ),
        )
    elif action == "hour":
        await query.answer()
        hours = [_button(tr.hour(hour), f"h:{team.id}:{hour}") for hour in range(6, 22)]
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
    elif action == "r":
        await query.answer()
        page = int(args[0]) if args and is_number(args[0]) else 0
        await show_roster(update, context, team, page)
    elif action == "csv":
        await query.answer()
        await send_csv(update, context, team)
    elif action == "mg":
        await query.answer()
        await show_managers(update, context, team)
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
        CommandHandler("roster", roster_group, filters=GROUP_MESSAGE),
        command("team", team_in_private),
        command("announce", announce_private),
        command("leave", leave_private),
        command("roster", roster_private),
        CallbackQueryHandler(button, pattern=f"^{PREFIX}"),
    ]
