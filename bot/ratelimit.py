"""Sending under Telegram's limits: about 30 messages a second in all, 20 a minute in a group,
about one a second in one private chat (`shared/reference/telegram-limits.md`).

PTB's `AIORateLimiter` fills its buckets at start: 30 messages go out at once and 30 more in
the same second, 20 in a group in the first second, and it has no per-chat limit. Here the
overall limit is what goes out in any window: at most 29 messages in any second (`_Overall`,
a log of the last second's sends). Bulk messages (scheduled ones, and a group's) also leave
evenly spaced and take at most 25 of each second, so an answer to a person is never queued
behind a broadcast or a flooded group: it goes at once. A group's messages leave 3 s apart,
20 in any minute. Reminders, which can come several to one trainer at once, are also spaced a
second apart per chat (`PACED`); an answer to what a person just did is not, so the bot never
feels slow to them.

Every request goes through here, so this is also where an answer to a person is retried: a
flood wait (RetryAfter) of at most `REPLY_RETRY_WITHIN` is waited out, a time-out or another
transient error (5xx, a dropped connection) is tried again `REPLY_RETRY_PAUSE` later, once
each time; only if that fails too does the error reach the error handler, which apologises.
Scheduled sends (`PACED`: reminders, team messages) are not retried here: their jobs keep the
claim and send it later, so a stop in between loses nothing. With RATE_LIMIT=false the same
limiter runs without pacing (`pace=False`), so replies are retried either way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# The methods Telegram's limits count: sending and editing messages.
MESSAGES = ("send", "edit", "forward", "copy")
# rate_limit_args for a scheduled send (reminders, team messages): paced per chat, as it may
# come in a burst to one person, and never retried here, as its job owes it again itself.
PACED = "paced"

OVERALL_PER_SECOND = 29  # one below Telegram's 30, for the clock's jitter
REPLY_RESERVE = 4  # of each second's messages, kept for answers to people
GROUP_GAP_SECONDS = 3.0  # 20 a minute: at most 20 in any 60 s
CHAT_GAP_SECONDS = 1.0  # "about one a second"
KEEP_CHATS = 1024  # chats remembered; idle ones are forgotten past this
# A reply waits out a flood wait up to this long (the person is waiting for it); a longer
# one, or a second failure, is the error handler's.
REPLY_RETRY_WITHIN = 10.0
REPLY_RETRY_PAUSE = 0.5  # before trying a reply again after a time-out or a 5xx

JSON = bool | dict[str, Any] | list[dict[str, Any]]


BOOTSTRAP = frozenset({"getMe", "deleteWebhook", "setWebhook", "getUpdates"})


@dataclass
class _Chat:
    """One chat's pacing: its messages go one after another, `gap` apart."""

    gap: float
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_sent: float = -1e9  # monotonic


