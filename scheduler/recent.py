"""What reached each chat lately, so that one reminder text is never sent to a trainer twice
within minutes (the catch-up after downtime, where the next sweep's repeat said the same as
the milestone just sent). Pure and in memory: times are the sweep's `now`, so tests move time
on without sleeping; a few thousand entries at most, the oldest forgotten first."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime, timedelta

SAME_TEXT_WINDOW = timedelta(minutes=10)
KEEP = 10_000  # entries remembered at most (a sweep sends a few hundred a minute at most)


class RecentTexts:
    def __init__(self, window: timedelta = SAME_TEXT_WINDOW, keep: int = KEEP) -> None:
        self.window = window
        self.keep = keep
        self._sent: OrderedDict[tuple[int, bytes], datetime] = OrderedDict()

    @staticmethod
    def _key(chat_id: int, text: str) -> tuple[int, bytes]:
        return chat_id, hashlib.blake2b(text.encode(), digest_size=16).digest()  # not the text

    def sent_lately(self, chat_id: int, text: str, now: datetime) -> bool:
        """Whether `text` reached `chat_id` within the window before `now`."""
        at = self._sent.get(self._key(chat_id, text))
        return at is not None and now - at < self.window

    def note(self, chat_id: int, text: str, now: datetime) -> None:
        key = self._key(chat_id, text)
        self._sent[key] = now
        self._sent.move_to_end(key)
        while self._sent:
            oldest_key, oldest = next(iter(self._sent.items()))
            if len(self._sent) <= self.keep and now - oldest < self.window:
                break
            del self._sent[oldest_key]
