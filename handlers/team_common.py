"""What the team's group side, the managers' roster and the team job share: the texts a team
sees (the consent preview, the digest, alerts, escalations, settings), and the Bot API checks
(chat administrator, group member, manager), asked at each use and never read from a message.
Group messages speak the team's language: that of the administrator who ran /team.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from functools import partial
from typing import Any

from telegram import ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import filters

from bot.context import RecertContext
from bot.i18n import N_, Translator
from handlers.render import days_left
from handlers.timezone import zone_label
from scheduler.team import Digest, MemberState, Mention, Shared
from storage import teams
from storage.models import Team

log = logging.getLogger(__name__)
PREFIX = "team:"
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


def button_of(label: str, data: str) -> InlineKeyboardButton:
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
                button_of(_("Digest day"), f"day:{team.id}"),
                button_of(_("Digest hour"), f"hour:{team.id}"),
            ],
            [button_of(_("New join link"), f"link:{team.id}")],
        ]
    )


# -- Bot API checks --------------------------------------------------------------------------


async def member_status(bot: Any, db: Any, team: Team, user_id: int) -> ChatMember | None:
    """The person's membership of the team's group, asked of the Bot API now (a handler's
    context or the team job's application). A group that became a supergroup unnoticed is
    followed once. Time-outs and flood waits are the caller's to handle."""
    for _attempt in range(2):
        try:
            member: ChatMember = await bot.get_chat_member(team.chat_id, user_id)
            return member
        except ChatMigrated as error:
            old_id, new_id = team.chat_id, error.new_chat_id
            await db.run(partial(teams.migrate, old_chat_id=old_id, new_chat_id=new_id))
            team.chat_id = new_id
        except (BadRequest, Forbidden):
            return None  # not in the chat, or the bot is not any more
    return None


def present(member: ChatMember | None) -> bool:
    """In the group now: a member, an administrator, or restricted but still a member."""
    if member is None:
        return False
    return member.status in IN_CHAT or bool(getattr(member, "is_member", False))


async def _member_status(context: RecertContext, team: Team, user_id: int) -> ChatMember | None:
    return await member_status(context.bot, context.db, team, user_id)


async def admin_of(context: RecertContext, chat_id: int, user_id: int) -> bool:
    """A chat administrator (or its creator), by the Bot API, never by the message."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except (BadRequest, Forbidden):
        return False
    return member.status in ADMINS


async def is_admin(context: RecertContext, team: Team, user_id: int) -> bool:
    member = await _member_status(context, team, user_id)
    return member is not None and member.status in ADMINS


async def is_manager(context: RecertContext, team: Team, user_id: int) -> bool:
    """A manager: granted the role and still in the group, or a chat administrator right now
    (then recorded, so the private roster and escalations find them; dropped once they are an
    admin no more). One Bot API question either way."""
    team_id = team.id or 0
    row = await context.db.run(lambda session: teams.manager_row(session, team_id, user_id))
    member = await _member_status(context, team, user_id)
    if row is not None and row.source == teams.GRANTED:
        # A grant is for a member of the group: someone who left sees nothing more.
        return present(member)
    admin = member is not None and member.status in ADMINS
    if admin and row is None:
        await context.db.run(
            lambda session: teams.note_manager(session, team_id, user_id, teams.ADMIN)
        )
    elif not admin and row is not None:
        await context.db.run(lambda session: teams.forget_manager(session, team_id, user_id))
    return admin


async def in_group(context: RecertContext, team: Team, user_id: int) -> bool:
    return present(await _member_status(context, team, user_id))


NOT_A_MANAGER = N_(
    "You do not manage a team. A chat administrator sets one up with /team in the group."
)


async def managed_teams(update: Update, context: RecertContext) -> list[Team]:
    """The teams the person manages now; none, and they are told so."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    candidates = await context.db.run(lambda session: teams.managed_by(session, user.id))
    managed = [team for team in candidates if await is_manager(context, team, user.id)]
    if not managed:
        await message.reply_text(context.gettext(NOT_A_MANAGER))
    return managed


class Delivery(StrEnum):
    """What became of a message to a team's group."""

    SENT = "sent"
    GONE = "gone"  # the bot is not in the group, or the group is gone: the team is closed
    REFUSED = "refused"  # Telegram refused this one message (logged)


async def send_to_team(application: Any, team: Team, text: str, **kwargs: Any) -> Delivery:
    """Send to the team's group, following a migration once; a bot no longer in the group
    (or a group deleted) deactivates the team. Goes through PTB's rate limiter (20 messages
    a minute per group). Time-outs and flood waits are the caller's to handle."""
    db = application.bot_data["db"]
    for _attempt in range(2):
        try:
            await application.bot.send_message(team.chat_id, text, **kwargs)
            return Delivery.SENT
        except ChatMigrated as error:
            old_id, new_id = team.chat_id, error.new_chat_id
            await db.run(partial(teams.migrate, old_chat_id=old_id, new_chat_id=new_id))
            team.chat_id = new_id
        except Forbidden:
            # Removed from the group while we were away: the team is no more.
            await db.run(partial(teams.deactivate, chat_id=team.chat_id))
            return Delivery.GONE
        except BadRequest as error:
            if "chat not found" in error.message.lower():
                # The group was deleted: the team is no more.
                await db.run(partial(teams.deactivate, chat_id=team.chat_id))
                return Delivery.GONE
            # This message only (too long, bad markup, no right to post): say so, go on.
            log.warning("team %s: Telegram refused a message: %s", team.id, error.message)
            return Delivery.REFUSED
    return Delivery.GONE  # migrated twice over: treated as gone, the group is not found


async def group_team_for(update: Update, context: RecertContext) -> Team | None:
    chat = update.effective_chat
    assert chat is not None
    chat_id = chat.id
    team = await context.db.run(lambda session: teams.by_chat(session, chat_id))
    return team if team is not None and team.active else None
