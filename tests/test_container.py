"""What the image does, short of a Docker engine (none runs here): its entry command run
directly, its health check in both modes, and the compose file's shape."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.test_operator_start import _start_update
from tests.test_process import TOKEN, FakeBotAPI, bot_env
from tests.test_webhook import SECRET, _free_port

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = str(Path(sys.executable).parent)


@contextmanager
def fake_telegram() -> Iterator[dict[str, Any]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBotAPI)
    server.state = {"calls": [], "sent": [], "updates": [_start_update()]}  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        yield {"base": f"http://{host}:{port}/bot", **server.state}  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def health(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["recert", "health"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def _until(ready: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Wait cheaply (no process per try) until the bot looks up, then ask `recert health`."""
    deadline = time.monotonic() + 60
    while not ready() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def test_the_entry_command_migrates_then_polls_and_the_health_check_follows_it(
    tmp_path: Path,
) -> None:
    (command,) = re.findall(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    heartbeat = tmp_path / "recert.heartbeat"
    with fake_telegram() as telegram:
        env = bot_env(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=telegram["base"],
            HEARTBEAT_FILE=str(heartbeat),
            PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        )
        # The image's CMD, as the container runs it (`exec`: SIGTERM reaches the bot).
        process = subprocess.Popen(
            json.loads(command), cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            _until(heartbeat.exists, process)
            said = health(env, tmp_path)
            assert said.returncode == 0 and said.stdout.startswith("recert: healthy: polling")
            assert "I'm Recert" in telegram["sent"][0]["text"]
        finally:
            process.send_signal(signal.SIGTERM)
            _out, stderr = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in stderr
    with sqlite3.connect(tmp_path / "bot.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()
    stopped = health(env, tmp_path)
    assert stopped.returncode == 1 and "not polling" in stopped.stdout


def test_the_health_check_in_webhook_mode_asks_healthz(tmp_path: Path) -> None:
    port = _free_port()
    with fake_telegram() as telegram:
        env = bot_env(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=telegram["base"],
            WEBHOOK_URL="https://bot.example.com/hook",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
            PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        )
        process = subprocess.Popen(
            ["recert"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            _until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), process)
            said = health(env, tmp_path)
            assert said.returncode == 0 and f"127.0.0.1:{port}/healthz: 200" in said.stdout
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
    assert process.returncode == 0
    down = health(env, tmp_path)
    assert down.returncode == 1 and down.stdout.startswith("recert: unhealthy:")
    assert len(down.stdout.strip().splitlines()) == 1 and down.stderr == ""


def _service(compose: str, name: str) -> str:
    return compose.split(f"\n  {name}:\n", 1)[1].split("\n\n", 1)[0]


def test_compose_builds_one_image_for_both_services_and_the_image_checks_health() -> None:
    compose = (ROOT / "compose.yaml").read_text()
    migrate, bot = _service(compose, "migrate"), _service(compose, "bot")
    assert "build: ." in migrate and "build:" not in bot
    (image,) = re.findall(r"^    image: (\S+)", migrate, re.M)
    assert f"image: {image}" in bot and "pull_policy: never" in bot
    assert "disable: true" in migrate  # the one-shot job has no health to check
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^HEALTHCHECK .*CMD \["recert", "health"\]$', dockerfile, re.M)
    readme = (ROOT / "README.md").read_text()
    assert "Compose v2.24" in readme and "chown 10001" in readme
