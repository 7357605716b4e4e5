"""The terminal chat: the real Application against the offline Bot API, in a terminal.

Type as you would in Telegram: every line is a message, numbers included. Buttons are listed
as `[#1] Label`; type `#1` to press one. Screens the bot changes in place are printed again,
marked "updated"; a button's pop-up answer is printed too; files the bot sends are written to
a folder and their paths printed. `/photo PATH` and `/document PATH` send a file,
`/location LAT LON` shares a location, `/group` goes to a demo group (two trainers and you, its
owner, with the bot added), `/private` comes back, `/quit` (or Ctrl-D) leaves.
"""

from __future__ import annotations

import asyncio
import getpass
import locale
import mimetypes
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr
from telegram import Update

from bot.offline import OFFLINE_TOKEN, Chat, OfflineBotAPI, Person
from bot.settings import Settings

TERMINAL_USER_ID = 1_000_001
# The demo group's trainers (the terminal's user is its creator).
DEMO_MEMBERS = ((1_000_002, "Marta", "es"), (1_000_003, "Oleg", "ru"))
PRESS_PREFIX = "#"
HELP = (
    "Every line you type is a message to the bot, numbers too. Buttons are shown as "
    "[#1] Label: type #1 to press one.\n"
    "Also: /photo PATH, /document PATH, /location LAT LON, /group (a demo group with two "
    "trainers and the bot), /private, /quit."
)


@dataclass
class Button:
    """What pressing a numbered button does: a callback query, a link, or a keyboard text."""

    label: str
    chat: Chat
    message: dict[str, Any] | None = None
    data: str | None = None
    url: str | None = None


class Screen:
    """Prints what the person sees, numbers the buttons on show, and writes received files."""

    def __init__(self, out: TextIO, api: OfflineBotAPI, downloads: Path) -> None:
        self.out = out
        self.api = api
        self.downloads = downloads
        self.inline: list[Button] = []  # the buttons of the newest message printed with some
        self.keyboard: list[Button] = []
        self._writes: list[asyncio.Future[None]] = []
        self._printed: dict[tuple[int, int], str] = {}  # each message's text as last printed
        # The prompt on show while the chat waits for a line: what arrives meanwhile (a
        # certificate read in the background) is followed by it again.
        self.waiting: str | None = None

    @property
    def choices(self) -> list[Button]:
        """What `#N` presses: the inline buttons, then the reply keyboard's."""
        return self.inline + self.keyboard

    def _who(self, message: dict[str, Any]) -> str:
        chat = message.get("chat", {})
        if chat.get("type") != "private":
            return f"Recert in {chat.get('title')}"
        if chat.get("id") != TERMINAL_USER_ID:  # a demo trainer's private chat
            return f"Recert to {chat.get('first_name')}"
        return "Recert"

    def show(self, message: dict[str, Any]) -> None:
        self._print(message, self._who(message))

    def show_edit(self, message: dict[str, Any]) -> None:
        key = (message["chat"]["id"], message["message_id"])
        if self._printed.get(key) == _content(message) and "reply_markup" not in message:
            # Only its buttons went (the usual end of a step): no need to print it again.
            if self.inline and self.inline[0].message is message:
                self.inline = []
            return
        self._print(message, f"{self._who(message)} (updated)")
        if self.waiting is not None:
            self.out.write(self.waiting)
            self.out.flush()

    def show_answer(self, params: dict[str, Any]) -> None:
        if params.get("text"):
            kind = "alert" if params.get("show_alert") else "pop-up"
            self.out.write(f"\n({kind}) {params['text']}\n")
            self.out.flush()

    def _print(self, message: dict[str, Any], who: str) -> None:
        text = _content(message)
        self._printed[(message["chat"]["id"], message["message_id"])] = text
        saved = self._save_attachment(message)
        self.out.write(f"\n{who}: {text}\n")
        if saved is not None:
            self.out.write(f"  [file saved: {saved}]\n")
        chat = self.api.chat(message["chat"]["id"])
        buttons = [
            Button(button["text"], chat, message, button.get("callback_data"), button.get("url"))
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
        ]
        if buttons:
            self.inline = buttons
            for number, button in enumerate(buttons, 1):
                self.out.write(f"  [{PRESS_PREFIX}{number}] {button.label}\n")
        elif self.inline and self.inline[0].message is message:
            self.inline = []  # its buttons were taken away
        self.out.flush()

    def _save_attachment(self, message: dict[str, Any]) -> Path | None:
        if "photo" in message:
            stored = self.api.files[message["photo"][-1]["file_id"]]
            extension = ".png" if stored.data.startswith(b"\x89PNG") else ".jpg"
            name = f"photo{extension}"
        elif "document" in message:
            stored = self.api.files[message["document"]["file_id"]]
            name = Path(message["document"].get("file_name") or "file").name
        else:
            return None
        path = self.downloads / f"{message['chat']['id']}-{message['message_id']}-{name}"
        self._writes.append(asyncio.ensure_future(asyncio.to_thread(_write, path, stored.data)))
        return path

    async def settle(self) -> None:
        """Wait for the files being written, so every path printed exists."""
        writes, self._writes = self._writes, []
        await asyncio.gather(*writes)

    def show_keyboard(self, chat: Chat) -> None:
        """The reply keyboard under the text field: numbered after the inline buttons; a
        location button says how to share one here."""
        self.keyboard = []
        for row in (chat.reply_keyboard or {}).get("keyboard", []):
            for button in row:
                if isinstance(button, dict) and button.get("request_location"):
                    self.out.write(f"  ({button['text']}: type /location LATITUDE LONGITUDE)\n")
                    continue
                label = button if isinstance(button, str) else button["text"]
                self.keyboard.append(Button(label, chat))
                self.out.write(f"  [{PRESS_PREFIX}{len(self.choices)}] {label}\n")
        self.out.flush()

    def say(self, text: str) -> None:
        self.out.write(f"({text})\n")
        self.out.flush()


