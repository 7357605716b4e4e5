"""One chat never waits for another: updates are handled concurrently, but each chat's and
each person's one after another, in the order they came (PTB's `BaseUpdateProcessor`, given
to the builder's `concurrent_updates`).

A group's messages must leave 3 s apart (Telegram's 20 a minute, `bot.ratelimit`), and the
handler that sends one waits for its turn. Handled one update at a time, as PTB does by
default, that wait held every chat: a private /help took seconds behind four group /team
commands. Now only that group's updates, and its senders', wait behind it.

An update takes its chat's turn, then its sender's (a private chat's id is its person's: one
turn). So a person's updates never run two at once, wherever they come from (their
conversations and `user_data` see one update at a time), and neither do a group's (two
administrators' /team at once). No deadlock: a chat's turn is only ever awaited holding
nothing, a sender's holding at most their chat's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
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
    """A FIFO turn per chat and per person; entries live only while one has updates in hand."""

    def __init__(self) -> None:
        self._turns: dict[int, _Turn] = {}

    def __len__(self) -> int:
        return len(self._turns)

    @staticmethod
    def keys(update: object) -> list[int]:
        """The chat's id, then the sender's (group and channel ids are negative, so neither
        is ever taken for the other; a private chat's is its person's, taken once)."""
        if not isinstance(update, Update):
            return []
        chat, user = update.effective_chat, update.effective_user
        keys = [chat.id] if chat is not None else []
        if user is not None and user.id not in keys:
            keys.append(user.id)
        return keys

    @asynccontextmanager
    async def turn(self, update: object) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for key in self.keys(update):
                await stack.enter_async_context(self._one(key))
            yield

    @asynccontextmanager
    async def _one(self, key: int) -> AsyncIterator[None]:
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
    """Concurrent across chats and people, in order within each."""

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
