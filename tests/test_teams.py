"""Teams through the real Application and the offline Bot API: a gym's group with a manager,
three trainers (one declines) and a member who is not an administrator. Set-up, joining with
consent, the roster, the digest at the team's local hour, alerts, escalation, announcements,
the group's life (upgrade, the bot removed, members leaving) and every abuse case. Time moves
forward by passing `now`; nobody sleeps."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.offline import Chat, Person
from scheduler.cycles import Cycle
from scheduler.jobs import run_sweep
from scheduler.team_job import run_team_tick
from storage import credentials, teams
from storage.models import Nudge, PastCycle, Team, TeamMember
from tests.conftest import Bot

MADRID = ZoneInfo("Europe/Madrid")
SECRET = "NASM-SECRET-123"


def madrid(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), MADRID).astimezone(UTC)


def bot_texts(bot: Bot, chat: Chat) -> list[str]:
    return [
        str(m.get("text") or m.get("caption") or "")
        for m in chat.messages
        if m["from"]["id"] == bot.api.bot_user["id"]
    ]


def join_payload(chat: Chat) -> str:
    """The /start payload of the newest Join button in the group."""
    for message in reversed(chat.messages):
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if button.get("url", "").startswith("https://t.me/recert_bot?start="):
                    return str(button["url"].split("?start=", 1)[1])
    raise AssertionError("no Join button in the group")


async def madrid_trainer(bot: Bot, name: str, user_id: int) -> Person:
    person = bot.person(name, user_id=user_id)
    await person.send("/start")
    await person.press("✓ English")
    await person.send("Madrid")
    return person


@dataclass
class Gym:
    group: Chat
    boss: Person
    ana: Person
    ben: Person
    cai: Person
    nora: Person
    team: Team
    today: date


async def stored_team(bot: Bot, chat: Chat) -> Team | None:
    chat_id = chat.id
    return await bot.db.run(lambda s: teams.by_chat(s, chat_id))


async def gym(bot: Bot) -> Gym:
    """The group set up: Ana and Ben share, Cai declines, Nora never joins."""
    api = bot.api
    today = datetime.now(MADRID).date()
    boss = await madrid_trainer(bot, "Maria", 501)
    ana = await madrid_trainer(bot, "Ana", 502)
    ben = await madrid_trainer(bot, "Ben", 503)
    cai = await madrid_trainer(bot, "Cai", 504)
    nora = bot.person("Nora", user_id=505)

    def register(session):  # type: ignore[no-untyped-def]
        end = today + timedelta(days=20)
        saved = credentials.add(
            session,
            ana.id,
            Cycle(end - timedelta(days=730), end, Decimal("2.0")),
            catalog_id="nasm-cpt",
            number=SECRET,
        )
        credentials.add_credit(session, ana.id, saved.id, Decimal("1.5"), today, "Workshop")
        end = today + timedelta(days=35)
        credentials.add(
            session,
            ben.id,
            Cycle(end - timedelta(days=730), end, Decimal("2.0")),
            catalog_id="ace-cpt",
        )
        end = today + timedelta(days=10)
        credentials.add(
            session,
            cai.id,
            Cycle(end - timedelta(days=730), end, Decimal("2.0")),
            catalog_id="ace-cpt",
        )

    await bot.db.run(register)
    group = api.new_group("Iron Gym trainers")
    await api.join(group, boss, "creator")
    for person in (ana, ben, cai, nora):
        await api.join(group, person)
    await api.add_bot(group, boss)
    assert (
        "A chat administrator can set up this group's team with /team" in bot_texts(bot, group)[-1]
    )

    # Privacy mode: commands reach the bot addressed to it, as Telegram sends them.
    await boss.send("/team@recert_bot", chat=group)
    team = await stored_team(bot, group)
    assert team is not None and team.active and team.time_zone == "Europe/Madrid"
    assert team.language == "en"
    setup = bot_texts(bot, group)[-1]
    assert "Iron Gym trainers is a Recert team" in setup and "Weekly digest: Monday" in setup
    payload = join_payload(group)
    assert payload == f"team-{team.join_token}"

    for person, answer in (
        (ana, "✅ Agree and share"),
        (ben, "✅ Agree and share"),
        (cai, "Decline"),
    ):
        await person.send(f"/start {payload}")
        await person.press(answer)
    return Gym(group, boss, ana, ben, cai, nora, team, today)


async def test_set_up_and_consent_show_exactly_what_is_shared(bot: Bot) -> None:
    g = await gym(bot)
    # The preview Ana saw before agreeing: name, credential, expiry, credits; no number.
    preview = next(m["text"] for m in g.ana.inbox if "asks to see" in m.get("text", ""))
    assert "Iron Gym trainers asks to see your certification deadlines" in preview
    assert "Name: Ana" in preview and "NASM-CPT" in preview and "credits 1.5 of 2 CEU" in preview
    assert "expires" in preview and SECRET not in preview
    assert "Never your credential numbers or proof files" in preview
    assert "You now share your deadlines with Iron Gym trainers" in g.ana.last_text
    assert "nothing is shared with Iron Gym trainers" in g.cai.last_text

    team_id = g.team.id

    def statuses(session):  # type: ignore[no-untyped-def]
        rows = session.exec(select(TeamMember).where(TeamMember.team_id == team_id)).all()
        return {row.trainer_id: row.status for row in rows}

    assert await bot.db.run(statuses) == {
        g.ana.id: "shared",
        g.ben.id: "shared",
        g.cai.id: "declined",
    }
    # The menus: /team and /announce for the groups' administrators only.
    group_menu = bot.api.commands[('{"type": "all_group_chats"}', "")]
    assert [c["command"] for c in group_menu] == ["roster", "leave"]
    admins_menu = bot.api.commands[('{"type": "all_chat_administrators"}', "")]
    assert [c["command"] for c in admins_menu] == ["team", "announce", "roster", "leave", "event"]


async def test_the_manager_sees_the_roster_paged_and_exports_it(bot: Bot) -> None:
    g = await gym(bot)
    await g.boss.send("/roster")
    roster = g.boss.last_text
    assert "Iron Gym trainers · 2 members share" in roster
    assert roster.index("Ana") < roster.index("Ben")  # the nearer deadline first
    assert "🟡 Ana: due soon · NASM-CPT" in roster
    assert "Cai" not in roster and "Nora" not in roster and SECRET not in roster
    await g.boss.press("Ana")
    detail = g.boss.last_text
    assert "NASM-CPT" in detail and "credits 1.5 of 2 CEU" in detail and SECRET not in detail
    await g.boss.press("◀ Roster")
    await g.boss.press("⬇️ CSV")
    document = g.boss.last["document"]
    data = bot.api.files[document["file_id"]].data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[0][:3] == ["Member", "Member state", "Credential"]
    assert [r[0] for r in rows[1:]] == ["Ana", "Ben"]
    assert rows[1][2:4] == ["NASM-CPT", "due soon"] and rows[1][5:8] == ["1.5", "2", "CEU"]
    assert SECRET not in data and "Cai" not in data


async def test_paging_sorts_by_urgency(bot: Bot) -> None:
    g = await gym(bot)
    team_id = g.team.id
    assert team_id is not None
    today = g.today

    def more(session):  # type: ignore[no-untyped-def]
        from storage import trainers

        for number in range(12):
            uid = 600 + number
            trainers.start(session, uid, f"Trainer {number:02d}", "en", 9)
            session.flush()
            if number % 3 == 0:  # expired long ago
                end = today - timedelta(days=400)
                credentials.add(
                    session, uid, Cycle(end - timedelta(days=730), end, None), catalog_id="ace-cpt"
                )
            session.flush()
            teams.answer(session, team_id, uid, True)

    await bot.db.run(more)
    await g.boss.send("/roster")
    first = g.boss.last_text
    assert "14 members share" in first and "Page 1 of 2" in first
    lines = first.split("\n\n")[2].split("\n")[:8]  # after the header and the coverage
    assert all("expired" in line for line in lines[:4])  # the four expired come first
    assert lines[4].startswith("🟡 Ana: due soon") and lines[5].startswith("🟡 Ben: due soon")
    assert "no credentials yet" in lines[6]
    await g.boss.press("▶")
    second = g.boss.last_text
    assert "Page 2 of 2" in second and "Trainer 11" in second and "Ana" not in second


async def test_digest_alert_escalation_at_the_teams_local_hour(bot: Bot) -> None:
    g = await gym(bot)
    app = bot.application
    digest_day = g.today + timedelta(days=5)  # the day Ben's deadline is 30 days away
    # The manager picks the digest day with the group's buttons.
    await g.boss.press("Digest day", chat=g.group)
    await g.boss.press(digest_day.strftime("%A"), chat=g.group)
    assert f"Weekly digest: {digest_day.strftime('%A')} at 9:00" in bot_texts(bot, g.group)[-1]
    posted = len(bot_texts(bot, g.group))

    tick = await run_team_tick(app, madrid(digest_day - timedelta(days=1), 9))
    assert (tick.digests, tick.alerts) == (0, 0) and len(bot_texts(bot, g.group)) == posted
    tick = await run_team_tick(app, madrid(digest_day, 8, 59))
    assert tick.digests == 0 and len(bot_texts(bot, g.group)) == posted
    tick = await run_team_tick(app, madrid(digest_day, 9))
    # One message: the digest, with the day's alert (Ben enters his last 30 days) marked.
    assert (tick.digests, tick.alerts) == (1, 1) and len(bot_texts(bot, g.group)) == posted + 1
    digest = bot_texts(bot, g.group)[-1]
    assert "Weekly digest for Iron Gym trainers" in digest and "2 members share" in digest
    assert "Due within 30 days" in digest and "• Ana: NASM-CPT" in digest
    assert "🆕 Ben: ACE-CPT" in digest and "in 30 days" in digest
    assert "Cai" not in digest and SECRET not in digest  # Cai declined
    assert (await run_team_tick(app, madrid(digest_day, 9, 1))).digests == 0  # once

    # Ana's day-of reminder, then a day with no answer: the manager hears of it once, and
    # not an hour after it was sent.
    end = g.today + timedelta(days=20)
    await run_sweep(app, madrid(end, 9))
    assert "NASM-CPT is due today" in g.ana.last_text
    boss_before = len(g.boss.inbox)
    tick = await run_team_tick(app, madrid(end, 10))
    assert tick.escalations == 0 and len(g.boss.inbox) == boss_before
    posted = len(bot_texts(bot, g.group))
    tick = await run_team_tick(app, madrid(end + timedelta(days=1), 9, 30))
    assert tick.escalations == 1
    assert "Ana (Iron Gym trainers) has not answered the reminders about NASM-CPT" in (
        g.boss.last_text
    )
    # Not the digest's day: Ana's lapse is an alert of its own.
    assert (tick.digests, tick.alerts) == (0, 1)
    assert len(bot_texts(bot, g.group)) == posted + 1
    assert "🔴 Ana: NASM-CPT lapsed on" in bot_texts(bot, g.group)[-1]
    again = await run_team_tick(app, madrid(end + timedelta(days=2), 9, 30))
    assert again.escalations == 0 and again.alerts == 0
    assert len(g.boss.inbox) == boss_before + 1
    # Ben renews during the week (the renewal dated then).
    renewed_at = madrid(digest_day + timedelta(days=20), 12)

    def renew(session):  # type: ignore[no-untyped-def]
        held = credentials.held_by(session, g.ben.id, bot.catalog)[0].credential
        credentials.renew(
            session,
            g.ben.id,
            held.id,
            Cycle(held.cycle_end, held.cycle_end + timedelta(days=730), Decimal("2.0")),
            bot.catalog,
        )
        session.flush()
        for past in session.exec(select(PastCycle)):
            past.renewed_at = renewed_at

    await bot.db.run(renew)
    # The next digest lists Ana in the grace period (NASM allows a year), no longer new, and
    # celebrates Ben.
    tick = await run_team_tick(app, madrid(digest_day + timedelta(days=21), 9))
    digest = bot_texts(bot, g.group)[-1]
    assert tick.digests == 1 and "In the grace period" in digest and "• Ana: NASM-CPT" in digest
    assert "Renewed this week\n• Ben: ACE-CPT" in digest
    tick = await run_team_tick(app, madrid(digest_day + timedelta(days=28), 9))
    assert "Renewed this week" not in bot_texts(bot, g.group)[-1]  # last week's news


async def test_announcements_and_managers(bot: Bot) -> None:
    g = await gym(bot)
    await g.nora.send("/announce Free pizza", chat=g.group)
    assert "Only the team's managers can post announcements" in bot_texts(bot, g.group)[-1]
    await g.boss.send("/announce Staff meeting <Friday> & drinks", chat=g.group)
    assert bot_texts(bot, g.group)[-1] == (
        "📣 Announcement from Maria:\nStaff meeting <Friday> & drinks"
    )
    await g.boss.send("/announce First-aid course on Monday")
    assert "Posted to Iron Gym trainers" in g.boss.last_text
    assert bot_texts(bot, g.group)[-1].endswith("First-aid course on Monday")

    # Granting and revoking the role.
    await g.ben.send("/roster")
    assert "You do not manage a team" in g.ben.last_text
    await g.boss.send("/roster")
    await g.boss.press("Ben")
    await g.boss.press("Make a manager")
    await g.ben.send("/roster")
    assert "2 members share" in g.ben.last_text
    await g.boss.press("◀ Roster")
    await g.boss.press("Managers")
    assert "Ben (granted)" in g.boss.last_text and "Maria (chat administrator)" in g.boss.last_text
    await g.boss.press("Revoke Ben")
    await g.ben.send("/roster")
    assert "You do not manage a team" in g.ben.last_text
    # Other chat administrators are managers too, checked with the Bot API.
    await bot.api.set_status(g.group, g.nora, "administrator")
    await g.nora.send("/roster", chat=g.group)  # the roster is private: pointed there
    assert "send /roster to me in private" in bot_texts(bot, g.group)[-1]
    await g.nora.send("/roster")
    assert "2 members share" in g.nora.last_text
    await bot.api.set_status(g.group, g.nora, "member")
    await g.nora.send("/roster")
    assert "You do not manage a team" in g.nora.last_text


async def test_leaving_ends_sharing_at_once(bot: Bot) -> None:
    g = await gym(bot)
    await g.ben.send("/leave")
    assert "Iron Gym trainers no longer sees your deadlines" in g.ben.last_text
    await bot.api.leave(g.group, g.ana)
    await g.boss.send("/roster")
    assert "0 members share" in g.boss.last_text
    await g.cai.send("/leave", chat=g.group)
    assert "You were not sharing" in bot_texts(bot, g.group)[-1]
    await g.ben.send("/leave")
    assert "You do not share your deadlines with any team" in g.ben.last_text


async def test_the_group_upgraded_and_the_bot_removed(bot: Bot) -> None:
    g = await gym(bot)
    supergroup = await bot.api.upgrade_to_supergroup(g.group, g.boss)
    team = await stored_team(bot, supergroup)
    assert team is not None and team.id == g.team.id and team.active
    assert await stored_team(bot, g.group) is None
    await g.boss.send("/announce Same team, new group")
    assert bot_texts(bot, supergroup)[-1].endswith("Same team, new group")
    await g.boss.send("/roster")
    assert "2 members share" in g.boss.last_text

    await bot.api.rename(supergroup, g.boss, "Iron Gym coaches")
    await g.boss.send("/roster")
    assert "Iron Gym coaches · 2 members share" in g.boss.last_text

    await bot.api.remove_bot(supergroup, g.boss)
    team = await stored_team(bot, supergroup)
    assert team is not None and not team.active
    # Sharing ended with it: set up again, the team would ask each trainer anew.
    for person in (g.ana, g.ben):
        row = await bot.db.run(lambda s, uid=person.id: teams.membership(s, team.id or 0, uid))
        assert row is not None and row.status == "left"
    await g.nora.send(f"/start team-{team.join_token}")
    assert "This join link does not work" in g.nora.last_text
    await g.boss.send("/roster")
    assert "You do not manage a team" in g.boss.last_text
    calls = len(bot.api.calls_to("sendMessage"))
    await run_team_tick(bot.application, madrid(g.today + timedelta(days=8), 9))
    assert len(bot.api.calls_to("sendMessage")) == calls


async def test_a_migration_missed_is_followed_when_sending(bot: Bot) -> None:
    g = await gym(bot)
    new_id = -1_000_000_999_999
    bot.api.chats[new_id] = Chat(
        dict(g.group.info, id=new_id, type="supergroup"), members=dict(g.group.members)
    )
    g.group.info["migrated_to"] = new_id  # the service messages never reached us
    await g.boss.send("/announce Hello again")
    assert bot_texts(bot, bot.api.chats[new_id])[-1].endswith("Hello again")
    team = await bot.db.run(lambda s: teams.get(s, g.team.id or 0))
    assert team is not None and team.chat_id == new_id


async def test_abuse_is_refused_and_changes_nothing(bot: Bot) -> None:
    g = await gym(bot)
    api = bot.api
    team_id = g.team.id

    # /team by a member who is not an administrator, and /team in private.
    await g.nora.send("/team", chat=g.group)
    assert "Only the team's managers can change its settings" in bot_texts(bot, g.group)[-1]
    await g.nora.send("/team")
    assert "/team works in your trainers' group" in g.nora.last_text
    other = api.new_group("Rival Gym")
    olga = await madrid_trainer(bot, "Olga", 601)
    pia = await madrid_trainer(bot, "Pia", 602)
    await api.join(other, olga)  # a plain member
    await api.join(other, pia)
    await api.add_bot(other, olga)
    await olga.send("/team", chat=other)
    assert "Only a chat administrator can set up the team" in bot_texts(bot, other)[-1]
    assert await stored_team(bot, other) is None
    await api.set_status(other, olga, "creator")
    await olga.send("/team", chat=other)
    other_team = await stored_team(bot, other)
    assert other_team is not None
    await pia.send(f"/start {join_payload(other)}")
    await pia.press("✅ Agree and share")

    # Someone who never talked to the bot joins straight from the link.
    zoe = bot.person("Zoe", user_id=603)
    await api.join(other, zoe)
    await zoe.send(f"/start {join_payload(other)}")
    assert "Name: Zoe" in zoe.last_text and "no credentials yet" in zoe.last_text
    await zoe.press("✅ Agree and share")
    assert "Send /start to add your certifications" in zoe.last_text

    # Manager commands and buttons from a non-manager.
    await g.nora.send("/roster")
    assert "You do not manage a team" in g.nora.last_text
    await g.nora.send("/announce hi")
    assert "You do not manage a team" in g.nora.last_text
    await g.nora.press("Digest day", chat=g.group)
    assert (
        "Only the team's managers can do that"
        in api.answered_callbacks[list(api.answered_callbacks)[-1]]["text"]
    )
    screen = g.nora.chat.messages[-1]
    for forged in (f"team:r:{team_id}:0", f"team:csv:{team_id}", f"team:g:{team_id}:{g.nora.id}"):
        await g.nora.press_data(forged, screen)
        answer = api.answered_callbacks[list(api.answered_callbacks)[-1]]
        assert answer["show_alert"] and "Only the team's managers" in answer["text"]
    assert not any("document" in m for m in g.nora.chat.messages)

    # Forged, expired and another team's join links.
    await g.nora.send("/start team-forgedforgedforged12")
    assert "This join link does not work" in g.nora.last_text
    old = join_payload(g.group)
    await g.boss.press("New join link", chat=g.group)
    assert join_payload(g.group) != old
    await g.nora.send(f"/start {old}")
    assert "This join link does not work" in g.nora.last_text
    await g.ana.send(f"/start {join_payload(other)}")
    assert "for a group you are not in" in g.ana.last_text
    assert "Rival" not in g.ana.last_text
    # A consent button forged with another team's token does not join either.
    await g.ana.press_data(f"team:yes:{other_team.join_token}", g.ana.last)
    answer = api.answered_callbacks[list(api.answered_callbacks)[-1]]
    assert "for a group you are not in" in answer["text"]

    # The roster and consent never appear in the group, even for a manager's forged button.
    for forged in (f"team:r:{team_id}:0", f"team:m:{team_id}:{g.ana.id}:0", f"team:csv:{team_id}"):
        before = [dict(m) for m in g.group.messages]
        await g.boss.press_data(forged, g.group.messages[-1], g.group)
        answer = api.answered_callbacks[list(api.answered_callbacks)[-1]]
        assert answer["show_alert"] and "private chat" in answer["text"]
        assert g.group.messages == before

    # Callback data naming another team's member, or someone who declined.
    await g.boss.send("/roster")
    screen = g.boss.last
    for forged in (
        f"team:m:{team_id}:{pia.id}:0",
        f"team:m:{team_id}:{g.cai.id}:0",
        f"team:g:{team_id}:{pia.id}",
        f"team:m:{other_team.id}:{pia.id}:0",
        f"team:r:{other_team.id}:0",
        "team:m:x:1",
        "team:r:²:0",
    ):
        await g.boss.press_data(forged, screen)
        answer = api.answered_callbacks[list(api.answered_callbacks)[-1]]
        assert answer["show_alert"]
        assert "Pia" not in str(g.boss.chat.messages) and "Cai" not in str(g.boss.chat.messages)

    def state(session):  # type: ignore[no-untyped-def]
        members = session.exec(select(TeamMember).order_by(TeamMember.id)).all()
        return [(m.team_id, m.trainer_id, m.status) for m in members]

    assert await bot.db.run(state) == [
        (team_id, g.ana.id, "shared"),
        (team_id, g.ben.id, "shared"),
        (team_id, g.cai.id, "declined"),
        (other_team.id, pia.id, "shared"),
        (other_team.id, zoe.id, "shared"),
    ]
    managers = await bot.db.run(lambda s: teams.managers(s, team_id or 0))
    assert [row.user_id for row, _name in managers] == [g.boss.id]


async def test_nudges_table_is_only_read(bot: Bot) -> None:
    """The team job reads the sweep's rows and writes none of them."""
    g = await gym(bot)
    end = g.today + timedelta(days=20)
    await run_sweep(bot.application, madrid(end, 9))

    def snapshot(session):  # type: ignore[no-untyped-def]
        return [
            (n.id, n.status, n.answered, n.sent_at)
            for n in session.exec(select(Nudge).order_by(Nudge.id))
        ]

    before = await bot.db.run(snapshot)
    await run_team_tick(bot.application, madrid(end + timedelta(days=1), 9, 30))
    assert await bot.db.run(snapshot) == before


