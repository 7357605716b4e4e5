"""An operator's start, as a process: Telegram unreachable, a bad or unreachable database."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.settings import TOKEN_PATTERN
from tests.test_process import TOKEN, USER, FakeBotAPI, bot_env

README = Path(__file__).resolve().parent.parent / "README.md"


def env_with_database(tmp_path: Path, url: str) -> dict[str, str]:
    return {**bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN), "DATABASE_URL": url}


def _closed_port() -> int:
    """A local port nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(predicate, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _start_update() -> dict:  # type: ignore[type-arg]
    return {
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


def test_telegram_unreachable_is_one_line_then_retried_until_it_answers(tmp_path: Path) -> None:
    port = _closed_port()
    env = bot_env(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot"
    )
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, stderr=stderr, text=True
        )
    server = None
    try:
        assert _wait_for(lambda: "unreachable" in stderr_path.read_text(), 60)
        time.sleep(2.7)  # PTB's pauses: 1 s, then 1.5 s: two more failed attempts
        lines = stderr_path.read_text().strip().splitlines()
        assert len(lines) == 1, lines
        assert "Telegram is unreachable" in lines[0] and "retrying" in lines[0]
        # Telegram comes back: the next attempt starts the bot, which answers /start.
        server = ThreadingHTTPServer(("127.0.0.1", port), FakeBotAPI)
        server.state = {"calls": [], "sent": [], "updates": [_start_update()]}  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        state = server.state  # type: ignore[attr-defined]
        assert _wait_for(lambda: bool(state["sent"]), 60), state["calls"]
        assert "I'm Recert" in state["sent"][0]["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        if server is not None:
            server.shutdown()
            server.server_close()
    assert process.returncode == 0
    log = stderr_path.read_text()
    assert "Traceback" not in log and TOKEN.split(":")[1] not in log
    assert "Telegram answers again" in log


def test_sigterm_while_telegram_is_unreachable_exits_0_without_a_traceback(
    tmp_path: Path,
) -> None:
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{_closed_port()}/bot",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # blocks until the bot has tried once
    process.send_signal(signal.SIGTERM)
    _out, rest = process.communicate(timeout=30)
    assert "Telegram is unreachable" in first
    assert process.returncode == 0
    assert rest.strip() == "" and _out == ""


@pytest.mark.parametrize("command", [[], ["migrate"], ["chat"]])
def test_unreachable_database_is_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    url = f"postgresql://recert:hunter2@127.0.0.1:{_closed_port()}/recert"
    result = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        cwd=tmp_path,
        env=env_with_database(tmp_path, url),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("recert: DATABASE_URL: cannot use postgresql://recert:***@")
    assert "hunter2" not in result.stderr and "refused" in lines[0].lower()
    assert result.stdout == ""


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/recert", "recert.db", "sqlite:////proc/none/recert.db"]
)
def test_bad_database_url_is_one_line_and_exit_2(tmp_path: Path, url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env_with_database(tmp_path, url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recert: DATABASE_URL: "), lines
    assert "Traceback" not in result.stderr


def test_sqlite_file_it_cannot_open_names_the_user_and_the_folder(tmp_path: Path) -> None:
    """What a bind-mounted /data the bot may not write looks like (here the file is a folder,
    which even root cannot open as a database)."""
    folder = tmp_path / "data"
    (folder / "recert.db").mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env_with_database(tmp_path, f"sqlite:///{folder}/recert.db"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "unable to open database file" in lines[0] and f"write to {folder}?" in lines[0]


def test_the_readme_example_token_is_well_formed() -> None:
    examples = re.findall(r"TELEGRAM_BOT_TOKEN=(\d\S*)", README.read_text())
    assert examples and all(TOKEN_PATTERN.match(token) for token in examples), examples


def test_a_token_telegram_refuses_is_one_line_and_exit_2(tmp_path: Path) -> None:
    revoked = "123456789:AAE-revoked-token-the-fake-api-refuses"
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBotAPI)
    server.state = {"calls": [], "sent": [], "updates": []}  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env=bot_env(
                tmp_path,
                TELEGRAM_BOT_TOKEN=revoked,
                TELEGRAM_API_BASE_URL=f"http://{host}:{port}/bot",
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN: Telegram refused it" in lines[0], lines
    assert revoked.split(":")[1] not in result.stderr


def test_webhook_mode_with_telegram_unreachable_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """No retries in webhook mode (setWebhook must succeed first): a restart policy retries."""
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{_closed_port()}/bot",
        WEBHOOK_URL="https://bot.example.com/hook",
        WEBHOOK_SECRET="secret-for-the-test",
        WEBHOOK_PORT=str(_closed_port()),
        WEBHOOK_LISTEN="127.0.0.1",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Telegram is unreachable" in lines[0], lines
    assert "retrying" not in lines[0]
