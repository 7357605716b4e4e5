"""The bot as an operator runs it: real processes, real HTTP, real stdin and stdout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

TOKEN = "123456789:AAE-test-token-for-the-fake-bot-api-xyz"
USER = {"id": 42, "is_bot": False, "first_name": "Lena", "language_code": "en"}


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", **extra)
    return env


def test_no_token_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=bot_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN is not set" in lines[0]
    assert result.stdout == ""


def test_malformed_token_is_refused_without_echoing_it(tmp_path: Path) -> None:
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN="12345:secret-but-too-short")
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "malformed" in result.stderr and "secret-but-too-short" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


class FakeBotAPI(BaseHTTPRequestHandler):
    """A minimal Bot API server: getMe, getUpdates (one /start), sendMessage; other methods
    the bot calls at start-up (deleteWebhook, setMyCommands) are acknowledged."""

    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        token, method = self.path.removeprefix("/bot").split("/", 1)
        state = self.server.state
        state["calls"].append(method)
        if token != TOKEN:
            return self.answer(
                401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
        if method == "getMe":
            result: Any = {
                "id": 123456789,
                "is_bot": True,
                "first_name": "Recert",
                "username": "recert_test_bot",
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        elif method == "getUpdates":
            offset = int(form.get("offset", 0))
            result = [u for u in state["updates"] if u["update_id"] >= offset]
            if not result:
                time.sleep(0.2)  # a short long-poll
        elif method == "sendMessage":
            state["sent"].append(form)
            result = {
                "message_id": len(state["sent"]) + 100,
                "date": int(time.time()),
                "chat": {"id": int(form["chat_id"]), "type": "private", "first_name": "Lena"},
                "from": {"id": 123456789, "is_bot": True, "first_name": "Recert"},
                "text": form["text"],
            }
        else:
            result = True
        self.answer(200, {"ok": True, "result": result})

    def answer(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def fake_api() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBotAPI)
    server.state = {  # type: ignore[attr-defined]
        "calls": [],
        "sent": [],
        "updates": [
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "from": USER,
                    "chat": {"id": 42, "type": "private", "first_name": "Lena"},
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            }
        ],
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_process_answers_start_through_a_configured_bot_api(
    tmp_path: Path, fake_api: ThreadingHTTPServer
) -> None:
    host, port = fake_api.server_address[:2]
    env = bot_env(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"http://{host}:{port}/bot"
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
    try:
        deadline = time.monotonic() + 60
        while not state["sent"] and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert state["sent"], f"no reply; calls: {state['calls']}"
        reply = state["sent"][0]
        assert reply["chat_id"] == "42" and "Hi Lena! I'm Recert" in reply["text"]
        assert "English" in reply["reply_markup"]
    finally:
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert TOKEN not in stderr and TOKEN.split(":")[1] not in stderr
    assert {"getMe", "getUpdates", "sendMessage"} <= set(state["calls"])
    assert (tmp_path / "bot.db").exists()


def test_terminal_chat_through_start(tmp_path: Path) -> None:
    script = "/start\n#2\nMadrid\n/quit\n"
    env = bot_env(tmp_path, LANG="en_US.UTF-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        cwd=tmp_path,
        env=env,
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "I'm Recert" in out
    assert "[#1] ✓ English" in out and "[#2] Español" in out
    # Pressing #2 chose Spanish; the rest of the chat is in Spanish.
    assert "zona horaria" in out
    assert "Madrid (UTC+01:00)" in out
    assert "Traceback" not in result.stderr
