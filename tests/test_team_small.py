"""Two small things about teams, through the real Application and the offline Bot API: a
trainer who added credentials before any /start is not told to add them, and a team whose
administrator never set a time zone is asked for one at /team instead of running on the
operator's default unawares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from scheduler.cycles import Cycle
from storage import credentials, trainers
from tests.conftest import Bot
from tests.test_teams import bot_texts, join_payload, madrid_trainer, stored_team


async def test_credentials_added_before_start_are_not_asked_for_again(bot: Bot) -> None:
    api = bot.api
    boss = await madrid_trainer(bot, "Maria", 501)
    group = api.new_group("Iron Gym trainers")
    await api.join(group, boss, "creator")
    await api.add_bot(group, boss)
    await boss.send("/team@recert_bot", chat=group)
    payload = join_payload(group)

    # Yara used /add straight away (the trainer row is made on the spot, with no time zone);
    # Zoe never talked to the bot.
    yara, zoe = bot.person("Yara", user_id=610), bot.person("Zoe", user_id=611)
    today = datetime.now(UTC).date()

    def added(session):  # type: ignore[no-untyped-def]
        trainers.start(session, yara.id, "Yara", "en", 9)
        session.flush()
        end = today + timedelta(days=200)
        credentials.add(
            session,
            yara.id,
            Cycle(end - timedelta(days=730), end, Decimal("2.0")),
            catalog_id="ace-cpt",
        )

    await bot.db.run(added)
    for person in (yara, zoe):
        await api.join(group, person)
        await person.send(f"/start {payload}")
        await person.press("✅ Agree and share")
    assert "ACE-CPT" in yara.last_text and "You now share your deadlines" in yara.last_text
    assert "add your certifications" not in yara.last_text
    assert "Send /start to set your time zone" in yara.last_text
    assert "Send /start to add your certifications and get reminders." in zoe.last_text


async def test_a_team_without_a_time_zone_is_asked_for_one(bot: Bot) -> None:
    api = bot.api
    olga = bot.person("Olga", user_id=620)  # never talked to the bot in private
    group = api.new_group("Box club")
    await api.join(group, olga, "creator")
    await api.add_bot(group, olga)
    await olga.send("/team@recert_bot", chat=group)
    team = await stored_team(bot, group)
    assert team is not None and not team.zone_chosen
    assert team.time_zone == bot.application.bot_data["settings"].default_time_zone
    assert "Which time zone is the team in?" in bot_texts(bot, group)[-1]
    await olga.send("/team@recert_bot", chat=group)  # asked again until it is set
    assert "Which time zone is the team in?" in bot_texts(bot, group)[-1]

    await olga.send("/team Madrid", chat=group)
    team = await stored_team(bot, group)
    assert team is not None and team.zone_chosen and team.time_zone == "Europe/Madrid"
    shown = bot_texts(bot, group)[-1]
    assert "(Madrid" in shown and "Which time zone" not in shown

    # An administrator with a time zone of their own sets the team up in it, unasked.
    maria = await madrid_trainer(bot, "Maria", 621)
    other = api.new_group("Iron Gym trainers")
    await api.join(other, maria, "creator")
    await api.add_bot(other, maria)
    await maria.send("/team@recert_bot", chat=other)
    team = await stored_team(bot, other)
    assert team is not None and team.zone_chosen and team.time_zone == "Europe/Madrid"
    assert "Which time zone" not in bot_texts(bot, other)[-1]
