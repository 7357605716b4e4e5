"""Webhook mode through a real HTTP server on 127.0.0.1: Telegram's secret token checked on
every request, the health endpoint, and a stop that finishes the update in hand."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.app import build_application, shutdown, startup
from bot.i18n import I18n
from bot.offline import OfflineBotAPI, Person
from bot.settings import SettingsError, load_settings
from bot.webhook import WebhookServer
from storage.models import Trainer
from tests.conftest import make_settings
from tests.test_process import TOKEN, bot_env, fake_api

__all__ = ["fake_api"]  # the fixture, shared with the polling process test

SECRET = "s3cret-Webhook_token-0123456789"
PATH = "/telegram/update"


@dataclass
class Served:
    api: OfflineBotAPI
    application: Any
    server: WebhookServer
    base: str
    client: httpx.AsyncClient
    statuses: list[int]


@pytest.fixture
async def served(sqlite_url: str, i18n: I18n) -> AsyncIterator[Served]:
    api = OfflineBotAPI()
    settings = make_settings(
        sqlite_url,
        webhook_url="https://bot.example.com" + PATH,
        webhook_secret=SecretStr(SECRET),
    )
    application = build_application(settings, request=api, i18n=i18n)
    await startup(application)
    server = WebhookServer(application, SECRET, settings.webhook_path)
    port = server.listen("127.0.0.1", 0)
    base = f"http://127.0.0.1:{port}"
    client = httpx.AsyncClient(base_url=base, timeout=30)
    statuses: list[int] = []

    async def post(update: dict[str, Any]) -> None:
        # What Telegram does with each update: POST it with the secret token.
        answer = await client.post(
            PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        statuses.append(answer.status_code)

    api.deliver_to(post)
    running = Served(api, application, server, base, client, statuses)
    try:
        yield running
    finally:
        await client.aclose()
        await server.stop()
        await shutdown(application)


def start_update(user_id: int = 42) -> dict[str, Any]:
    return {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "from": {"id": user_id, "is_bot": False, "first_name": "Lena", "language_code": "en"},
            "chat": {"id": user_id, "type": "private", "first_name": "Lena"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_a_good_secret_is_handled_and_a_bad_one_refused(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    lena = Person(served.api, 42, "Lena")
    await lena.send("/start")
    assert served.statuses == [200]
    assert "Hi Lena! I'm Recert" in lena.last_text
    db = served.application.bot_data["db"]
    assert await db.run(lambda s: s.get(Trainer, 42)) is not None

    caplog.set_level(logging.INFO)
    before = len(lena.inbox)
    wrong = "wrong-token-guess-123"
    for headers in ({"X-Telegram-Bot-Api-Secret-Token": wrong}, {}):
        answer = await served.client.post(PATH, json=start_update(43), headers=headers)
        assert answer.status_code == 403
    assert len(lena.inbox) == before
    assert 43 not in served.api.chats or not served.api.chats[43].messages
    assert await db.run(lambda s: s.get(Trainer, 43)) is None
    refused = [r.getMessage() for r in caplog.records if "refused (403)" in r.getMessage()]
    assert len(refused) == 2
    assert "wrong secret token" in refused[0] and "missing secret token" in refused[1]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert wrong not in logged and SECRET not in logged

    # Not JSON, or not an update: refused, nothing handled.
    answer = await served.client.post(
        PATH, content=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert answer.status_code == 400
    # Other paths are not the webhook.
    answer = await served.client.post(
        "/", json=start_update(44), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert answer.status_code == 404


async def test_health_checks_the_database(served: Served) -> None:
    answer = await served.client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok"}


async def test_health_is_503_when_the_database_is_gone(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    db = served.application.bot_data["db"]

    async def broken() -> None:
        raise ConnectionRefusedError("database down")

    db.ping = broken
    answer = await served.client.get("/healthz")
    assert answer.status_code == 503 and answer.json()["database"] == "unreachable"


async def test_stopping_finishes_the_update_in_hand_and_refuses_new_ones(
    served: Served,
) -> None:
    lena = Person(served.api, 42, "Lena")
    served.api.delays["sendMessage"] = 0.5  # the reply takes a while to send
    in_hand = asyncio.create_task(lena.send("/start"))
    await asyncio.sleep(0.2)
    stopping = asyncio.create_task(served.server.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waits for the update in hand
    await asyncio.wait_for(in_hand, 10)
    await asyncio.wait_for(stopping, 10)
    assert served.statuses == [200]
    assert "Hi Lena! I'm Recert" in lena.last_text
    # The listening socket is closed: Telegram's next attempt goes to another replica.
    with pytest.raises(httpx.ConnectError):
        await served.client.post(PATH, json=start_update(45))


def test_webhook_settings_are_checked() -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET is required"):
        load_settings(_env_file=None, webhook_url="https://bot.example.com/hook")
    with pytest.raises(SettingsError, match="https://"):
        load_settings(
            _env_file=None, webhook_url="http://bot.example.com/hook", webhook_secret="abc"
        )
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET") as refused:
        load_settings(
            _env_file=None, webhook_url="https://x.example/h", webhook_secret="has space!"
        )
    assert "has space" not in str(refused.value)
    polling = load_settings(_env_file=None, webhook_url="", webhook_secret="")
    assert not polling.webhook and not polling.share_state
    hooked = load_settings(
        _env_file=None,
        webhook_url="https://x.example/tg/hook",
        webhook_secret="abc",
        database_url="postgresql://u@h/db",
    )
    assert hooked.webhook and hooked.webhook_path == "/tg/hook" and hooked.share_state


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_process_in_webhook_mode_answers_and_stops_with_0(
    tmp_path: Path, fake_api: ThreadingHTTPServer
) -> None:
    host, api_port = fake_api.server_address[:2]
    port = _free_port()
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://{host}:{api_port}/bot",
        WEBHOOK_URL="https://bot.example.com/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        LOG_JSON="true",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    state = fake_api.state  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"the webhook server never came up: {state['calls']}")
        refused = httpx.post(base + "/hook", json=start_update(42), timeout=10)
        assert refused.status_code == 403 and not state["sent"]
        answer = httpx.post(
            base + "/hook",
            json=start_update(42),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            timeout=30,
        )
        assert answer.status_code == 200
        assert state["sent"] and "Hi Lena! I'm Recert" in state["sent"][0]["text"]
        assert "setWebhook" in state["calls"] and "getUpdates" not in state["calls"]
    finally:
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert TOKEN not in stderr and SECRET not in stderr
    lines = [json.loads(line) for line in stderr.strip().splitlines()]
    assert any("refused (403)" in line["message"] for line in lines)
    assert any("9001" in line["message"] for line in lines)  # the update's id is logged


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
BODIES = st.one_of(
    st.binary(max_size=200),
    JSON.map(lambda value: json.dumps(value).encode()),
    # Update-shaped junk: a real key with a value of the wrong shape.
    st.builds(
        lambda key, value, update_id: json.dumps({"update_id": update_id, key: value}).encode(),
        st.sampled_from(["message", "edited_message", "callback_query", "my_chat_member"]),
        JSON,
        st.integers(-(2**63), 2**63),
    ),
)


async def test_junk_bodies_with_the_right_token_are_refused_or_ignored(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[bytes, int]] = []

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(body=BODIES)
    def collect(body: bytes) -> None:
        seen.append((body, 0))

    collect()
    for body, _ in seen:
        answer = await served.client.post(
            PATH, content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert answer.status_code in (200, 400), (body, answer.status_code)
    health = await served.client.get("/healthz")
    assert health.status_code == 200  # still up
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
