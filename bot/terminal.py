"""The terminal chat: the real Application against the offline Bot API, in a terminal.

Type as you would in Telegram. Buttons are listed as numbers: type the number to press one.
`/photo PATH` and `/document PATH` send a file, `/location LAT LON` shares a location,
`/quit` (or Ctrl-D) leaves.
"""

from __future__ import annotations

import asyncio
import getpass
import locale
import mimetypes
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr
from telegram import Update

from bot.offline import OFFLINE_TOKEN, OfflineBotAPI, Person
from bot.settings import Settings

TERMINAL_USER_ID = 1_000_001
USAGE = "a number presses a button; /photo PATH, /document PATH, /location LAT LON, /quit"


class Screen:
    """Prints the bot's messages and remembers the buttons on show, numbered."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.inline: list[str] = []  # the newest message's buttons
        self.choices: list[str] = []  # what a typed number presses: inline, then keyboard

    def show(self, message: dict[str, Any]) -> None:
        text = message.get("text") or message.get("caption") or ""
        if "photo" in message:
            text = "[photo] " + text
        if "document" in message:
            text = f"[file {message['document'].get('file_name')}] " + text
        self.out.write(f"\nRecert: {text}\n")
        labels = Person.buttons_of(message)
        self._list(labels)
        self.out.flush()

    def show_keyboard(self, keyboard: dict[str, Any] | None) -> None:
        """The reply keyboard under the text field: its buttons are numbered after the
        inline ones; a location button says how to share one here."""
        self.choices = list(self.inline)
        for row in (keyboard or {}).get("keyboard", []):
            for button in row:
                if isinstance(button, dict) and button.get("request_location"):
                    self.out.write(f"  ({button['text']}: type /location LATITUDE LONGITUDE)\n")
                else:
                    label = button if isinstance(button, str) else button["text"]
                    self.choices.append(label)
                    self.out.write(f"  [{len(self.choices)}] {label}\n")
        self.out.flush()

    def _list(self, labels: list[str]) -> None:
        if not labels:
            return
        self.inline = self.choices = list(labels)
        for number, label in enumerate(labels, 1):
            self.out.write(f"  [{number}] {label}\n")


def _terminal_language() -> str:
    tag = os.environ.get("LANG") or (locale.getlocale()[0] or "en")
    return tag.split(".")[0].replace("_", "-")


async def _read_line(stream: TextIO) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, stream.readline)


async def chat(settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    from bot.app import build_application, shutdown, startup

    screen = Screen(stdout)
    api = OfflineBotAPI(on_bot_message=screen.show)
    offline_settings = settings.model_copy(update={"telegram_bot_token": SecretStr(OFFLINE_TOKEN)})
    application = build_application(offline_settings, request=api)
    api.deliver_to(
        lambda payload: application.process_update(Update.de_json(payload, application.bot))
    )
    me = Person(api, TERMINAL_USER_ID, getpass.getuser().title() or "You", _terminal_language())
    await startup(application)
    stdout.write("Terminal chat with Recert (offline). Type /start; /quit to leave.\n")
    stdout.flush()
    try:
        while True:
            stdout.write("> ")
            stdout.flush()
            line = await _read_line(stdin)
            if not line:
                break
            try:
                await _act(me, screen, line.strip())
            except (ValueError, OSError) as error:
                stdout.write(f"(terminal: {error}; {USAGE})\n")
            screen.show_keyboard(me.chat.reply_keyboard)
    except _Quit:
        pass
    finally:
        await shutdown(application)


class _Quit(Exception):
    pass


async def _act(me: Person, screen: Screen, line: str) -> None:
    if not line:
        return
    command, _, rest = line.partition(" ")
    if command in ("/quit", "/exit"):
        raise _Quit
    if line.isdigit() and 1 <= int(line) <= len(screen.choices):
        await me.press(screen.choices[int(line) - 1])
    elif command == "/location":
        latitude, _, longitude = rest.partition(" ")
        await me.share_location(float(latitude), float(longitude))
    elif command in ("/photo", "/document"):
        path = Path(rest)
        data = await asyncio.to_thread(lambda: path.expanduser().read_bytes())
        if command == "/photo":
            await me.send_photo(data)
        else:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            await me.send_document(data, path.name, mime)
    else:
        await me.send(line)
