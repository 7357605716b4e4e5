"""The terminal chat as a person uses it: `python -m bot chat` as a process, read only through
its stdout (what is printed is all a person at the terminal sees)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

from PIL import Image

from tests.test_process import bot_env

PROMPT = re.compile(r"(?:^|\n)[^\n]*> $")
BUTTON = re.compile(r"^  \[#(\d+)\] (.*)$", re.M)
SAVED = re.compile(r"\[file saved: (.*)\]")


class TerminalChat:
    """The terminal chat in a process: type a line, read what it printed up to the prompt."""

    def __init__(self, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat"],
            cwd=cwd,
            env=bot_env(cwd, LANG="en_US.UTF-8"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._printed = b""
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        self.out = self._until_prompt(0)
        self.transcript = self.out

    def close(self) -> None:
        """Stop the process if it still runs (a failed test) and close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=60)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()

    def __enter__(self) -> TerminalChat:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := os.read(self.process.stdout.fileno(), 65536):
            with self._lock:
                self._printed += chunk

    def _until_prompt(self, start: int) -> str:
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline:
            with self._lock:
                text = self._printed[start:].decode()
            if PROMPT.search(text):
                return text
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no prompt after: {text!r}")

    def type(self, line: str) -> str:
        """Type a line (a message, or #N to press a button); what was printed in answer."""
        with self._lock:
            start = len(self._printed)
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        self.process.stdin.flush()
        self.out = self._until_prompt(start)
        self.transcript += f"{line}\n{self.out}"
        return self.out

    def press(self, label: str) -> str:
        """Press the button on show whose label contains `label`, by the number printed
        (spaces compared as spaces: Babel writes "7:00 AM" with a narrow no-break space)."""
        for number, shown in reversed(BUTTON.findall(self.out)):
            if " ".join(label.split()) in " ".join(shown.split()):
                return self.type(f"#{number}")
        raise AssertionError(f"no button {label!r} on show in: {self.out}")

    def quit(self) -> str:
        """Leave with /quit: exit 0 and nothing on stderr."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"/quit\n")
        self.process.stdin.close()
        self.process.wait(timeout=60)
        assert self.process.stderr is not None
        stderr = self.process.stderr.read().decode()
        self.close()
        assert self.process.returncode == 0, stderr
        assert "Traceback" not in stderr
        return stderr


def start_with_a_credential(chat: TerminalChat) -> None:
    chat.type("/start")
    chat.press("English")
    assert "Time zone set: Madrid" in chat.type("Madrid")
    chat.type("/add")
    chat.press("NCSF")
    chat.press("NCSF-CPT")
    chat.type("3/15/25")
    chat.press("Skip")
    assert "Saved: NCSF-CPT" in chat.press("Save")


def test_the_terminal_chat_shows_edits_answers_files_and_a_team(tmp_path: Path) -> None:
    with TerminalChat(tmp_path) as chat:
        _whole_bot(chat, tmp_path)


def _whole_bot(chat: TerminalChat, tmp_path: Path) -> None:
    assert "type #1 to press one" in chat.out
    start_with_a_credential(chat)

    # /credentials: each step edits the message in place; each edit is printed again.
    assert "Recert: Your credentials" in chat.type("/credentials")
    opened = chat.press("NCSF-CPT")
    assert "Recert (updated): NCSF-CPT" in opened and "[#2] Edit number" in opened
    chat.press("Edit number")
    assert "Number: NC-12345" in chat.type("NC-12345")

    # A typed number is a message: "1" is the amount, never a button (Cancel was one).
    chat.type("/log")
    assert "When did you earn it?" in chat.type("1")
    chat.press("Today")
    chat.type("First aid refresher")
    chat.press("Skip")
    assert "certificate as a photo or a PDF" in chat.type("1")
    assert "Logged 1 CEU" in chat.press("Skip")

    # /history pages in place.
    for number in range(5):
        chat.type(f"/log 0.5 Webinar {number}")
    assert "page 1 of 2" in chat.type("/history")
    older = chat.press("Older")
    assert "Recert (updated): NCSF-CPT: credits, page 2 of 2" in older
    assert "First aid refresher" in older

    # A setting changes in place.
    chat.type("/settings")
    chat.press("Reminder hour")
    changed = chat.press("7:00 AM")
    assert "(updated)" in changed and "Reminders at: 7:00" in changed

    # A pop-up answer and a file: the audit ZIP is written where the path says.
    chat.type("/audit")
    packed = chat.press("NCSF-CPT: current cycle")
    assert "(pop-up) Packing…" in packed
    (zip_path,) = SAVED.findall(packed)
    assert zip_path.endswith(".zip")
    with zipfile.ZipFile(tmp_path / zip_path) as archive:
        assert archive.namelist()

    # /export: two CSVs and the calendar, each written where its path says.
    exported = SAVED.findall(chat.type("/export"))
    assert [Path(path).suffix for path in exported] == [".csv", ".csv", ".ics"]
    assert b"NC-12345" in (tmp_path / exported[0]).read_bytes()  # hers, in her own export
    assert (tmp_path / exported[2]).read_bytes().startswith(b"BEGIN:VCALENDAR")

    # The status picture too.
    chat.type("/status")
    picture = chat.press("As a picture")
    (png_path,) = SAVED.findall(picture)
    assert (tmp_path / png_path).read_bytes().startswith(b"\x89PNG")

    # The team: a demo group, the bot added, /team there, Join opens the private chat.
    joined_group = chat.type("/group")
    assert "Recert in Demo gym:" in joined_group and "Demo gym> " in joined_group
    assert "[#1] ✋ Join" in chat.type("/team")
    consent = chat.press("Join")
    assert "asks to see your certification deadlines" in consent
    assert "NC-12345" not in consent  # never the credential number
    assert chat.out.endswith("\n> ")  # back in the private chat
    assert "You now share your deadlines with Demo gym" in chat.press("Agree and share")
    roster = chat.type("/roster")  # the owner manages the team: she sees herself on it
    assert "1 member shares" in roster
    chat.quit()


def test_a_proof_sent_before_a_restart_is_sent_again_after_it(tmp_path: Path) -> None:
    proof = tmp_path / "certificate.png"
    Image.new("RGB", (120, 80), "teal").save(proof)
    with TerminalChat(tmp_path) as first:
        start_with_a_credential(first)
        first.type(f"/photo {proof}")
        first.press("Yes, log credits")
        first.type("2")
        first.press("Today")
        first.type("Anatomy course")
        first.press("Skip")
        assert "Logged 2 CEU" in first.press("Skip")
        first.quit()

    with TerminalChat(tmp_path) as second:
        assert "Anatomy course 📎" in second.type("/history")
        second.press("Anatomy course")
        sent = second.press("Send the proof")
        assert "Wrong file identifier" not in sent and "Sorry" not in sent
        (path,) = SAVED.findall(sent)
        assert (tmp_path / path).read_bytes() == proof.read_bytes()
        second.quit()


def test_pressing_a_number_no_button_has_says_so(tmp_path: Path) -> None:
    with TerminalChat(tmp_path) as chat:
        chat.type("/start")
        assert "no button #9 on show" in chat.type("#9")
        assert "[#2] Español" in chat.type("/start")  # nothing was pressed
        chat.quit()