async def test_a_supergroup_team_speaks_its_admins_language(bot: Bot) -> None:
    """Group messages use the language of the administrator who ran /team."""
    api = bot.api
    jefa = bot.person("Lucía", "es", user_id=701)
    await jefa.send("/start")
    await jefa.press("✓ Español")
    await jefa.send("Madrid")
    leo = await madrid_trainer(bot, "Leo", 702)  # speaks English himself
    group = api.new_group("Gimnasio Sol", supergroup=True)
    await api.join(group, jefa, "creator")
    await api.join(group, leo)
    await api.add_bot(group, jefa)
    assert "puede crear el equipo de este grupo con /team" in bot_texts(bot, group)[-1]
    await jefa.send("/team", chat=group)
    team = await stored_team(bot, group)
    assert team is not None and team.language == "es"
    assert "Resumen semanal: lunes" in bot_texts(bot, group)[-1]
    await leo.send(f"/start {join_payload(group)}")
    assert "Gimnasio Sol asks to see your certification deadlines" in leo.last_text  # his own
    await leo.press("✅ Agree and share")
    assert team.next_digest_at is not None
    monday = team.next_digest_at.astimezone(MADRID).date()
    assert monday.weekday() == 0 and monday > datetime.now(MADRID).date() - timedelta(days=1)
    assert (await run_team_tick(bot.application, madrid(monday, 8, 59))).digests == 0
    tick = await run_team_tick(bot.application, madrid(monday, 9))
    assert tick.digests == 1
    digest = bot_texts(bot, group)[-1]
    assert "Resumen semanal de Gimnasio Sol" in digest
    assert "1 miembro comparte sus vencimientos" in digest
    assert "Nadie vence en los próximos 30 días" in digest


