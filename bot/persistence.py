"""PTB persistence in our database: conversation states and their answers so far survive a
restart (a trainer halfway through /add goes on after a deploy). Only `user_data` and
conversations are kept; both are small JSON and removed when empty.

PTB hands every user who wrote to `update_user_data` every five seconds, changed or not; most
have nothing stored. What was last written is remembered per user (only for users with data,
the same ones PTB keeps in memory), so a write happens only when something changed."""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from types import MappingProxyType
from typing import Any

from telegram.ext import BasePersistence, ConversationHandler, PersistenceInput

from handlers import flows
from storage import conversations
from storage.db import Batched, Database

ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, db: Database, update_interval: float = 5) -> None:
        super().__init__(
            # Chat data is never stored (update_chat_data does nothing), but marking it stored
            # makes PTB clear its set of chats to write, which otherwise grows for ever.
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.db = db
        # PTB writes every changed person at once every five seconds: one round trip for all.
        self._user_data: Batched[tuple[int, str | None]] = Batched(
            db, conversations.save_user_data
        )
        self._states: Batched[tuple[str, str, str | None]] = Batched(db, conversations.save_states)
        self._written: dict[int, str] = {}  # user id -> the JSON stored for them
        # The application's live user_data (set by `bind`): a user dropped as empty may have
        # written again before the drop is carried out.
        self._live: Mapping[int, dict[Any, Any]] = MappingProxyType({})

    def bind(self, user_data: Mapping[int, dict[Any, Any]]) -> None:
        self._live = user_data

    async def refresh_person(self, application: Any, update: Any) -> None:
        """Several replicas: before an update is handled, read its person's conversation
        states and answers so far from the database, where the replica that handled their
        previous update left them (PTB itself reads them only at start-up).

        One round trip per update, and only with SHARED_STATE (see `bot.app`)."""
        user, chat = update.effective_user, update.effective_chat
        if user is None:
            return
        handlers = [
            handler
            for group in application.handlers.values()
            for handler in group
            if isinstance(handler, ConversationHandler) and handler.persistent and handler.name
        ]
        keyed: dict[str, list[tuple[ConversationHandler[Any], ConversationKey]]] = {}
        for handler in handlers:
            parts: list[int] = []
            if handler.per_chat:
                if chat is None:
                    continue
                parts.append(chat.id)
            if handler.per_user:
                parts.append(user.id)
            key: ConversationKey = tuple(parts)
            keyed.setdefault(json.dumps(list(key)), []).append((handler, key))
        data, rows = await self.db.run(
            lambda session: conversations.for_person(session, user.id, list(keyed))
        )
        stored = {(name, key): state for name, key, state in rows}
        for encoded, pairs in keyed.items():
            for handler, key in pairs:
                states = flows.states(handler)
                state = stored.get((handler.name, encoded))  # type: ignore[arg-type]
                if state is not None:
                    states.update_no_track({key: json.loads(state)})
                elif key in states:
                    states.pop(key)  # ended elsewhere (the write of None is a no-op)
        live = application.user_data[user.id]  # created empty if absent, dropped if so after
        live.clear()
        if data is None:
            self._written.pop(user.id, None)
        else:
            live.update(json.loads(data))
            self._written[user.id] = data

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self.db.run(lambda session: conversations.states(session, name))
        return {tuple(json.loads(key)): json.loads(state) for key, state in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        encoded_key = json.dumps(list(key))
        state = None if new_state is None else json.dumps(new_state)
        await self._states.add((name, encoded_key, state))

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        rows = await self.db.run(conversations.all_user_data)
        self._written = dict(rows)
        return {user_id: json.loads(data) for user_id, data in rows}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        encoded = json.dumps(data, default=str) if data else None
        if self._written.get(user_id) == encoded:
            return  # unchanged, or still nothing to keep
        if encoded is None:
            self._written.pop(user_id, None)
        else:
            self._written[user_id] = encoded
        await self._user_data.add((user_id, encoded))

    async def drop_user_data(self, user_id: int) -> None:
        await self.update_user_data(user_id, self._live.get(user_id) or {})

    # Chat data, bot data and callback data are not kept: nothing uses them.
    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

    async def flush(self) -> None:
        return None  # every update is written as it comes
