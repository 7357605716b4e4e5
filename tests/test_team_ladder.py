"""The team's own escalation ladder, through the real Application and the offline Bot API, on
both databases: a manager sets it from the team's settings (one screen, in the team's
language), and ten weeks are lived through a tick a day: each step reaches whom it names once,
on its own day, only if credits are short where it says so; a CPR/AED card on its own, earlier
lead time; a check run again (a restart, a second replica) sends nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from scheduler.cycles import Cycle
from scheduler.team_job import run_team_tick
from storage import credentials, teams
from storage.models import Team
from tests.conftest import Bot
from tests.test_teams import MADRID, bot_texts, join_payload, madrid, madrid_trainer, stored_team


async def test_a_ladder_set_by_the_manager_lived_through(bot: Bot) -> None:
    api = bot.api
    today = datetime.now(MADRID).date()
    boss = await madrid_trainer(bot, "Maria", 501)
    ana = await madrid_trainer(bot, "Ana", 502)  # NASM-CPT in 70 days, no credits: short
    ben = await madrid_trainer(bot, "Ben", 503)  # ACE-CPT in 70 days, credits complete
    cai = await madrid_trainer(bot, "Cai", 504)  # a CPR/AED card in 100 days
    end = today + timedelta(days=70)
    card_end = today + timedelta(days=100)

    def register(session):  # type: ignore[no-untyped-def]
        credentials.add(
            session,
            ana.id,
            Cycle(end - timedelta(days=730), end, Decimal(2)),
            catalog_id="nasm-cpt",
        )
        saved = credentials.add(
            session,
            ben.id,
            Cycle(end - timedelta(days=730), end, Decimal(2)),
            catalog_id="ace-cpt",
        )
        credentials.add_credit(session, ben.id, saved.id, Decimal(2), today, "Workshop")
        credentials.add(
            session,
            cai.id,
            Cycle(card_end - timedelta(days=730), card_end, None),
            catalog_id="aha-cpr",
        )

    await bot.db.run(register)
    group = api.new_group("Iron Gym trainers")
    await api.join(group, boss, "creator")
    for person in (ana, ben, cai):
        await api.join(group, person)
    await api.add_bot(group, boss)
    await boss.send("/team@recert_bot", chat=group)
    for person in (ana, ben, cai):
        await person.send(f"/start {join_payload(group)}")
        await person.press("✅ Agree and share")

    # The ladder, from the team's settings: the defaults first.
    await boss.press("🪜 Escalation ladder", chat=group)
    screen = bot_texts(bot, group)[-1]
    assert "Escalation ladder of Iron Gym trainers" in screen
    certifications, cards = screen.split("CPR/AED cards")
    assert "the trainer: 60 days before the deadline" in certifications
    assert (
        "the managers, privately: 30 days before the deadline (only if credits are short)"
        in certifications
    )
    assert "the group: never" in certifications and "the group: never" in cards
    assert "the trainer: 90 days before the deadline" in cards
    assert "the managers, privately: 60 days before the deadline" in cards
    # A forged step names nothing the ladder knows.
    team = await stored_team(bot, group)
    assert team is not None
    screen_message = group.messages[-1]
    await boss.press_data(f"team:ld:{team.id}:x:z:d", screen_message, group)
    await boss.press_data(f"team:ld:{team.id}", screen_message, group)
    team = await stored_team(bot, group)
    assert team is not None and team.ladder is None and team.card_ladder is None
    # A member cannot change it.
    await ana.press("the group: never", chat=group)
    assert "the group: never" in bot_texts(bot, group)[-1].split("CPR/AED cards")[0]
    # The manager tells the group at 7 days: a press moves the step to its next day.
    for label in ("never", "120", "90", "60", "45", "30", "14"):
        await boss.press(f"the group: {label}", chat=group)
    screen = bot_texts(bot, group)[-1]
    assert "the group: 7 days before the deadline" in screen.split("CPR/AED cards")[0]
    team = await stored_team(bot, group)
    assert team is not None and team.ladder == "t60,m30s,g7"
    assert team.card_ladder is None  # the cards keep their earlier defaults

    # Ten weeks, one tick a day at the team's hour.
    seen: dict[int, list[tuple[int, str]]] = {}  # days from today -> (chat id, text)
    for day in range(1, 72):
        tick = await run_team_tick(bot.application, madrid(today + timedelta(days=day), 9))
        seen[day] = [(chat, text) for chat, text in tick.messages if "🪜" in text]

    def days_of(chat_id: int, *words: str) -> list[int]:
        return [
            day
            for day, items in seen.items()
            for chat, text in items
            if chat == chat_id and all(word in text for word in words)
        ]

    group_id = group.id
    # The trainer alone at 60 days (Ana's and Ben's certifications), in the team's name.
    assert days_of(ana.id, "A word from Iron Gym trainers", "NASM-CPT") == [10]
    assert days_of(ben.id, "ACE-CPT") == [10]
    # The managers at 30 days, only about Ana, whose credits are short; Ben's are complete.
    assert days_of(boss.id, "Ana", "NASM-CPT", "credits 0 of 2 CEU") == [40]
    assert days_of(boss.id, "Ben") == []
    # The group at 7 days, about both.
    assert days_of(group_id, "Ana: NASM-CPT is due in 7 days") == [63]
    assert days_of(group_id, "Ben: ACE-CPT is due in 7 days") == [63]
    # Cai's CPR/AED card on its own, earlier lead time: Cai at 90 days, the managers at 60.
    assert days_of(cai.id, "AHA CPR/AED") == [10]
    assert days_of(boss.id, "Cai", "AHA CPR/AED") == [40]
    assert days_of(group_id, "Cai") == []  # the cards' group step is off
    # Three to trainers, two to the manager, one group message with both: nothing else,
    # nothing twice.
    assert sum(len(items) for items in seen.values()) == 6

    # The check run again on the last day (a restart, another replica): nothing twice.
    team_id = team.id
    last = madrid(today + timedelta(days=71), 10)

    def owe_again(session):  # type: ignore[no-untyped-def]
        stored = session.get(Team, team_id)
        stored.next_check_at = last - timedelta(hours=1)

    await bot.db.run(owe_again)
    tick = await run_team_tick(bot.application, last)
    assert not [text for _chat, text in tick.messages if "🪜" in text]
    recorded = await bot.db.run(lambda s: teams.recorded_alerts(s, team_id))
    kinds = sorted(kind for said in recorded.values() for kind in said if "ladder" in kind)
    assert kinds == sorted(["ladder:t"] * 3 + ["ladder:m"] * 2 + ["ladder:g"] * 2)


async def test_the_ladder_screen_speaks_the_teams_language(bot: Bot) -> None:
    api = bot.api
    jefa = bot.person("Lucía", language_code="es", user_id=520)
    await jefa.send("/start")
    await jefa.press("✓ Español")
    await jefa.send("Madrid")
    group = api.new_group("Gimnasio")
    await api.join(group, jefa, "creator")
    await api.add_bot(group, jefa)
    await jefa.send("/team@recert_bot", chat=group)
    await jefa.press("🪜 Escalera de avisos", chat=group)
    screen = bot_texts(bot, group)[-1]
    assert "Escalera de avisos de Gimnasio" in screen
    assert "solo si faltan créditos" in screen
