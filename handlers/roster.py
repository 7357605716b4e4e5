"""The managers' view, in private chat: `/roster` lists the members who share, most urgent
first (expired, in grace, due soon, no credentials yet, ok), a page at a time; each member's
credentials; a CSV export; managers granted and revoked. In the group `/roster` only points
here. Every button names a team and is checked again: the presser manages it, and a member it
names shares with it (a forged id finds nobody, and says nothing about anyone)."""

from __future__ import annotations

import asyncio
import html
from datetime import date, datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import RecertContext
from handlers import USER_ID, command, event, parse_id, show
from handlers.render import progress_bar
from handlers.team_common import (
    GROUP_MESSAGE,
    ICON,
    button_of,
    group_team_for,
    is_manager,
    managed_teams,
    shared_line,
    state_label,
)
from scheduler.team import STATE_OF, Member, MemberState, Shared, roster_order
from storage import teams
from storage.exports import RosterRow, roster_csv
from storage.models import Team

PAGE_SIZE = 8
ACTIONS = {"r", "m", "csv", "mg", "g", "v"}  # the team: buttons handled here


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


async def roster_private(update: Update, context: RecertContext) -> None:
    """/roster: the roster of the one team managed, or a choice of teams."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    _ = context.gettext
    managed = await managed_teams(update, context)
    if not managed:
        return
    if len(managed) == 1:
        await show_roster(update, context, managed[0], 0)
        return
    await message.reply_text(
        _("Which team?"),
        reply_markup=InlineKeyboardMarkup(
            [[button_of(team.title, f"r:{team.id}:0")] for team in managed]
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
    # Issue 17 (in-house CE, owned by handlers/event.py): who attended the latest events.
    lines += await event.roster_lines(context, team)
    rows = [
        [button_of(member.name[:40], f"m:{team.id}:{member.trainer_id}:{page}")]
        for member in shown
    ]
    nav = []
    if page > 0:
        nav.append(button_of("◀", f"r:{team.id}:{page - 1}"))
    if page + 1 < pages:
        nav.append(button_of("▶", f"r:{team.id}:{page + 1}"))
    if nav:
        rows.append(nav)
    rows.append(
        [button_of(_("⬇️ CSV"), f"csv:{team.id}"), button_of(_("Managers"), f"mg:{team.id}")]
    )
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
        button_of(_("Remove the manager role"), f"v:{team.id}:{member.trainer_id}")
        if granted
        else button_of(_("Make a manager"), f"g:{team.id}:{member.trainer_id}")
    )
    await show(
        update,
        "\n\n".join(lines),
        InlineKeyboardMarkup([[role], [button_of(_("◀ Roster"), f"r:{team.id}:{page}")]]),
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
                    button_of(
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
    buttons.append([button_of(_("◀ Roster"), f"r:{team.id}:0")])
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


async def roster_button(
    update: Update, context: RecertContext, team: Team, action: str, args: list[str]
) -> None:
    """A roster button, pressed by a manager of `team` (checked by the caller)."""
    query = update.callback_query
    assert query is not None
    if action in ("m", "g", "v"):
        trainer_id = parse_id(args[0], USER_ID) if args else None
        if trainer_id is None:
            await query.answer(
                context.gettext("This button no longer works. Please start again."),
                show_alert=True,
            )
            return
        await _member_action(update, context, team, action, trainer_id, args[1:])
        return
    await query.answer()
    if action == "r":
        await show_roster(update, context, team, (parse_id(args[0]) if args else None) or 0)
    elif action == "csv":
        await send_csv(update, context, team)
    else:
        await show_managers(update, context, team)


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
    page = (parse_id(args[0]) if args else None) or 0
    await show_member(update, context, team, member, page)


def handlers() -> list[BaseHandler[Update, RecertContext, object]]:
    return [
        CommandHandler("roster", roster_group, filters=GROUP_MESSAGE),
        command("roster", roster_private),
    ]
