"""Stopping the bot process. Killed with SIGKILL at random moments of a sweep, and started
again, several times: no reminder is lost; a duplicate (sent, then killed before it was
recorded) is possible, bounded by the sends in flight, and counted in the output. Stopped
with SIGTERM (polling and webhook): it exits 0 with what it sent recorded and the
conversations stored."""

from __future__ import annotations

import contextlib
import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, create_engine, select

from scheduler.jobs import IN_FLIGHT
from storage.migrate import upgrade
from storage.models import Nudge
from tests.test_nudges import many_due
from tests.test_process import TOKEN, FakeBotAPI, bot_env

MADRID = ZoneInfo("Europe/Madrid")
TRAINERS = 60
KILLS = 5


class SlowBotAPI(FakeBotAPI):
    """Each message takes a while to send, so a sweep lasts long enough to be cut."""

    def do_POST(self) -> None:
        if self.path.endswith("/sendMessage"):
            time.sleep(0.04)
        # The bot killed while sending: its request never arrived whole, or the answer had
        # nobody to go to.
        with contextlib.suppress(KeyError, OSError):
            super().do_POST()


@pytest.fixture
def slow_api() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowBotAPI)
    server.state = {"calls": [], "sent": [], "updates": []}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def tracebacks(stderr: str) -> list[str]:
    """Log lines (one per event) with a traceback, but APScheduler's report of a sweep tick
    that fired just as the scheduler stopped (PTB waits for the running jobs first; a tick
    starting in between is cancelled; its sends are shielded and drained at shutdown)."""
    lines = stderr.splitlines()
    return [line for line in lines if "Traceback" in line and "CancelledError" not in line]


def delivered(state: dict[str, Any]) -> list[dict[str, str]]:
    """The messages Telegram got whole."""
    return [m for m in state["sent"] if "chat_id" in m]


def _expire_leases(url: str) -> int:
    """What five minutes of downtime do: the killed process's leases run out."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            result = session.exec(  # type: ignore[call-overload]
                update(Nudge)
                .where(col(Nudge.status) == "claimed")
                .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
            )
            session.commit()
            return int(result.rowcount)
    finally:
        engine.dispose()


def database_with_due(tmp_path: Path, first_id: int) -> str:
    """A migrated SQLite file of TRAINERS trainers 30 days before their end, whose reminder
    hour is this hour: the 30-days-before reminder is due for everyone now (fresh, not a
    catch-up waiting for tomorrow's hour), and nothing else is owed for days."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    now = datetime.now(MADRID)
    end = now.date() + timedelta(days=30)
    engine = create_engine(url)
    with Session(engine) as session:
        many_due(TRAINERS, end, first_id, hour=now.hour)(session)
        session.commit()
    engine.dispose()
    return url


def test_sigkill_during_sweeps_loses_no_nudge(
    tmp_path: Path, slow_api: ThreadingHTTPServer
) -> None:
    url = database_with_due(tmp_path, 20_000)

    host, port = slow_api.server_address[:2]
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://{host}:{port}/bot",
        SWEEP_INTERVAL="0.2",
        RATE_LIMIT="false",
    )
    state = slow_api.state  # type: ignore[attr-defined]
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def sent_so_far() -> int:
        return len(state["sent"])

    kills_during_sends = 0
    for _ in range(KILLS):
        process = start()
        before = sent_so_far()
        deadline = time.monotonic() + 60
        # Wait for the sweep to be under way, then kill at a random moment of it.
        while sent_so_far() == before and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.3))
        kills_during_sends += sent_so_far() > before
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert process.stderr is not None
        process.stderr.close()
        _expire_leases(url)
        if len({m["chat_id"] for m in delivered(state)}) == TRAINERS:
            break

    polls = state["calls"].count("getUpdates")
    process = start()
    deadline = time.monotonic() + 90
    while state["calls"].count("getUpdates") == polls and time.monotonic() < deadline:
        time.sleep(0.05)  # up and polling: its signal handlers are in place
    while len({m["chat_id"] for m in delivered(state)}) < TRAINERS and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # anything more it would send
    process.send_signal(signal.SIGTERM)
    _stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr

    counts = Counter(m["chat_id"] for m in delivered(state))
    lost = TRAINERS - len(counts)
    duplicates = sum(count - 1 for count in counts.values())
    print(
        f"\nSIGKILL test (seed {seed}): {kills_during_sends} kills mid-sweep, "
        f"{sum(counts.values())} messages for {TRAINERS} reminders, "
        f"lost {lost}, duplicates {duplicates}"
    )
    assert lost == 0
    assert kills_during_sends >= 1
    # A duplicate needs a kill between a send and its record: at most the sends in flight.
    assert duplicates <= kills_during_sends * IN_FLIGHT
    assert not tracebacks(stderr)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_sigterm_mid_sweep_finishes_and_records_the_nudges_in_hand(
    tmp_path: Path, slow_api: ThreadingHTTPServer, mode: str
) -> None:
    url = database_with_due(tmp_path, 30_000)
    host, port = slow_api.server_address[:2]
    extra = {}
    if mode == "webhook":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free = probe.getsockname()[1]
        extra = {
            "WEBHOOK_URL": "https://bot.example.com/hook",
            "WEBHOOK_SECRET": "secret-for-the-test",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(free),
        }
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://{host}:{port}/bot",
        SWEEP_INTERVAL="0.2",
        RATE_LIMIT="false",
        **extra,
    )
    state = slow_api.state  # type: ignore[attr-defined]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(state["sent"]) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)  # mid-sweep: a few sent, more in flight
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert not tracebacks(stderr)
    engine = create_engine(url)
    with Session(engine) as session:
        sent = session.exec(select(Nudge).where(col(Nudge.status) == "sent")).all()
        claimed = session.exec(select(Nudge).where(col(Nudge.status) == "claimed")).all()
    engine.dispose()
    delivered_ids = sorted(int(m["chat_id"]) for m in delivered(state))
    # Every message that went out is recorded as sent: nothing in hand was cut off (PTB
    # lets the running sweep job finish its batch; what it did not claim waits).
    assert len(delivered_ids) >= 3 and len(set(delivered_ids)) == len(delivered_ids)
    assert sorted(n.credential_id for n in sent) and len(sent) == len(delivered_ids)
    assert len(sent) + len(claimed) <= TRAINERS


