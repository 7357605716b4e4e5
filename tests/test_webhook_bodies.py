"""The webhook's HTTP layer against what an attacker (or a broken proxy) can post with the right
secret: only updates are taken, anything else is 400 with nothing claimed or stored, and a
valid but odd update is handled once, whatever happens while it is handled."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlmodel import select

from bot.app import build_application, shutdown, startup
from bot.i18n import I18n
from bot.offline import OfflineBotAPI
from bot.webhook import WebhookServer
from storage.models import SeenUpdate, Trainer
from tests.conftest import make_settings
from tests.test_webhook import BODIES, PATH, SECRET, start_update

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


@dataclass
class Hook:
    api: OfflineBotAPI
    application: Any
    client: httpx.AsyncClient

    async def post(self, body: bytes) -> int:
        answer = await self.client.post(PATH, content=body, headers=HEADERS)
        return answer.status_code

    async def rows(self) -> tuple[list[SeenUpdate], list[Trainer]]:
        db = self.application.bot_data["db"]
        return await db.run(
            lambda s: (list(s.exec(select(SeenUpdate)).all()), list(s.exec(select(Trainer)).all()))
        )


@pytest.fixture
async def hook(database_url: str, i18n: I18n) -> AsyncIterator[Hook]:
    """The webhook server on each database (on PostgreSQL with shared state, as replicas)."""
    config = make_settings(
        database_url,
        webhook_url="https://bot.example.com" + PATH,
        webhook_secret=SecretStr(SECRET),
    )
    api = OfflineBotAPI()
    application = build_application(config, request=api, i18n=i18n)
    await startup(application)
    server = WebhookServer(application, SECRET, config.webhook_path)
    port = server.listen("127.0.0.1", 0)
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        yield Hook(api, application, client)
    finally:
        await client.aclose()
        await server.stop()
        await shutdown(application)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


def _without_chat() -> dict[str, Any]:
    update = start_update()
    del update["message"]["chat"]
    return update


# The six bodies that got 500 (or a float's 200) before they were checked first.
NAMED = {
    "update_id a string": _dump({**start_update(), "update_id": "9001"}),
    "update_id null": _dump({**start_update(), "update_id": None}),
    "a list": _dump([start_update()]),
    "update_id past 64 bits": _dump({**start_update(), "update_id": 2**64 + 1}),
    "update_id a float": _dump({**start_update(), "update_id": 9001.0}),
    "a message without a chat": _dump(_without_chat()),
    "update_id true": _dump({**start_update(), "update_id": True}),
    "update_id negative": _dump({**start_update(), "update_id": -1}),
    "no content": _dump({"update_id": 5}),
    "two kinds": _dump({**start_update(), "edited_message": start_update()["message"]}),
    "text a number": _dump(
        {**start_update(), "message": {**start_update()["message"], "text": 17}}
    ),
    "user id past 64 bits": _dump(
        {
            **start_update(),
            "message": {
                **start_update()["message"],
                "from": {"id": 2**70, "is_bot": False, "first_name": "X"},
            },
        }
    ),
    "a NUL in the text": _dump(
        {**start_update(), "message": {**start_update()["message"], "text": "/start\x00"}}
    ),
}


@pytest.mark.parametrize("name", sorted(NAMED))
async def test_a_body_that_is_no_update_is_400_with_nothing_stored(
    hook: Hook, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert await hook.post(NAMED[name]) == 400
    assert await hook.rows() == ([], [])  # not claimed, nobody started
    assert not _errors(caplog)


async def test_junk_bodies_are_400_and_leave_nothing(
    hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    bodies: list[bytes] = []

    @settings(max_examples=120, deadline=None, derandomize=True)
    @given(body=BODIES)
    def collect(body: bytes) -> None:
        bodies.append(body)

    collect()
    for body in bodies:
        assert await hook.post(body) == 400, body
    assert await hook.rows() == ([], [])
    assert not _errors(caplog)


USER_IDS = st.integers(1, 2**52)
TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00"), min_size=1, max_size=200)


def _message(update_id: int, user_id: int, chat: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "from": {"id": user_id, "is_bot": False, "first_name": "Odd"},
            "chat": chat,
            "text": text,
        },
    }


def _button(update_id: int, user_id: int, data: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": user_id, "is_bot": False, "first_name": "Odd"},
            "chat_instance": "odd",
            "data": data,
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": user_id, "type": "private"},
            },
        },
    }


def _reaction(update_id: int, user_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message_reaction": {
            "chat": {"id": user_id, "type": "private"},
            "message_id": 1,
            "user": {"id": user_id, "is_bot": False, "first_name": "Odd"},
            "date": 1_700_000_000,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        },
    }


ODD = st.one_of(
    st.builds(
        lambda u, text: lambda i, _g: _message(i, u, {"id": u, "type": "private"}, text),
        USER_IDS,
        TEXT,
    ),
    st.builds(
        lambda u, text: lambda i, group: _message(i, u, group, text),
        USER_IDS,
        TEXT.map(lambda t: "/" + t),
    ),
    st.builds(
        lambda u, data: lambda i, _g: _button(i, u, data),
        USER_IDS,
        TEXT.map(lambda t: t.encode()[:64].decode(errors="ignore")),
    ),
    st.builds(lambda u: lambda i, _g: _reaction(i, u), USER_IDS),
)


async def test_odd_but_valid_updates_are_handled_once(
    hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    makers: list[Any] = []

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(make=ODD)
    def collect(make: Any) -> None:
        makers.append(make)

    collect()
    group = hook.api.new_group("Odd Gym", supergroup=True)
    group.members[hook.api.bot_user["id"]] = {"status": "member"}
    for update_id, make in enumerate(makers, start=2**31 - 1 - len(makers)):
        update = make(update_id, group.info)
        content = next(value for key, value in update.items() if key != "update_id")
        hook.api.register_user(content.get("from") or content["user"])  # Telegram knows them
        body = _dump(update)
        assert await hook.post(body) == 200, body
        assert await hook.post(body) == 200  # delivered again: answered, not handled again
    seen, _trainers = await hook.rows()
    assert len(seen) == len(makers) and all(row.done for row in seen)
    assert not _errors(caplog)


async def test_an_update_that_fails_around_its_handlers_is_still_done(
    hook: Hook, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(update: Any) -> str:
        raise RuntimeError("the log line could not be written")

    monkeypatch.setattr("bot.app.describe_update", broken)
    caplog.set_level(logging.INFO)
    hook.api.register_user(start_update()["message"]["from"])
    body = _dump(start_update())
    assert await hook.post(body) == 200
    seen, trainers = await hook.rows()
    assert [(row.update_id, row.done) for row in seen] == [(9001, True)]
    assert len(trainers) == 1  # /start was handled
    assert await hook.post(body) == 200
    assert any("handled already" in r.getMessage() for r in caplog.records)
    assert len((await hook.rows())[1]) == 1
    assert _errors(caplog) == ["update 9001 failed outside its handlers"]