async def test_a_member_removed_by_an_admin_stops_sharing(bot: Bot) -> None:
    """With the bot an administrator, Telegram sends chat_member updates: the `chat_member`
    update alone (no "left the group" service message) ends the removed member's sharing."""
    g = await gym(bot)
    await bot.api._member_changed(g.group, bot.api.bot_user["id"], "administrator", g.boss.user)
    messages = len(g.group.messages)
    await bot.api._member_changed(g.group, g.ben.id, "kicked", g.boss.user)
    assert len(g.group.messages) == messages  # no service message was involved
    membership = await bot.db.run(lambda s: teams.membership(s, g.team.id or 0, g.ben.id))
    assert membership is not None and membership.status == "left"
    await g.boss.send("/roster")
    assert "1 member shares" in g.boss.last_text and "Ben" not in g.boss.last_text
    team = await stored_team(bot, g.group)
    assert team is not None and team.active  # promoting the bot is no removal


async def test_a_digest_that_times_out_is_sent_at_the_next_tick(bot: Bot) -> None:
    from telegram.error import TimedOut

    g = await gym(bot)
    assert g.team.next_digest_at is not None
    due = g.team.next_digest_at
    posted = len(bot_texts(bot, g.group))
    bot.api.faults["sendMessage"] = [TimedOut()]
    tick = await run_team_tick(bot.application, due)
    assert tick.digests == 0 and len(bot_texts(bot, g.group)) == posted
    tick = await run_team_tick(bot.application, due + timedelta(minutes=1))
    assert tick.digests == 0  # not before the retry time
    tick = await run_team_tick(bot.application, due + timedelta(minutes=3))
    assert tick.digests == 1 and "Weekly digest" in bot_texts(bot, g.group)[-1]
    assert len(bot_texts(bot, g.group)) == posted + 1


