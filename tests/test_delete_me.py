"""/delete_me: what will be erased is said first, /export is offered, and after the
confirmation everything that is the person's is gone while everyone else's stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from scheduler.jobs import run_sweep
from storage import erase
from storage.models import (
    ConversationState,
    Credential,
    Credit,
    Nudge,
    Team,
    TeamManager,
    TeamMember,
    Trainer,
    UserData,
)
from tests.conftest import Bot
from tests.test_teams import SECRET, gym, madrid


def _counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: int(session.exec(select(func.count()).select_from(model)).one())
        for model in (Trainer, Credential, Credit, Nudge, TeamMember, TeamManager, Team)
    }


async def test_delete_me_says_what_offers_export_and_erases_only_theirs(bot: Bot) -> None:
    g = await gym(bot)
    ana = g.ana

    def proof(session: Session) -> None:
        credit = session.exec(select(Credit)).first()
        assert credit is not None
        credit.proof_file_id, credit.proof_kind = "AgAD-proof-file-id", "photo"

    await bot.db.run(proof)
    # A reminder on file (14 days before the end of Ana's NASM card), and an /add half done.
    await run_sweep(bot.application, madrid(g.today + timedelta(days=6), 9))
    assert "NASM" in ana.last_text
    await ana.send("/add")
    await bot.application.update_persistence()  # PTB writes every few seconds; now
    assert await bot.db.run(lambda s: s.get(UserData, ana.id)) is not None
    before = await bot.db.run(_counts)

    await ana.send("/delete_me")
    asked = ana.last_text
    assert "This erases everything I keep about you:" in asked
    assert "• 1 credential" in asked and "• 1 credit entry" in asked
    assert "• 1 proof file" in asked and "• 1 team membership" in asked
    assert "• 1 reminder" in asked and "unfinished conversation" in asked
    assert "/export" in asked
    assert ana.buttons == ["Export my data first", "Erase everything", "Keep my data"]
    assert await bot.db.run(_counts) == before  # asking erases nothing

    await ana.press("Keep my data")
    assert ana.last_text == "Nothing was erased. Your data stays as it was."
    assert await bot.db.run(_counts) == before

    await ana.send("/delete_me")
    files = await ana.press("Export my data first")
    names = [m["document"]["file_name"] for m in files if "document" in m]
    assert any(name.endswith(".csv") for name in names) and any(
        name.endswith(".ics") for name in names
    )
    assert "This erases everything" in ana.last_text  # asked again after the files

    done = await ana.press("Erase everything")
    assert done == []  # the question is replaced by the answer
    told = ana.last_text
    assert told.startswith("Done. I erased:")
    assert "• your profile" in told and "• 1 credential" in told and "• 1 proof file" in told
    assert "Send /start" in told
    assert SECRET not in told

    found = await bot.db.run(lambda s: erase.footprint(s, ana.id))
    assert found.empty
    after = await bot.db.run(_counts)
    assert after["Trainer"] == before["Trainer"] - 1
    assert after["Credential"] == before["Credential"] - 1
    assert after["Credit"] == before["Credit"] - 1
    assert after["TeamMember"] == before["TeamMember"] - 1
    assert after["Team"] == before["Team"] and after["TeamManager"] == before["TeamManager"]
    rows = await bot.db.run(lambda s: list(s.exec(select(ConversationState)).all()))
    assert all(not row.key.endswith(f", {ana.id}]") for row in rows)
    # Ben's data is untouched.
    bens = await bot.db.run(lambda s: erase.footprint(s, g.ben.id))
    assert bens.profile and bens.credentials == 1 and bens.memberships == 1
    # The /add that was under way is gone too: typed text is not taken as an answer.
    await ana.send("NASM")
    assert "I answer to commands and buttons" in ana.last_text
    assert ana.id not in bot.application.user_data
    # Nothing left: a second /delete_me says so.
    await ana.send("/delete_me")
    assert ana.last_text == "I keep no data about you: nothing to erase."


async def test_delete_me_in_russian_and_only_in_private(bot: Bot) -> None:
    ivan = bot.person("Иван", "ru", user_id=777)
    await ivan.send("/start")
    await ivan.send("/delete_me")
    assert "Будет стёрто всё, что я храню о вас:" in ivan.last_text
    assert ivan.buttons == ["Сначала выгрузить данные", "Стереть всё", "Оставить мои данные"]
    await ivan.press("Стереть всё")
    assert ivan.last_text.startswith("Готово. Я стёр:")
    assert await bot.db.run(lambda s: s.get(Trainer, 777)) is None

    group = bot.api.new_group("Gym")
    await bot.api.join(group, ivan)
    await bot.api.add_bot(group, ivan)
    await ivan.send("/delete_me@recert_bot", chat=group)
    texts = [m.get("text", "") for m in group.messages if m["from"]["id"] != ivan.id]
    assert any("в личном" in t.lower() or "личн" in t.lower() for t in texts), texts