def _content(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _terminal_language() -> str:
    tag = os.environ.get("LANG") or (locale.getlocale()[0] or "en")
    return tag.split(".")[0].replace("_", "-")


def chat_folder(settings: Settings) -> Path:
    """Beside the SQLite file (or ./data on PostgreSQL): the offline Bot API's files and the
    files the bot sent, so both outlive the terminal chat as the database does."""
    path = settings.sqlite_path
    return (path.parent if path is not None else Path("data")) / "terminal-chat"


async def _read_line(stream: TextIO) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, stream.readline)


class TerminalChat:
    """One person at the terminal, in their private chat or in the demo group."""

    def __init__(self, api: OfflineBotAPI, screen: Screen, me: Person) -> None:
        self.api = api
        self.screen = screen
        self.me = me
        self.here: Chat = me.chat
        self.group: Chat | None = None

    @property
    def prompt(self) -> str:
        return "> " if self.here is self.me.chat else f"{self.here.info['title']}> "

    async def act(self, line: str) -> None:
        if not line:
            return
        command, _, rest = line.partition(" ")
        if command in ("/quit", "/exit"):
            raise _Quit
        if line.startswith(PRESS_PREFIX) and line[1:].strip().isdigit():
            await self._press(int(line[1:]))
        elif command == "/location":
            latitude, _, longitude = rest.strip().partition(" ")
            await self.me.share_location(float(latitude), float(longitude))
        elif command in ("/photo", "/document"):
            await self._send_file(command, rest.strip())
        elif command == "/group":
            await self._to_group()
        elif command == "/private":
            self.here = self.me.chat
            self.screen.say("back in your private chat with Recert")
        else:
            await self.me.send(line, self.here)

    async def _press(self, number: int) -> None:
        choices = self.screen.choices
        if not 1 <= number <= len(choices):
            raise ValueError(f"no button {PRESS_PREFIX}{number} on show")
        button = choices[number - 1]
        if button.data is not None and button.message is not None:
            await self.me.press_data(button.data, button.message, button.chat)
        elif button.url is not None:
            await self._open(button.url)
        else:
            await self.me.send(button.label, button.chat)

    async def _open(self, url: str) -> None:
        """A t.me link to this bot opens the private chat with its start payload, as in
        Telegram; any other link would open in a browser."""
        parts = urlsplit(url)
        if parts.netloc == "t.me" and parts.path.strip("/") == self.api.bot_user["username"]:
            payload = parse_qs(parts.query).get("start", [""])[0]
            self.here = self.me.chat
            self.screen.say("opening your private chat with Recert")
            await self.me.send(f"/start {payload}".strip())
        else:
            self.screen.say(f"a link to open in a browser: {url}")

    async def _send_file(self, command: str, where: str) -> None:
        path = Path(where)
        data = await asyncio.to_thread(lambda: path.expanduser().read_bytes())
        if command == "/photo":
            await self.me.send_photo(data)
        else:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            await self.me.send_document(data, path.name, mime)

    async def _to_group(self) -> None:
        """The demo group: created once, with you as its creator and two trainers; then the
        bot is added, as a gym owner would (its greeting arrives as in Telegram)."""
        if self.group is None:
            self.group = self.api.new_group("Demo gym")
            self.group.members[self.me.id] = {"status": "creator"}
            for user_id, name, language in DEMO_MEMBERS:
                member = Person(self.api, user_id, name, language)
                self.group.members[member.id] = {"status": "member"}
            self.here = self.group
            names = ", ".join(name for _, name, _ in DEMO_MEMBERS)
            self.screen.say(f"in the group Demo gym: you (its owner), {names}; adding Recert")
            await self.api.add_bot(self.group, self.me)
        else:
            self.here = self.group
            self.screen.say("in the group Demo gym; /private goes back")


class _Quit(Exception):
    pass


async def chat(settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    from bot.app import build_application, shutdown, startup

    folder = chat_folder(settings)
    api = OfflineBotAPI(files_dir=folder / "bot-api-files")
    screen = Screen(stdout, api, folder / "received")
    api.on_bot_message, api.on_bot_edit = screen.show, screen.show_edit
    api.on_callback_answer = screen.show_answer
    offline_settings = settings.model_copy(update={"telegram_bot_token": SecretStr(OFFLINE_TOKEN)})
    application = build_application(offline_settings, request=api)
    api.deliver_to(
        lambda payload: application.process_update(Update.de_json(payload, application.bot))
    )
    me = Person(api, TERMINAL_USER_ID, getpass.getuser().title() or "You", _terminal_language())
    terminal = TerminalChat(api, screen, me)
    await startup(application)
    stdout.write(f"Terminal chat with Recert (offline). Type /start.\n{HELP}\n")
    stdout.flush()
    try:
        while True:
            stdout.write(terminal.prompt)
            stdout.flush()
            screen.waiting = terminal.prompt
            line = await _read_line(stdin)
            screen.waiting = None
            if not line:
                break
            try:
                await terminal.act(line.strip())
            except (ValueError, OSError) as error:
                screen.say(f"terminal: {error}")
            except AssertionError as error:  # the offline API's word: an unanswered button
                screen.say(f"terminal: {error}")
            await screen.settle()
            screen.show_keyboard(terminal.here)
    except _Quit:
        pass
    finally:
        await shutdown(application)
