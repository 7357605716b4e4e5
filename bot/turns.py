"""One chat never waits for another: updates are handled concurrently, but each chat's one
after another, in the order they came (PTB's `BaseUpdateProcessor`, given to the builder's
`concurrent_updates`).

A group's messages must leave 3 s apart (Telegram's 20 a minute, `bot.ratelimit`), and the
handler that sends one waits for its turn. Handled one update at a time, as PTB does by
default, that wait held every chat: a private /help took seconds behind four group /team
commands. Keyed by chat, only that group's own updates wait behind it.

The key is the chat: a private chat's id is its person's, so each person's updates there
stay in order and their conversations (per chat and user) never see two updates at once.
Updates without a chat (inline queries, polls) are keyed by their sender, or run at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates in hand at once, across chats. Most wait on a group's pacing or on Telegram, not on
# the CPU or the database (a unit of work holds a connection only while it runs), so this
# bounds memory rather than work: a flood in many groups must not take every slot.
MAX_IN_HAND = 256


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0  # holders and waiters: the entry goes when it reaches 0


class ChatTurns:
    """A FIFO turn per chat; entries live only while a chat has updates in hand."""

    def __init__(self) -> None:
        self._turns: dict[int | tuple[str, int], _Turn] = {}

    def __len__(self) -> int:
        return len(self._turns)

    @staticmethod
    def key(update: object) -> int | tuple[str, int] | None:
        if not isinstance(update, Update):
            return None
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        return None

    @asynccontextmanager
    async def turn(self, update: object) -> AsyncIterator[None]:
        key = self.key(update)
        if key is None:
            yield
            return
        turn = self._turns.setdefault(key, _Turn())
        turn.waiting += 1
        try:
            # asyncio.Lock wakes its waiters in the order they came: the chat's order.
            async with turn.lock:
                yield
        finally:
            turn.waiting -= 1
            if not turn.waiting:
                del self._turns[key]


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within each chat."""

    def __init__(self, max_in_hand: int = MAX_IN_HAND) -> None:
        super().__init__(max_in_hand)
        self.turns = ChatTurns()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        async with self.turns.turn(update):
            await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
