"""The authorization matrix: every command and every button the owner of some data is shown,
pressed (forged) by another user, a team member, a manager and a group member who is not an
administrator. Each sees and changes only what is theirs; the owner's data never moves, and
a manager sees what the team shares (never credential numbers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from bot.offline import Person
from scheduler.jobs import run_sweep
from storage.models import Credential, Credit, Nudge, PastCycle, Trainer
from tests.conftest import Bot
from tests.test_teams import SECRET, gym, madrid

ANA_TEXTS = (SECRET, "Workshop", "AgAD-proof")  # what only Ana may ever see


def owned_by(user_id: int):  # type: ignore[no-untyped-def]
    def read(session: Session) -> list[Any]:
        rows: list[Any] = [session.get(Trainer, user_id)]
        held = session.exec(select(Credential).where(Credential.trainer_id == user_id)).all()
        ids = [c.id for c in held]
        rows += held
        for model in (Credit, Nudge, PastCycle):
            rows += session.exec(select(model).where(model.credential_id.in_(ids))).all()  # type: ignore[attr-defined]
        return [r.model_dump(exclude={"updated_at"}) if r else None for r in rows]

    return read


def callback_data(person: Person) -> set[str]:
    return {
        button["callback_data"]
        for message in person.chat.messages
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    }


def seen_by(person: Person) -> str:
    return "\n".join(
        str(m.get("text") or m.get("caption") or "") + str(m.get("document", ""))
        for m in person.chat.messages
    )


async def test_every_button_of_the_owner_is_theirs_alone(bot: Bot) -> None:
    g = await gym(bot)
    ana = g.ana

    def proof(session: Session) -> None:
        credit = session.exec(select(Credit)).first()
        assert credit is not None
        credit.proof_file_id, credit.proof_kind = "AgAD-proof", "photo"

    await bot.db.run(proof)
    await run_sweep(bot.application, madrid(g.today + timedelta(days=6), 9))  # a reminder
    # Ana walks through every screen that shows her data, collecting its buttons.
    await ana.send("/credentials")
    await ana.press(next(b for b in ana.buttons if "NASM" in b))
    assert SECRET in ana.last_text  # the owner sees her own number
    await ana.send("/history")
    await ana.send("/audit")
    await ana.send("/status")
    await ana.send("/delete_me")
    held = await bot.db.run(
        lambda s: s.exec(select(Credential).where(Credential.trainer_id == ana.id)).one()
    )
    nudge = await bot.db.run(
        lambda s: s.exec(select(Nudge).where(Nudge.credential_id == held.id)).one()
    )
    assert nudge is not None and held.cycle_end is not None
    forged = callback_data(ana) | {
        # The second steps of destructive buttons, which Ana was not shown yet.
        f"cred:xy:{held.id}",
        f"cred:ry:{held.id}:{held.cycle_end.isoformat()}",
        f"nudge:stopy:{nudge.id}",
        f"nudge:resume:{held.id}",
        f"audit:{held.id}:c",
    }
    assert len(forged) >= 12, forged
    before = await bot.db.run(owned_by(ana.id))

    actors = {"another user": g.cai, "team member": g.ben, "manager": g.boss, "non-admin": g.nora}
    for role, actor in actors.items():
        if not actor.inbox:
            await actor.send("/start")  # Nora never wrote: give her a chat with a message
        for data in sorted(forged):
            await actor.press_data(data, actor.inbox[-1])  # answered: press_data checks
            # A conversation a forged button might have opened takes text next.
            await actor.send("12/31/2031")
            await actor.send("/cancel")
        leaked = [text for text in ANA_TEXTS if text in seen_by(actor)]
        assert not leaked, f"{role} saw {leaked}"
        # Files only from "Export my data first" (erase:export): the actor's own export.
        for message in actor.chat.messages:
            if "document" in message:
                data = bot.api.files[message["document"]["file_id"]].data
                assert message["document"]["file_name"].startswith("recert-"), role
                assert not [t for t in ANA_TEXTS if t.encode() in data], role
        assert await bot.db.run(owned_by(ana.id)) == before, f"{role} changed Ana's data"

    # The owner's own buttons work for her (a snooze moves her reminder).
    await ana.press_data(f"nudge:snz:{nudge.id}:7", ana.inbox[-1])
    assert await bot.db.run(owned_by(ana.id)) != before
    assert await bot.db.run(lambda s: s.get(Trainer, ana.id)) is not None


async def test_every_command_shows_each_person_only_theirs(bot: Bot) -> None:
    g = await gym(bot)
    team_id = g.team.id
    commands = [
        "/status", "/credentials", "/history", "/export", "/audit", "/log", "/roster",
        "/announce Hello team", "/leave", "/delete_me", "/settings", "/help",
    ]  # fmt: skip
    actors = {"another user": g.cai, "team member": g.ben, "non-admin": g.nora}
    for role, actor in actors.items():
        for text in commands:
            await actor.send(text)
            await actor.send("/cancel")
        leaked = [t for t in ANA_TEXTS if t in seen_by(actor)]
        assert not leaked, f"{role} saw {leaked}"
        assert "Ana" not in seen_by(actor), f"{role} saw Ana's name"
    # Only a manager's /announce reaches the group.
    announcements = [m for m in g.group.messages if "Hello team" in str(m.get("text"))]
    assert announcements == []
    await g.boss.send("/announce Hello team")
    assert [m for m in g.group.messages if "Hello team" in str(m.get("text"))]

    # Team buttons: the manager sees the roster (Ana shares: her name, never her number);
    # everyone else is refused.
    team_buttons = [f"team:r:{team_id}:0", f"team:m:{team_id}:{g.ana.id}:0", f"team:csv:{team_id}"]
    await g.boss.send("/roster")
    for data in team_buttons:
        await g.boss.press_data(data, g.boss.last)
    assert "Ana" in seen_by(g.boss) and SECRET not in seen_by(g.boss)
    for role, actor in {**actors, "owner": g.ana}.items():
        for data in team_buttons:
            await actor.press_data(data, actor.last)
            answer = bot.api.answered_callbacks[list(bot.api.answered_callbacks)[-1]]
            assert answer.get("show_alert") and "Only the team's managers" in answer["text"], (
                role,
                data,
                answer,
            )
    # /team settings in the group: the administrator only.
    await g.nora.send("/team", chat=g.group)
    assert "Only the team's managers" in g.group.messages[-1]["text"]
    await g.ben.send("/team", chat=g.group)
    assert "Only the team's managers" in g.group.messages[-1]["text"]
    await g.boss.send("/team", chat=g.group)
    assert "is a Recert team" in g.group.messages[-1]["text"]