class ConfirmingBotAPI(FakeBotAPI):
    """Like Telegram, forgets updates once a getUpdates call confirms them (its offset)."""

    def do_POST(self) -> None:
        if self.path.endswith("/getUpdates"):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            state = self.server.state
            state["confirmed"] = max(state.get("confirmed", 0), int(form.get("offset", 0)))
            state["calls"].append("getUpdates")
            result = [u for u in state["updates"] if u["update_id"] >= state["confirmed"]]
            if not result:
                time.sleep(0.2)
            return self.answer(200, {"ok": True, "result": result})
        super().do_POST()


def test_sigterm_in_a_conversation_stores_it_and_the_next_process_goes_on(
    tmp_path: Path,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ConfirmingBotAPI)
    lena = {"id": 42, "is_bot": False, "first_name": "Lena", "language_code": "en"}
    chat = {"id": 42, "type": "private", "first_name": "Lena"}
    start = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "from": lena,
            "chat": chat,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    server.state = {"calls": [], "sent": [], "updates": [start]}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state = server.state  # type: ignore[attr-defined]
    host, port = server.server_address[:2]
    env = bot_env(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"http://{host}:{port}/bot"
    )

    def run_bot() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 60
        while len(state["sent"]) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(state["sent"]) >= count, state["calls"]

    try:
        process = run_bot()
        wait_for(1)
        welcome = state["sent"][0]
        markup = json.loads(welcome["reply_markup"])
        buttons = [b for row in markup["inline_keyboard"] for b in row]
        english = next(b["callback_data"] for b in buttons if "English" in b["text"])
        state["updates"].append(
            {
                "update_id": 2,
                "callback_query": {
                    "id": "cq1",
                    "from": lena,
                    "chat_instance": "ci42",
                    "data": english,
                    "message": {
                        "message_id": 101,
                        "date": int(time.time()),
                        "chat": chat,
                        "from": {"id": 123456789, "is_bot": True, "first_name": "Recert"},
                        "text": welcome["text"],
                    },
                },
            }
        )
        wait_for(3)  # the time-zone question and its suggestions: it waits for a city
        assert "time zone" in " ".join(m["text"] for m in state["sent"][1:])
        process.send_signal(signal.SIGTERM)  # a deploy, seconds after the answer
        _out, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr

        state["updates"].append(
            {
                "update_id": 3,
                "message": {
                    "message_id": 3,
                    "date": int(time.time()),
                    "from": lena,
                    "chat": chat,
                    "text": "Madrid",
                },
            }
        )
        sent_before = len(state["sent"])
        process = run_bot()
        wait_for(sent_before + 1)
        replies = " ".join(m["text"] for m in state["sent"][sent_before:])
        assert "Madrid (UTC" in replies  # taken as the answer to the question before the stop
        assert "I answer to commands" not in replies
        process.send_signal(signal.SIGTERM)
        _out, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        server.shutdown()
        server.server_close()
