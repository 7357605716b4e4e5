"""What the bot keeps per person: nothing in memory or in the database for people who only
ask (their memory must not grow with the number of users), and a conversation's answers
kept, written only when they change."""

from __future__ import annotations

from sqlmodel import select

from storage.models import UserData
from tests.conftest import Bot
from tests.helpers import onboard


async def stored_user_data(bot: Bot) -> dict[int, str]:
    return await bot.db.run(lambda s: {row.user_id: row.data for row in s.exec(select(UserData))})


async def test_people_who_only_ask_leave_nothing_behind(bot: Bot) -> None:
    """Set-up done (a conversation, ended), then the everyday questions."""
    people = [bot.person(f"P{i}", user_id=7000 + i) for i in range(30)]
    for person in people:
        await onboard(person, "✓ English")
    await bot.application.update_persistence()  # their set-up's conversation states
    for person in people:
        await person.send("/status")
        await person.send("/help")
        await person.send("hello")
    assert all(person.last_text for person in people)  # every one was answered
    ids = {person.id for person in people}
    assert not ids & set(bot.application.user_data)
    assert not ids & set(bot.application.chat_data)

    before = bot.db.statements
    await bot.application.update_persistence()
    assert bot.db.statements == before  # nothing to write for any of them
    assert await stored_user_data(bot) == {}


async def test_answers_so_far_are_kept_and_written_only_when_changed(bot: Bot) -> None:
    ana = bot.person("Ana", user_id=7100)
    await onboard(ana, "✓ English")
    await ana.send("/add")
    await bot.application.update_persistence()
    first = await stored_user_data(bot)
    assert '"add": {' in first[ana.id]

    await ana.send("/status")  # changes nothing /add keeps
    before = bot.db.statements
    await bot.application.update_persistence()
    assert bot.db.statements == before  # unchanged: not written again
    assert await stored_user_data(bot) == first


async def test_data_emptied_then_filled_again_before_a_write_is_kept(bot: Bot) -> None:
    """A photo is offered as a proof (something to remember), declined (nothing left: the
    person is dropped from memory), then /add begins, all before the five-second write."""
    kim = bot.person("Kim", user_id=7200)
    await onboard(kim, "✓ English")
    await bot.application.update_persistence()
    await kim.send_photo(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    assert kim.buttons == ["Yes, log credits", "No"]
    await kim.press("No")
    await kim.send("/add")
    await bot.application.update_persistence()
    stored = await stored_user_data(bot)
    assert '"add": {' in stored[kim.id]
    assert "pending_proof" not in stored[kim.id]


async def test_a_second_person_does_not_disturb_the_first(bot: Bot) -> None:
    ana, ben = bot.person("Ana", user_id=7300), bot.person("Ben", user_id=7301)
    for person in (ana, ben):
        await onboard(person, "✓ English")
    await ana.send("/add")
    await ben.send("/status")
    await bot.application.update_persistence()
    assert set(await stored_user_data(bot)) == {ana.id}
    assert ana.id in bot.application.user_data and ben.id not in bot.application.user_data


async def test_many_conversations_are_written_in_one_round_trip(bot: Bot) -> None:
    people = [bot.person(f"W{i}", user_id=7400 + i) for i in range(20)]
    for person in people:
        await onboard(person, "✓ English")
    await bot.application.update_persistence()
    for person in people:
        await person.send("/add")
    trips = bot.db.round_trips
    await bot.application.update_persistence()
    assert bot.db.round_trips - trips <= 2  # answers so far, and conversation states
    stored = await stored_user_data(bot)
    assert all('"add": {' in stored[person.id] for person in people)