async def test_two_copies_on_postgresql_send_each_digest_once(postgres_url: str, i18n) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from bot.offline import OfflineBotAPI
    from storage import trainers
    from tests.conftest import make_settings, start_bot, stop_bot

    telegram = OfflineBotAPI()  # one Telegram, one bot token, two running copies
    settings = make_settings(postgres_url, rate_limit=False)
    first = await start_bot(settings, i18n, telegram)
    second = await start_bot(settings, i18n, telegram)
    groups = []
    for number in range(40):
        group = telegram.new_group(f"Gym {number}")
        group.members[telegram.bot_user["id"]] = {"status": "member"}
        groups.append(group)
    now = datetime.now(UTC)
    today = now.astimezone(MADRID).date()

    def populate(session):  # type: ignore[no-untyped-def]
        for number, group in enumerate(groups):
            uid = 20_000 + number
            trainers.start(session, uid, f"T{number}", "en", 9)
            session.flush()
            end = today + timedelta(days=10)
            credentials.add(
                session, uid, Cycle(end - timedelta(days=730), end, None), catalog_id="ace-cpt"
            )
            team, _created = teams.set_up(
                session, group.id, group.info["title"], "en", "Europe/Madrid", uid, now
            )
            teams.answer(session, team.id, uid, True)
            due = team.next_digest_at
        return due

    try:
        due = await first.bot_data["db"].run(populate)
        ticks = await asyncio.gather(run_team_tick(first, due), run_team_tick(second, due))
        assert sum(t.digests for t in ticks) == 40
        again = await asyncio.gather(run_team_tick(first, due), run_team_tick(second, due))
        assert sum(t.digests for t in again) == 0
        for group in groups:
            texts = bot_texts_of(telegram, group)
            assert len(texts) == 1 and "Weekly digest" in texts[0], (group.id, texts)
    finally:
        await stop_bot(first)
        await stop_bot(second)


