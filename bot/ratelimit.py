"""Sending under Telegram's limits: about 30 messages a second in all, 20 a minute in a group,
about one a second in one private chat (`shared/reference/telegram-limits.md`).

PTB's `AIORateLimiter` fills its buckets at start: 30 messages go out at once and 30 more in
the same second, 20 in a group in the first second, and it has no per-chat limit. Here every
bucket holds one message (aiolimiter's leaky bucket with a capacity of 1), so the rate is what
goes out in any window: 30 in any second, 20 in any minute per group. Reminders, which can
come several to one trainer at once, are also spaced a second apart per chat (`PACED`); an
answer to what a person just did is not, so the bot never feels slow to them.

A RetryAfter from Telegram is raised to the caller, which knows whether to retry (the sweep
keeps the nudge for later).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import BaseRateLimiter

# The methods Telegram's limits count: sending and editing messages.
MESSAGES = ("send", "edit", "forward", "copy")
# rate_limit_args for a send that may come in a burst to one person (the nudge sweep).
PACED = "paced"

OVERALL_PER_SECOND = 29  # one below Telegram's 30, for the clock's jitter
GROUP_PER_MINUTE = 19  # the first message is free: 19 more make 20 in any minute
CHAT_GAP_SECONDS = 1.0
KEEP_CHATS = 1024  # per-chat buckets kept; idle ones are forgotten past this

JSON = bool | dict[str, Any] | list[dict[str, Any]]


class TelegramLimits(BaseRateLimiter[str]):
    """Every send through one overall bucket; groups and paced private sends through their
    chat's bucket first. Buckets of idle chats are dropped, so memory stays bounded."""

    def __init__(
        self,
        overall_per_second: float = OVERALL_PER_SECOND,
        group_per_minute: float = GROUP_PER_MINUTE,
        chat_gap_seconds: float = CHAT_GAP_SECONDS,
    ) -> None:
        self._overall = AsyncLimiter(1, 1 / overall_per_second)
        self._group_gap = 60 / group_per_minute
        self._chat_gap = chat_gap_seconds
        self._groups: OrderedDict[int | str, AsyncLimiter] = OrderedDict()
        self._chats: OrderedDict[int | str, AsyncLimiter] = OrderedDict()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> JSON:
        chat_id = data.get("chat_id")
        if chat_id is None or not endpoint.startswith(MESSAGES):
            # Not a message: getMe, answerCallbackQuery, getChatMember (a manager paging the
            # roster must not wait on the group's 20 messages a minute).
            return await callback(*args, **kwargs)
        key = _chat_key(chat_id)
        if _is_group(key):
            await self._bucket(self._groups, key, self._group_gap).acquire()
        elif rate_limit_args == PACED:
            await self._bucket(self._chats, key, self._chat_gap).acquire()
        await self._overall.acquire()
        return await callback(*args, **kwargs)

    @staticmethod
    def _bucket(
        buckets: OrderedDict[int | str, AsyncLimiter], key: int | str, gap: float
    ) -> AsyncLimiter:
        """The chat's bucket of one message, refilled every `gap` seconds."""
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = AsyncLimiter(1, gap)
            while len(buckets) > KEEP_CHATS:
                oldest, limiter = next(iter(buckets.items()))
                if not limiter.has_capacity():
                    break  # still pacing: keep it (the dict is in order of last use)
                del buckets[oldest]
        buckets.move_to_end(key)
        return bucket


def _chat_key(chat_id: Any) -> int | str:
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)  # "@channel": a group or channel by name


def _is_group(key: int | str) -> bool:
    return isinstance(key, str) or key < 0
