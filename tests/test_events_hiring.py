"""Issue 17, in-house continuing education and hiring, through the real Application and the
offline Bot API, on both databases.

Events: a manager posts `/event` in the team's group; of three members two attend (Ben's ACE
credit is refused by ACE's once-per-course rule, his NASM one is logged), one does not; a
member who never started the bot gets a deep link. Credits, proofs (the attendance record),
the roster's attendance lines and the attendance CSV are checked, and every abuse refused.

Hiring: a group that takes join requests; one applicant agrees to share, one does not; both
are approved, and only the first shares.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import select

from bot.offline import Chat, Person
from scheduler.cycles import Cycle
from storage import credentials, teams
from storage.models import Credit, EventAttendance, JoinRequest, Team, TeamMember
from tests.conftest import Bot
from tests.test_teams import MADRID, bot_texts, madrid_trainer, stored_team

CODE = "ACE-2026-114"


def _credential(session: Any, trainer_id: int, catalog_id: str, today: date) -> int:
    end = today + timedelta(days=200)
    saved = credentials.add(
        session,
        trainer_id,
        Cycle(end - timedelta(days=730), end, Decimal("2.0")),
        catalog_id=catalog_id,
    )
    return int(saved.id)


def _message_with(chat: Chat, label: str) -> dict[str, Any]:
    for message in reversed(chat.messages):
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            if any(button["text"] == label for button in row):
                return message
    raise AssertionError(f"no message with {label!r}")


def _answer(bot: Bot) -> dict[str, Any]:
    return list(bot.api.answered_callbacks.values())[-1]


async def _team(
    bot: Bot, boss: Person, members: list[Person], bot_status: str
) -> tuple[Chat, Team]:
    group = bot.api.new_group("Iron Gym trainers")
    await bot.api.join(group, boss, "creator")
    for person in members:
        await bot.api.join(group, person)
    await bot.api.add_bot(group, boss, bot_status)
    await boss.send("/team@recert_bot", chat=group)
    team = await stored_team(bot, group)
    assert team is not None and team.active
    return group, team


async def test_event_two_attend_one_does_not(bot: Bot) -> None:
    api = bot.api
    today = datetime.now(MADRID).date()  # the event is held today, in the team's zone
    boss = await madrid_trainer(bot, "Maria", 601)
    ana = await madrid_trainer(bot, "Ana", 602)
    ben = await madrid_trainer(bot, "Ben", 603)
    cai = await madrid_trainer(bot, "Cai", 604)
    dan = bot.person("Dan", user_id=605)
    api.strangers.add(dan.id)  # never opened the bot's chat
    nobody = bot.person("Olga", user_id=606)
    await nobody.send("/start")

    def register(session: Any) -> dict[str, int]:
        ids = {
            "ana_nasm": _credential(session, ana.id, "nasm-cpt", today),
            "ben_nasm": _credential(session, ben.id, "nasm-cpt", today),
            "ben_ace": _credential(session, ben.id, "ace-cpt", today),
            "cai_ace": _credential(session, cai.id, "ace-cpt", today),
        }
        # Ben took this ACE course earlier in the cycle: ACE counts a course once.
        session.add(
            Credit(
                credential_id=ids["ben_ace"],
                units=Decimal("0.2"),
                earned_on=today - timedelta(days=30),
                title="Kettlebells, earlier",
                course_code=CODE,
            )
        )
        return ids

    ids = await bot.db.run(register)
    group, _team_row = await _team(bot, boss, [ana, ben, cai, dan], "member")
    line = f"/event {today.isoformat()}; Kettlebell workshop; {CODE}; ACE 0.2, NASM 0.2"

    # Only managers post; bad input gets a clear reply.
    await ana.send(line, chat=group)
    assert bot_texts(bot, group)[-1] == "Only the team's managers can post events."
    await boss.send("/event tomorrow", chat=group)
    assert "Post an event in one line" in bot_texts(bot, group)[-1]
    await boss.send(f"/event {today.isoformat()}; Workshop; Gym; FOO 1", chat=group)
    assert "I don't know the certifying body “FOO”" in bot_texts(bot, group)[-1]
    await boss.send(f"/event {today.isoformat()}; Workshop; Gym; NASM lots", chat=group)
    assert "is not a body and an amount of credits" in bot_texts(bot, group)[-1]
    future = today + timedelta(days=3)
    await boss.send(f"/event {future.isoformat()}; Workshop; Gym; NASM 1", chat=group)
    assert "is in the future" in bot_texts(bot, group)[-1]
    await boss.send("/event", chat=ana.chat)
    assert "Post events in your team's group" in ana.last_text

    await boss.send(line, chat=group)
    post = bot_texts(bot, group)[-1]
    assert "Kettlebell workshop" in post and f"Approval code: {CODE}" in post
    assert "Counts: ACE 0.2 CEC, NASM 0.2 CEU" in post and "Posted by Maria" in post
    event_message = _message_with(group, "✋ I attended")
    event_data = event_message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    event_id = int(event_data.rsplit(":", 1)[1])

    # Ana and Ben attend; each confirms in private.
    for person in (ana, ben):
        await person.press("✋ I attended", chat=group)
        assert _answer(bot)["text"] == "I've written to you in private: confirm there."
        assert "Did you attend this event of Iron Gym trainers?" in person.last_text
        await person.press("✅ Yes, I attended")
    assert "✅ Attendance recorded: Kettlebell workshop." in ana.last_text
    assert "Logged 0.2 CEU to NASM-CPT." in ana.last_text
    assert "Logged 0.2 CEU to NASM-CPT." in ben.last_text
    assert "Not logged to ACE-CPT: ACE does not count the same course twice" in ben.last_text
    record = [m for m in ana.inbox if m.get("document")][-1]
    assert record["caption"] == "Attendance record: Kettlebell workshop"

    # A second tap, a non-manager's CSV, forged and misplaced buttons: refused.
    await ana.press("✋ I attended", chat=group)
    assert _answer(bot)["text"] == "Your attendance is recorded already."
    await ana.press("⬇️ Attendance CSV (managers)", chat=group)
    assert _answer(bot)["text"] == "Only the team's managers can download the attendance."
    for forged in ("event:y:99999", "event:y:²", "event:a:1:2", "event:csv:-1"):
        await ana.press_data(forged, ana.last)
        assert _answer(bot)["text"] == "This event is no longer open."
    await ana.press_data(f"event:y:{event_id}", event_message, chat=group)
    assert _answer(bot)["text"] == "This only works in your private chat with me."
    await nobody.press_data(f"event:y:{event_id}", nobody.last)
    assert _answer(bot)["text"] == "Only members of the team's group can confirm."
    await nobody.send(f"/start event-{event_id}")
    assert nobody.last_text == "Only members of the team's group can confirm."

    # Dan never started the bot: the button answers with a deep link to it.
    await dan.press("✋ I attended", chat=group)
    assert _answer(bot)["url"] == f"https://t.me/recert_bot?start=event-{event_id}"
    await dan.send(f"/start event-{event_id}")
    assert "Did you attend this event" in dan.last_text
    await dan.press("✅ Yes, I attended")
    assert "you have no credential of those bodies here" in dan.last_text
    await dan.press("Cancel")
    assert dan.last_text == "Nothing recorded."
    await dan.press_data(f"event:n:{event_id}", dan.last)  # a double tap: the same, no error
    assert dan.last_text == "Nothing recorded."

    # What is stored: one credit per credential that counts, the record as its proof.
    def stored(session: Any) -> tuple[list[Credit], list[EventAttendance]]:
        credits = session.exec(
            select(Credit).where(Credit.title == "Kettlebell workshop").order_by(Credit.id)
        ).all()
        return list(credits), list(session.exec(select(EventAttendance)).all())

    logged, attendance = await bot.db.run(stored)
    assert sorted(c.credential_id for c in logged) == sorted([ids["ana_nasm"], ids["ben_nasm"]])
    assert all(c.units == Decimal("0.2") and c.earned_on == today for c in logged)
    assert all(c.course_code == CODE and c.proof_kind == "document" for c in logged)
    assert {a.trainer_id for a in attendance} == {ana.id, ben.id}  # Cai and Dan did not
    ana_credit = next(c for c in logged if c.credential_id == ids["ana_nasm"])
    assert ana_credit.proof_file_id == record["document"]["file_id"]
    proof = api.files[ana_credit.proof_file_id].data.decode()
    assert "Event: Kettlebell workshop" in proof and "Posted by the team's manager: Maria" in proof
    assert "Attendee: Ana" in proof and f"Approval code: {CODE}" in proof
    assert f"Date: {today.strftime('%B')} {today.day}, {today.year}" in proof

    # The manager's CSV, in private, and the roster.
    await boss.press("⬇️ Attendance CSV (managers)", chat=group)
    assert _answer(bot)["text"] == "Sent to you in private."
    sheet = boss.last["document"]
    rows = list(csv.reader(io.StringIO(api.files[sheet["file_id"]].data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Event", "Date", "Provider"]
    assert sorted((r[5], r[7], r[8]) for r in rows[1:]) == [
        ("Ana", "NASM-CPT", "0.2"),
        ("Ben", "NASM-CPT", "0.2"),
    ]
    assert {r[4] for r in rows[1:]} == {"Maria"} and {r[1] for r in rows[1:]} == {
        today.isoformat()
    }
    await boss.send("/roster")
    assert "📚 Events" in boss.last_text
    assert (
        f"Kettlebell workshop ({today.strftime('%b')} {today.day}, {today.year}): Ana, Ben"
        in boss.last_text
    )


async def test_join_requests_with_and_without_consent(bot: Bot) -> None:
    api = bot.api
    boss = await madrid_trainer(bot, "Maria", 701)
    fay = await madrid_trainer(bot, "Fay", 702)
    gus = bot.person("Gus", user_id=703)
    api.strangers.add(gus.id)  # never started the bot: a join request lets it write
    today = datetime.now(MADRID).date()
    await bot.db.run(lambda session: _credential(session, fay.id, "nasm-cpt", today))
    group, team = await _team(bot, boss, [], "administrator")

    # /start in private offers to add the bot with exactly the right it needs.
    await boss.send("/start")
    button = boss.last["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"] == "https://t.me/recert_bot?startgroup=team&admin=invite_users"

    await api.request_join(group, fay)
    assert "You asked to join Iron Gym trainers" in fay.last_text
    assert "NASM-CPT" in fay.last_text and fay.buttons == ["✅ Agree and share", "Don't share"]
    assert "Fay asks to join Iron Gym trainers." in boss.last_text
    assert "They have not answered yet" in boss.last_text
    await fay.press("✅ Agree and share")
    assert "if the managers approve, you share your deadlines" in fay.last_text
    assert "They agreed to share:" in boss.last_text and "NASM-CPT" in boss.last_text

    await api.request_join(group, gus)
    assert "You asked to join Iron Gym trainers" in gus.last_text
    assert "no credentials yet" in gus.last_text
    await gus.press("Don't share")
    assert "nothing is shared with Iron Gym trainers" in gus.last_text
    assert "They did not agree to share: approving them shares nothing." in boss.last_text

    # Abuse: the applicant's buttons are theirs; decisions are the managers'.
    def request_ids(session: Any) -> dict[int, int]:
        return {r.user_id: r.id for r in session.exec(select(JoinRequest)).all()}

    ids = await bot.db.run(request_ids)
    await fay.press_data(f"hire:yes:{ids[gus.id]}", fay.last)
    assert _answer(bot)["text"] == "This request is no longer open."
    await fay.press_data(f"hire:ok:{ids[gus.id]}", fay.last)
    assert _answer(bot)["text"] == "Only the team's managers can decide on join requests."
    await boss.press_data("hire:ok:99999", boss.last)
    assert _answer(bot)["text"] == "This request is no longer open."

    # Gus approved without consent: nothing is shared, and the card says so.
    await boss.press("✅ Approve")
    assert "Approved: Gus. Nothing is shared: they did not agree to share." in boss.last_text
    # Fay approved from her newest card, with consent: she shares.
    fay_card = next(
        m
        for m in reversed(boss.inbox)
        if "Fay asks to join" in m.get("text", "") and m.get("reply_markup")
    )
    await boss.press_data(f"hire:ok:{ids[fay.id]}", fay_card)
    fay_card = next(m for m in boss.inbox if m["message_id"] == fay_card["message_id"])
    assert "Approved: Fay. They share with the team:" in fay_card["text"]
    assert "NASM-CPT" in fay_card["text"] and not fay_card.get("reply_markup")
    await boss.press_data(f"hire:nope:{ids[fay.id]}", fay_card)
    assert _answer(bot)["text"] == "This request was decided already."

    # Hal is declined; Telegram is told, and Hal is not let in.
    hal = await madrid_trainer(bot, "Hal", 704)
    await api.request_join(group, hal)
    await boss.press("Decline")
    assert boss.last_text == "Declined: Hal."
    declined = [int(c.params["user_id"]) for c in api.calls_to("declineChatJoinRequest") if c.ok]
    assert declined == [hal.id] and hal.id not in group.members
    # The add-to-group link sends /start in the group: how to set the team up, nothing private.
    await boss.send("/start@recert_bot team", chat=group)
    assert "A chat administrator sets the team up with /team" in bot_texts(bot, group)[-1]

    # Answers after the approval: Gus (no trainer row) says no again, Fay keeps sharing.
    await gus.press_data(f"hire:no:{ids[gus.id]}", gus.last)
    assert "nothing is shared with Iron Gym trainers" in gus.last_text

    approved = [c.params["user_id"] for c in api.calls_to("approveChatJoinRequest") if c.ok]
    assert sorted(int(u) for u in approved) == [fay.id, gus.id]
    assert group.members[fay.id]["status"] == "member"
    assert group.members[gus.id]["status"] == "member"

    def members(session: Any) -> dict[int, str]:
        rows = session.exec(select(TeamMember).where(TeamMember.team_id == team.id)).all()
        return {r.trainer_id: r.status for r in rows}

    assert await bot.db.run(members) == {fay.id: teams.SHARED}
    await boss.send("/roster")
    assert "Fay" in boss.last_text and "Gus" not in boss.last_text