def bot_texts_of(api: Any, chat: Chat) -> list[str]:
    return [str(m.get("text")) for m in chat.messages if m["from"]["id"] == api.bot_user["id"]]


async def test_the_team_time_zone_and_hour(bot: Bot) -> None:
    g = await gym(bot)
    await g.boss.send("/team UTC+3", chat=g.group)
    team = await stored_team(bot, g.group)
    assert team is not None and team.time_zone == "Etc/GMT-3"
    assert "(UTC+3)" in bot_texts(bot, g.group)[-1]
    await g.boss.send("/team Córdoba", chat=g.group)  # several places: pick one
    assert g.boss.buttons_of(g.group.messages[-1]) == [
        "Córdoba, Argentina (UTC-03:00)",
        "Córdoba, Spain (UTC+01:00)",
        "Córdoba, Mexico (UTC-06:00)",
    ]
    await g.boss.press("Córdoba, Spain (UTC+01:00)", chat=g.group)
    await g.boss.press("Digest hour", chat=g.group)
    await g.boss.press("7:00\u202fAM", chat=g.group)
    team = await stored_team(bot, g.group)
    assert team is not None and (team.time_zone, team.digest_hour) == ("Europe/Madrid", 7)
    assert "Weekly digest: Monday at 7:00\u202fAM (Madrid" in bot_texts(bot, g.group)[-1]
    assert team.next_digest_at is not None
    local = team.next_digest_at.astimezone(ZoneInfo("Europe/Madrid"))
    assert (local.weekday(), local.hour, local.minute) == (0, 7, 0)
    await g.boss.send("/team Nowhereville", chat=g.group)
    assert "I don't know that place" in bot_texts(bot, g.group)[-1]
    # A forged zone in a button changes nothing.
    await g.boss.press_data(f"team:tz:{team.id}:Mars/Olympus", g.group.messages[-1], g.group)
    assert (await stored_team(bot, g.group)).time_zone == "Europe/Madrid"  # type: ignore[union-attr]


