"""The newest conversation takes what a person types (handlers.flows), and the one place that
reads PTB's private state of a conversation is pinned to the PTB versions we allow."""

from __future__ import annotations

import tomllib
from pathlib import Path

import telegram
from packaging.requirements import Requirement
from telegram.ext import ConversationHandler

from handlers import flows
from storage import conversations
from tests.conftest import Bot
from tests.helpers import onboard

PYPROJECT = Path(__file__).parent.parent / "pyproject.toml"


async def test_ptb_is_a_version_whose_conversation_states_we_read(bot: Bot) -> None:
    """`flows.states` reads `ConversationHandler._conversations`: checked for PTB
    >=22.8,<23 only. A PTB outside the range fails here first, before a conversation
    misbehaves."""
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    [ptb] = [Requirement(d) for d in dependencies if d.startswith("python-telegram-bot")]
    assert str(ptb.specifier) in ("<23,>=22.8", ">=22.8,<23")
    assert ptb.specifier.contains(telegram.__version__)
    [conversation] = [
        handler
        for handler in bot.application.handlers[0]
        if isinstance(handler, ConversationHandler) and handler.name == "add"
    ]
    held = flows.states(conversation)
    assert len(held) == 0
    held.update_no_track({(1, 1): "body"})  # set without being written back
    assert held.pop_accessed_write_items() == []
    held.pop((1, 1))  # popped: written back as ended
    assert [key for key, _state in held.pop_accessed_write_items()] == [(1, 1)]


async def conversation_rows(bot: Bot, name: str) -> list[tuple[str, str]]:
    return await bot.db.run(lambda s: conversations.states(s, name))


async def test_a_new_conversation_ends_the_older_and_drops_its_draft(bot: Bot) -> None:
    ola = bot.person("Ola")
    await onboard(ola, "✓ English", "New York")
    await ola.send("/add")
    await ola.press("NCSF")
    assert bot.application.user_data[ola.id]["add"]["body"] == "NCSF"
    await ola.send("/settings")
    await ola.press("Time zone")  # /settings now waits for a city, and /add is over
    assert "add" not in bot.application.user_data.get(ola.id, {})
    await bot.application.update_persistence()
    assert await conversation_rows(bot, "add") == []
    assert len(await conversation_rows(bot, "settings")) == 1
    await ola.send("Chicago")
    assert "Chicago" in ola.last_text
    # /add's old screen no longer takes a press: its conversation ended.
    old = next(m for m in ola.inbox if "Which NCSF credential" in m.get("text", ""))
    await ola.press_data("add:cred:ncsf-cpt", old)
    assert "no longer works" in str(list(bot.api.answered_callbacks.values())[-1])


async def test_an_entry_that_ends_at_once_leaves_the_conversation_under_way(bot: Bot) -> None:
    eva = bot.person("Eva")
    await onboard(eva, "✓ English", "New York")
    await eva.send("/add")
    await eva.press("Something else…")
    await eva.send("/status")  # not a conversation
    await eva.send("/settings")  # shown; nothing asked yet
    await eva.send("Kettlebell Coach")
    assert "How many months" in eva.last_text


async def test_erasing_a_person_ends_their_conversations_everywhere(bot: Bot) -> None:
    ivan = bot.person("Ivan")
    await onboard(ivan, "✓ English", "New York")
    await ivan.send("/add")
    await ivan.press("NCSF")
    await bot.application.update_persistence()
    assert len(await conversation_rows(bot, "add")) == 1
    await ivan.send("/delete_me")
    await ivan.press("Erase everything")
    await bot.application.update_persistence()
    assert await conversation_rows(bot, "add") == []
    await ivan.send("NCSF-CPT")
    assert "I answer to commands and buttons" in ivan.last_text