class TelegramLimits(BaseRateLimiter[str]):
    """Every message through one overall bucket; a group's messages, and paced ones to a
    private chat, also wait their turn in that chat. The gap is measured between the moments
    messages leave (after the overall wait, which varies), so no chat ever gets two closer
    together. Chats that have been quiet for longer than their gap are forgotten past
    `KEEP_CHATS`, so memory stays bounded."""

    def __init__(
        self,
        overall_per_second: float = OVERALL_PER_SECOND,
        group_gap_seconds: float = GROUP_GAP_SECONDS,
        chat_gap_seconds: float = CHAT_GAP_SECONDS,
        *,
        pace: bool = True,
        retry_within: float = REPLY_RETRY_WITHIN,
        retry_pause: float = REPLY_RETRY_PAUSE,
    ) -> None:
        self._pace = pace
        self._retry_within = retry_within
        self._retry_pause = retry_pause
        self._overall = _Overall(overall_per_second, REPLY_RESERVE)
        self._group_gap = group_gap_seconds
        self._chat_gap = chat_gap_seconds
        self._chats: OrderedDict[int | str, _Chat] = OrderedDict()

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
        if rate_limit_args == PACED or endpoint in BOOTSTRAP:
            # Start-up calls have PTB's own bootstrap retries (and their one line each).
            return await self._paced(callback, args, kwargs, endpoint, data, rate_limit_args)
        try:
            return await self._paced(callback, args, kwargs, endpoint, data, rate_limit_args)
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            if wait > self._retry_within:
                raise
            log.info("%s met a flood wait of %.1f s: sent again after it", endpoint, wait)
            await asyncio.sleep(wait)
        except TimedOut:
            if endpoint == "answerCallbackQuery":
                raise  # it may have arrived, and a second answer is refused as "too old"
            log.info("%s timed out: sent again", endpoint)
            await asyncio.sleep(self._retry_pause)
        except BadRequest:
            raise  # Telegram refused it: the same request would be refused again
        except NetworkError as error:  # a 5xx or a dropped connection
            log.info("%s failed (%s): sent again", endpoint, error.message)
            await asyncio.sleep(self._retry_pause)
        return await self._paced(callback, args, kwargs, endpoint, data, rate_limit_args)

    async def _paced(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> JSON:
        if not self._pace:
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        if chat_id is None or not endpoint.startswith(MESSAGES):
            # Not a message: getMe, answerCallbackQuery, getChatMember (a manager paging the
            # roster must not wait on the group's 20 messages a minute).
            return await callback(*args, **kwargs)
        key = _chat_key(chat_id)
        if _is_group(key):
            gap = self._group_gap
        elif rate_limit_args == PACED:
            gap = self._chat_gap
        else:  # an answer to what someone just did: only the overall rate applies
            await self._overall.acquire(bulk=False)
            return await callback(*args, **kwargs)
        chat = self._chat(key, gap)
        async with chat.turn:
            wait = chat.last_sent + chat.gap - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._overall.acquire(bulk=True)
            chat.last_sent = time.monotonic()
            return await callback(*args, **kwargs)

    def _chat(self, key: int | str, gap: float) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            chat = self._chats[key] = _Chat(gap)
            now = time.monotonic()
            while len(self._chats) > KEEP_CHATS:
                oldest_key, oldest = next(iter(self._chats.items()))
                if oldest.turn.locked() or now - oldest.last_sent < oldest.gap:
                    break  # still pacing (the dict is in order of last use)
                del self._chats[oldest_key]
        self._chats.move_to_end(key)
        return chat


class _Overall:
    """At most `per_second` messages in any one-second window: a send waits until fewer than
    that left in the second before it (then no window of a second can hold more). Bulk sends
    also leave evenly spaced, through aiolimiter's leaky bucket of one, and stop `reserve`
    short of the limit, which answers to people alone may use: a person never waits behind
    them."""

    def __init__(self, per_second: float, reserve: int) -> None:
        self._limit = max(1, int(per_second))
        self._bulk_limit = max(1, self._limit - reserve)
        self._bulk = AsyncLimiter(1, 1 / self._bulk_limit)
        self._sent: deque[float] = deque()  # monotonic moments of the last second's sends

    async def acquire(self, *, bulk: bool) -> None:
        if bulk:
            await self._bulk.acquire()
        limit = self._bulk_limit if bulk else self._limit
        while True:
            now = time.monotonic()
            while self._sent and now - self._sent[0] >= 1.0:
                self._sent.popleft()
            if len(self._sent) < limit:
                self._sent.append(now)
                return
            # Until enough of the second's sends are more than a second old.
            await asyncio.sleep(self._sent[len(self._sent) - limit] + 1.0 - now)


def _seconds(wait: Any) -> float:
    return wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)


def _chat_key(chat_id: Any) -> int | str:
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)  # "@channel": a group or channel by name


def _is_group(key: int | str) -> bool:
    return isinstance(key, str) or key < 0