async def test_no_escalation_about_a_reminder_sent_before_joining(bot: Bot) -> None:
    g = await gym(bot)
    end = g.today + timedelta(days=20)
    await run_sweep(bot.application, madrid(end, 9))
    assert "NASM-CPT is due today" in g.ana.last_text
    joined = madrid(end, 12)  # as if Ana had joined after the reminder reached her
    ana_id = g.ana.id

    def rejoin(session):  # type: ignore[no-untyped-def]
        row = session.exec(select(TeamMember).where(TeamMember.trainer_id == ana_id)).one()
        row.consented_at = joined

    await bot.db.run(rejoin)
    tick = await run_team_tick(bot.application, madrid(end + timedelta(days=1), 9, 30))
    assert tick.escalations == 0
    assert not any("has not answered" in m.get("text", "") for m in g.boss.inbox)


async def test_someone_in_two_teams_chooses(bot: Bot) -> None:
    """A manager of two teams picks where an announcement goes; a trainer sharing with two
    picks which to leave."""
    g = await gym(bot)
    api = bot.api
    second = api.new_group("Iron Gym juniors")
    await api.join(second, g.boss, "creator")
    await api.join(second, g.ana)
    await api.add_bot(second, g.boss)
    await g.boss.send("/team", chat=second)
    await g.ana.send(f"/start {join_payload(second)}")
    await g.ana.press("✅ Agree and share")

    await g.boss.send("/announce Pool closed on Sunday")
    assert "Post it to which team?" in g.boss.last_text
    await g.boss.press("Iron Gym juniors")
    assert "Posted to Iron Gym juniors" in g.boss.last_text
    assert bot_texts(bot, second)[-1].endswith("Pool closed on Sunday")
    assert not bot_texts(bot, g.group)[-1].endswith("Pool closed on Sunday")
    await g.boss.send("/roster")
    assert "Which team?" in g.boss.last_text
    await g.boss.press("Iron Gym juniors")
    assert "Iron Gym juniors · 1 member shares" in g.boss.last_text

    await g.ana.send("/leave")
    assert "Stop sharing with which team?" in g.ana.last_text
    await g.ana.press("Iron Gym juniors")
    assert "Iron Gym juniors no longer sees your deadlines" in g.ana.last_text
    sharing = await bot.db.run(lambda s: teams.sharing_with(s, g.ana.id))
    assert [team.title for team in sharing] == ["Iron Gym trainers"]


async def test_a_tick_stopped_midway_sends_each_digest_once(bot: Bot) -> None:
    import asyncio

    from scheduler.team_job import drain_teams
    from storage import trainers

    api = bot.api
    groups = []
    for number in range(3):
        group = api.new_group(f"Gym {number}")
        group.members[api.bot_user["id"]] = {"status": "member"}
        groups.append(group)
    now = datetime.now(UTC)

    def populate(session):  # type: ignore[no-untyped-def]
        for number, group in enumerate(groups):
            trainers.start(session, 30_000 + number, f"T{number}", "en", 9)
            session.flush()
            team, _created = teams.set_up(
                session, group.id, group.info["title"], "en", "Europe/Madrid", 30_000, now
            )
            due = team.next_digest_at
        return due

    due = await bot.db.run(populate)
    first_sent = asyncio.Event()
    api.on_bot_message = lambda message: first_sent.set()
    api.delays["sendMessage"] = 0.05  # each digest takes a moment to reach Telegram
    tick = asyncio.ensure_future(run_team_tick(bot.application, due))
    await first_sent.wait()
    tick.cancel()  # a shutdown in the middle of the tick
    await drain_teams(bot.application)  # the team in hand is finished, no further one begun
    api.on_bot_message = None
    api.delays.clear()
    sent = sum(len(bot_texts(bot, group)) for group in groups)
    assert 1 <= sent < 3
    await run_team_tick(bot.application, due + timedelta(minutes=1))  # after the restart
    assert [len(bot_texts(bot, group)) for group in groups] == [1, 1, 1]


def last_answer(bot: Bot) -> dict[str, Any]:
    return bot.api.answered_callbacks[list(bot.api.answered_callbacks)[-1]]


async def grant(g: Gym, person: Person) -> None:
    await g.boss.send("/roster")
    await g.boss.press(person.user["first_name"])
    await g.boss.press("Make a manager")


