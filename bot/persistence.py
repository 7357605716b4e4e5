"""PTB persistence in our database: conversation states and their answers so far survive a
restart (a trainer halfway through /add goes on after a deploy). Only `user_data` and
conversations are kept; both are small JSON and removed when empty."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage import conversations
from storage.db import Database

ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, db: Database, update_interval: float = 5) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.db = db

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self.db.run(lambda session: conversations.states(session, name))
        return {tuple(json.loads(key)): json.loads(state) for key, state in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        encoded_key = json.dumps(list(key))
        state = None if new_state is None else json.dumps(new_state)
        await self.db.run(
            lambda session: conversations.save_state(session, name, encoded_key, state)
        )

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        rows = await self.db.run(conversations.all_user_data)
        return {user_id: json.loads(data) for user_id, data in rows}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        encoded = json.dumps(data, default=str) if data else None
        await self.db.run(lambda session: conversations.save_user_data(session, user_id, encoded))

    async def drop_user_data(self, user_id: int) -> None:
        await self.db.run(lambda session: conversations.forget_user(session, user_id))

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