async def test_a_granted_manager_who_left_the_group_sees_and_hears_nothing(bot: Bot) -> None:
    g = await gym(bot)
    team_id = g.team.id or 0
    await grant(g, g.ben)
    await g.ben.send("/roster")
    assert "2 members share" in g.ben.last_text
    screen = g.ben.last
    # Ben is removed while Telegram's word of it never reaches the bot: only the Bot API
    # knows, and it is asked at each use.
    g.group.members[g.ben.id] = {"status": "kicked"}
    await g.ben.send("/roster")
    assert "You do not manage a team" in g.ben.last_text
    for forged in (
        f"team:r:{team_id}:0",
        f"team:m:{team_id}:{g.ana.id}:0",
        f"team:csv:{team_id}",
    ):
        await g.ben.press_data(forged, screen)
        assert "Only the team's managers" in last_answer(bot)["text"]
    assert not any("document" in m for m in g.ben.chat.messages)
    assert not any("Sharing since" in m.get("text", "") for m in g.ben.inbox)
    posted = len(bot_texts(bot, g.group))
    await g.ben.send("/announce Party at mine")
    assert "You do not manage a team" in g.ben.last_text
    assert len(bot_texts(bot, g.group)) == posted

    # Ana's day-of reminder goes unanswered: the manager in the group hears, Ben does not.
    end = g.today + timedelta(days=20)
    await run_sweep(bot.application, madrid(end, 9))
    ben_before = len(g.ben.inbox)
    tick = await run_team_tick(bot.application, madrid(end + timedelta(days=1), 9, 30))
    assert tick.escalations == 1 and "Ana (Iron Gym trainers) has not answered" in (
        g.boss.last_text
    )
    assert len(g.ben.inbox) == ben_before


async def test_leaving_the_group_or_the_team_closing_ends_a_grant(bot: Bot) -> None:
    g = await gym(bot)
    team_id = g.team.id or 0
    await grant(g, g.ana)
    await grant(g, g.ben)
    await bot.api.leave(g.group, g.ana)  # Ana leaves: her role is forgotten
    assert await bot.db.run(lambda s: teams.manager_row(s, team_id, g.ana.id)) is None
    assert await bot.db.run(lambda s: teams.manager_row(s, team_id, g.ben.id)) is not None

    # The bot removed, added again, the team set up again: Ben's old grant is gone.
    await bot.api.remove_bot(g.group, g.boss)
    await bot.api.add_bot(g.group, g.boss)
    await g.boss.send("/team", chat=g.group)
    team = await stored_team(bot, g.group)
    assert team is not None and team.active and team.id == team_id
    await g.ben.send("/roster")
    assert "You do not manage a team" in g.ben.last_text
    managers = await bot.db.run(lambda s: teams.managers(s, team_id))
    assert [(row.user_id, row.source) for row, _name in managers] == [(g.boss.id, "admin")]


async def test_an_escalation_that_times_out_is_sent_at_the_next_tick(bot: Bot) -> None:
    from telegram.error import TimedOut

    from storage.models import TeamAlert

    g = await gym(bot)
    team_id = g.team.id or 0
    # The daily check at noon, so the 9:30 tick has only the escalation to send.
    await bot.db.run(lambda s: teams.configure(s, team_id, datetime.now(UTC), hour=12))
    end = g.today + timedelta(days=20)
    await run_sweep(bot.application, madrid(end, 9))
    await run_team_tick(bot.application, madrid(end, 12, 30))  # what the group is owed
    before = len(g.boss.inbox)
    bot.api.faults["sendMessage"] = [TimedOut()]
    tick = await run_team_tick(bot.application, madrid(end + timedelta(days=1), 9, 30))
    assert tick.escalations == 0 and len(g.boss.inbox) == before
    assert not bot.api.faults["sendMessage"]  # tried once in that tick, not again at once

    def escalated(session):  # type: ignore[no-untyped-def]
        rows = session.exec(select(TeamAlert).where(TeamAlert.kind == "escalated")).all()
        return len(rows)

    assert await bot.db.run(escalated) == 0  # given back
    tick = await run_team_tick(bot.application, madrid(end + timedelta(days=1), 9, 31))
    assert tick.escalations == 1 and "Ana (Iron Gym trainers) has not answered" in (
        g.boss.last_text
    )
    assert len(g.boss.inbox) == before + 1 and await bot.db.run(escalated) == 1
    again = await run_team_tick(bot.application, madrid(end + timedelta(days=1), 9, 32))
    assert again.escalations == 0 and len(g.boss.inbox) == before + 1


async def test_a_forged_or_stale_leave_button_names_no_team(bot: Bot) -> None:
    g = await gym(bot)
    api = bot.api
    other = api.new_group("Rival Gym")
    olga = await madrid_trainer(bot, "Olga", 601)
    await api.join(other, olga, "creator")
    await api.add_bot(other, olga)
    await olga.send("/team", chat=other)
    rival = await stored_team(bot, other)
    assert rival is not None
    await g.ana.send("/status")
    screen = g.ana.last
    await g.ana.press_data(f"team:lv:{rival.id}", screen)
    answer = last_answer(bot)
    assert answer["show_alert"] and "This button no longer works" in answer["text"]
    assert "Rival" not in str(g.ana.chat.messages)
    # Pressed again after leaving: nothing to confirm either.
    await g.ana.press_data(f"team:lv:{g.team.id}", screen)
    assert "no longer sees your deadlines" in g.ana.last_text
    await g.ana.press_data(f"team:lv:{g.team.id}", g.ana.last)
    assert "This button no longer works" in last_answer(bot)["text"]
    sharing = await bot.db.run(lambda s: teams.sharing_with(s, g.ana.id))
    assert sharing == []


async def test_announcements_keep_their_line_breaks(bot: Bot) -> None:
    g = await gym(bot)
    await g.boss.send(
        "/announce@recert_bot Staff meeting\nbring <towels>\n\n& water", chat=g.group
    )
    assert bot_texts(bot, g.group)[-1] == (
        "📣 Announcement from Maria:\nStaff meeting\nbring <towels>\n\n& water"
    )
    await g.boss.send("/announce\nPool closed\nuntil Monday")
    assert "Posted to Iron Gym trainers" in g.boss.last_text
    assert bot_texts(bot, g.group)[-1].endswith(":\nPool closed\nuntil Monday")


async def test_moving_the_digest_hour_on_digest_day_sends_no_second_digest(bot: Bot) -> None:
    g = await gym(bot)
    assert g.team.next_digest_at is not None
    monday = g.team.next_digest_at.astimezone(MADRID).date()
    tick = await run_team_tick(bot.application, madrid(monday, 9))
    assert tick.digests == 1
    digests = len([t for t in bot_texts(bot, g.group) if "Weekly digest for" in t])
    # Later that morning the manager moves the digest to 11:00.
    await g.boss.press("Digest hour", chat=g.group)
    await g.boss.press("11:00\u202fAM", chat=g.group)
    assert any("Weekly digest: Monday at 11:00" in t for t in bot_texts(bot, g.group))
    team = await stored_team(bot, g.group)
    assert team is not None and team.last_digest_on == monday
    assert team.next_digest_at == madrid(monday + timedelta(days=7), 11)
    assert (await run_team_tick(bot.application, madrid(monday, 11, 1))).digests == 0
    assert len([t for t in bot_texts(bot, g.group) if "Weekly digest for" in t]) == digests
    # Next week's comes, at the new hour.
    next_monday = monday + timedelta(days=7)
    assert (await run_team_tick(bot.application, madrid(next_monday, 10, 59))).digests == 0
    assert (await run_team_tick(bot.application, madrid(next_monday, 11))).digests == 1
    assert len([t for t in bot_texts(bot, g.group) if "Weekly digest for" in t]) == digests + 1
    team = await stored_team(bot, g.group)
    assert team is not None and team.last_digest_on == next_monday


async def test_an_administrator_promoted_later_is_a_manager_in_private(bot: Bot) -> None:
    g = await gym(bot)
    team_id = g.team.id or 0
    # The bot is an administrator: Telegram tells it of promotions (chat_member updates).
    await bot.api._member_changed(g.group, bot.api.bot_user["id"], "administrator", g.boss.user)
    await bot.api.set_status(g.group, g.nora, "administrator")
    await g.nora.send("/roster")  # never acted in the group
    assert "Iron Gym trainers · 2 members share" in g.nora.last_text
    await bot.api.set_status(g.group, g.nora, "member")
    assert await bot.db.run(lambda s: teams.manager_row(s, team_id, g.nora.id)) is None
    await g.nora.send("/roster")
    assert "You do not manage a team" in g.nora.last_text
    # A granted manager made an administrator and back keeps the grant.
    await grant(g, g.ben)
    await bot.api.set_status(g.group, g.ben, "administrator")
    await bot.api.set_status(g.group, g.ben, "member")
    row = await bot.db.run(lambda s: teams.manager_row(s, team_id, g.ben.id))
    assert row is not None and row.source == "granted"

    # The bot a plain member again hears of no promotion: the daily check finds it.
    await bot.api._member_changed(g.group, bot.api.bot_user["id"], "member", g.boss.user)
    await bot.api.set_status(g.group, g.cai, "administrator")
    await g.cai.send("/roster")
    assert "You do not manage a team" in g.cai.last_text
    team = await stored_team(bot, g.group)
    assert team is not None and team.next_check_at is not None
    await run_team_tick(bot.application, team.next_check_at)
    await g.cai.send("/roster")
    assert "Iron Gym trainers · 2 members share" in g.cai.last_text
    await bot.api.set_status(g.group, g.cai, "member")
    await run_team_tick(bot.application, team.next_check_at + timedelta(days=1))
    managers = await bot.db.run(lambda s: teams.managers(s, team_id))
    assert {(row.user_id, row.source) for row, _name in managers} == {
        (g.boss.id, "admin"),
        (g.ben.id, "granted"),
    }


async def test_telegram_refusing_an_announcement_is_answered_clearly(bot: Bot) -> None:
    from bot.offline import ApiError

    g = await gym(bot)
    api = bot.api
    # Refused for this message only: the manager is told, the team carries on.
    posted = len(bot_texts(bot, g.group))
    api.faults["sendMessage"] = [ApiError(400, "Bad Request: can't parse entities")]
    await g.boss.send("/announce Meeting at 5", chat=g.group)
    assert (
        "Telegram did not accept that announcement for Iron Gym trainers"
        in (bot_texts(bot, g.group)[-1])
    )
    assert len(bot_texts(bot, g.group)) == posted + 1
    api.faults["sendMessage"] = [ApiError(400, "Bad Request: can't parse entities")]
    await g.boss.send("/announce Meeting at 5")
    assert "Telegram did not accept that announcement" in g.boss.last_text
    assert (await stored_team(bot, g.group)).active  # type: ignore[union-attr]
    # The group deleted: the team is closed, and the manager told why.
    api.faults["sendMessage"] = [ApiError(400, "Bad Request: chat not found")]
    await g.boss.send("/announce Meeting at 6")
    assert "I am no longer in its group, so the team is closed" in g.boss.last_text
    assert not (await stored_team(bot, g.group)).active  # type: ignore[union-attr]
    assert not any("Sorry" in m.get("text", "") for m in g.boss.inbox)


async def test_an_introduction_telegram_refuses_is_no_error(bot: Bot) -> None:
    from bot.offline import ApiError

    api = bot.api
    boss = await madrid_trainer(bot, "Maria", 501)
    group = api.new_group("Quiet Gym")
    await api.join(group, boss, "creator")
    api.faults["sendMessage"] = [
        ApiError(400, "Bad Request: not enough rights to send text messages to the chat")
    ]
    await api.add_bot(group, boss)
    assert bot_texts(bot, group) == []
    await boss.send("/team", chat=group)
    assert "Quiet Gym is a Recert team" in bot_texts(bot, group)[-1]
