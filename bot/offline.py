"""An offline Bot API: a `telegram.request.BaseRequest` that answers like Telegram does.

The tests and the terminal chat (`python -m bot chat`) run the real Application against it.
It keeps every chat's messages as Telegram would show them, records every call the bot makes,
refuses what Telegram refuses (over-long text, bad HTML, 64-byte callback data, unchanged
edits, blocked users), and lets a `Person` act: type, press a button by its label, share a
location, send a photo or a document, add the bot to a group.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

OFFLINE_TOKEN = "7000000001:OFFLINE-offline-offline-offline-00"
BOT_USER: dict[str, Any] = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Recert",
    "username": "recert_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
# What getChatMember says about an administrator's rights (PTB insists on every field).
ADMIN_RIGHTS: dict[str, Any] = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
# Tags Telegram's HTML parse mode accepts.
_HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "tg-emoji",
    "blockquote",
}


_BARE_AMPERSAND = re.compile(r"&(?!(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);)")


class ArrivedButTimedOut(TimedOut):
    """A fault to inject: the call is carried out (the message arrives), then its answer is
    lost to a time-out, so the bot cannot tell it arrived."""


class ApiError(Exception):
    """An answer with `ok: false`, as Telegram gives it."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


class _TelegramHTML(HTMLParser):
    """Checks HTML the way Telegram's parse mode does, and keeps the plain text a user sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []
        self.tags = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise ApiError(
                400, f"Bad Request: can't parse entities: unsupported start tag {tag!r}"
            )
        self.tags += 1
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: unmatched end tag {tag!r}")
        self.tags += 1
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible_text(text: str, parse_mode: str | None) -> str:
    if parse_mode is None:
        return text
    if parse_mode.upper() != "HTML":
        raise ApiError(400, f"Bad Request: offline Bot API knows no parse mode {parse_mode!r}")
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise ApiError(400, f"Bad Request: can't parse entities: unclosed tag {parser.open[-1]!r}")
    # Telegram wants every <, and every & that starts no entity, escaped.
    if text.count("<") != parser.tags or _BARE_AMPERSAND.search(text):
        raise ApiError(400, "Bad Request: can't parse entities: unescaped < or &")
    return "".join(parser.text)


def _check_markup(markup: dict[str, Any] | None) -> None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )


def member_json(user: dict[str, Any], member: dict[str, Any]) -> dict[str, Any]:
    """A ChatMember as the Bot API gives it, with the fields its status requires."""
    status = member["status"]
    extra: dict[str, Any] = {}
    if status == "administrator":
        extra = dict(ADMIN_RIGHTS)
    elif status == "creator":
        extra = {"is_anonymous": False}
    elif status == "kicked":
        extra = {"until_date": 0}
    return {"user": user, **extra, **member}


def _image_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 640, 480


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def path(self) -> str:
        return f"files/{self.unique_id}"


@dataclass
class Call:
    """One Bot API call the bot made, and what it was answered."""

    method: str
    params: dict[str, Any]
    ok: bool
    result: Any = None


@dataclass
class Chat:
    info: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    members: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1

    @property
    def id(self) -> int:
        return int(self.info["id"])


Observer = Callable[[dict[str, Any]], None]


class OfflineBotAPI(BaseRequest):
    """Answers the Bot API methods the bot uses, from memory.

    The observers see what a person would: a message the bot sends, one it edits (after the
    edit), and the answer to a pressed button. With `files_dir`, files sent either way are
    also kept there, so a file id the database holds still works after a restart.
    """

    def __init__(
        self,
        on_bot_message: Observer | None = None,
        *,
        on_bot_edit: Observer | None = None,
        on_callback_answer: Observer | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.bot_user = dict(BOT_USER)
        self.calls: list[Call] = []
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.files: dict[str, StoredFile] = {}
        self.blocked: set[int] = set()
        # People who never opened the bot's private chat: it may not write to them first,
        # except to one who asked to join a group it administers (Telegram allows that).
        self.strangers: set[int] = set()
        # Join requests waiting for an administrator: (chat id, user id).
        self.join_requests: set[tuple[int, int]] = set()
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # setMyDescription and setMyShortDescription, per language code ("" for the rest).
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.on_bot_message = on_bot_message
        self.on_bot_edit = on_bot_edit
        self.on_callback_answer = on_callback_answer
        self.files_dir = files_dir
        self._unsaved: list[StoredFile] = []
        # Faults to inject, per method, consumed in order: an ApiError, or a TelegramError
        # (such as TimedOut) raised as the transport would raise it.
        self.faults: dict[str, list[Exception]] = {}
        # Seconds each call of a method takes (a slow network, or a sweep to interrupt).
        self.delays: dict[str, float] = {}
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._file_numbers = itertools.count(1)
        self._updates: asyncio.Queue[dict[str, Any]] | None = None
        self._deliver: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    # -- BaseRequest ------------------------------------------------------------------------

    async def initialize(self) -> None:
        if self.files_dir is not None and not self.files:
            await asyncio.to_thread(self._load_files, self.files_dir)

    def _load_files(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for meta_path in sorted(folder.glob("*.json")):
            meta = json.loads(meta_path.read_text())
            data = meta_path.with_suffix(".bin").read_bytes()
            stored = StoredFile(data=data, **meta)
            self.files[stored.file_id] = stored
        if self.files:
            # New ids after the ones on disk (the database may hold any of them).
            last = max(int(re.sub(r"\D", "", f.unique_id)) for f in self.files.values())
            self._file_numbers = itertools.count(last + 1)

    def _save_files(self, stored_files: list[StoredFile]) -> None:
        assert self.files_dir is not None
        for stored in stored_files:
            stored_path = self.files_dir / stored.unique_id
            stored_path.with_suffix(".bin").write_bytes(stored.data)
            meta = {
                "file_id": stored.file_id,
                "unique_id": stored.unique_id,
                "file_name": stored.file_name,
                "mime_type": stored.mime_type,
            }
            # The metadata last: a file is loaded only once both parts are written.
            stored_path.with_suffix(".json").write_text(json.dumps(meta))

    async def save_files(self) -> None:
        """Write the files stored since the last call to `files_dir`, off the event loop."""
        if self.files_dir is None or not self._unsaved:
            return
        unsaved, self._unsaved = self._unsaved, []
        await asyncio.to_thread(self._save_files, unsaved)

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:
            return self._download(url)
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        uploads = (
            request_data.multipart_data if request_data and request_data.contains_files else {}
        )
        if self.delays.get(api_method):
            await asyncio.sleep(self.delays[api_method])
        try:
            queued = self.faults.get(api_method)
            fault = queued.pop(0) if queued else None
            if fault is not None and not isinstance(fault, ArrivedButTimedOut):
                raise fault
            handler = getattr(self, f"api_{api_method}", None)
            if handler is None:
                raise ApiError(
                    404, f"Not Found: method {api_method} is not in the offline Bot API"
                )
            result = handler(params, uploads)
            if asyncio.iscoroutine(result):
                result = await result
            await self.save_files()
            if fault is not None:
                self.calls.append(Call(api_method, params, ok=True, result=result))
                raise fault
        except ApiError as error:
            self.calls.append(Call(api_method, params, ok=False, result=error.description))
            body: dict[str, Any] = {
                "ok": False,
                "error_code": error.code,
                "description": error.description,
            }
            if error.parameters:
                body["parameters"] = error.parameters
            return error.code, json.dumps(body).encode()
        self.calls.append(Call(api_method, params, ok=True, result=result))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _download(self, url: str) -> tuple[int, bytes]:
        path = url.split("/file/bot", 1)[1].split("/", 1)[1]
        for stored in self.files.values():
            if stored.path == path:
                return 200, stored.data
        return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'

    # -- state helpers ---------------------------------------------------------------------

    def chat(self, chat_id: int | str) -> Chat:
        try:
            return self.chats[int(chat_id)]
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    def _now(self) -> int:
        return int(time.time())

    def _append(self, chat: Chat, message: dict[str, Any]) -> dict[str, Any]:
        message = {"message_id": chat.next_id, "date": self._now(), "chat": chat.info, **message}
        chat.next_id += 1
        chat.messages.append(message)
        return message

    def _find(self, chat_id: Any, message_id: Any, missing: str) -> tuple[Chat, dict[str, Any]]:
        chat = self.chat(chat_id)
        for message in chat.messages:
            if message["message_id"] == int(message_id):
                return chat, message
        raise ApiError(400, f"Bad Request: {missing}")

    def _check_can_send(self, chat: Chat) -> None:
        if chat.info["type"] == "private" and chat.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if (
            chat.info["type"] == "private"
            and chat.id in self.strangers
            and not any(user_id == chat.id for _chat_id, user_id in self.join_requests)
        ):
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat.info.get("migrated_to"):
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.info["migrated_to"],
            )
        if chat.info["type"] != "private":
            me = chat.members.get(self.bot_user["id"], {})
            if me.get("status") in (None, "left", "kicked"):
                raise ApiError(403, "Forbidden: bot is not a member of the group chat")

    def _bot_message(self, chat: Chat, content: dict[str, Any], params: dict[str, Any]) -> dict:
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        _check_markup(markup)
        message = dict(content, **{"from": self.bot_user})
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        elif markup and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        sent = self._append(chat, message)
        if self.on_bot_message:
            self.on_bot_message(sent)
        return sent

    def _store_file(self, data: bytes, file_name: str | None, mime_type: str | None) -> StoredFile:
        number = next(self._file_numbers)
        stored = StoredFile(
            f"FILE{number:06d}offline", f"U{number:06d}", data, file_name, mime_type
        )
        self.files[stored.file_id] = stored
        if self.files_dir is not None:
            self._unsaved.append(stored)
        return stored

    def _upload(self, value: Any, uploads: dict[str, Any], what: str) -> StoredFile:
        # A new file is a multipart part: named by the parameter, or by an attach:// URI.
        part = value.removeprefix("attach://") if isinstance(value, str) else what
        if part in uploads:
            file_name, content, mime_type = uploads[part]
            data = content if isinstance(content, bytes) else content.read()
            return self._store_file(data, file_name, mime_type)
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        raise ApiError(400, f"Bad Request: wrong file identifier/HTTP URL specified for {what}")

    @staticmethod
    def _photo_sizes(stored: StoredFile) -> list[dict[str, Any]]:
        width, height = _image_size(stored.data)
        return [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.unique_id,
                "width": width,
                "height": height,
                "file_size": len(stored.data),
            }
        ]

    @staticmethod
    def _document(stored: StoredFile) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_name": stored.file_name or "file",
            "mime_type": stored.mime_type or "application/octet-stream",
            "file_size": len(stored.data),
        }

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        if not caption:
            return {}
        shown = visible_text(caption, params.get("parse_mode"))
        if len(shown) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        return {"caption": shown}

    # -- Bot API methods -------------------------------------------------------------------

    def api_getMe(self, params: dict, uploads: dict) -> dict:
        return self.bot_user

    def api_logOut(self, params: dict, uploads: dict) -> bool:
        return True

    api_close = api_logOut
    api_deleteWebhook = api_logOut
    api_setWebhook = api_logOut
    api_sendChatAction = api_logOut

    def api_setMyCommands(self, params: dict, uploads: dict) -> bool:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, params.get("language_code") or "")] = params["commands"]
        return True

    def api_setMyDescription(self, params: dict, uploads: dict) -> bool:
        if len(params.get("description") or "") > 512:
            raise ApiError(400, "Bad Request: description is too long")
        self.descriptions[params.get("language_code") or ""] = params.get("description") or ""
        return True

    def api_setMyShortDescription(self, params: dict, uploads: dict) -> bool:
        if len(params.get("short_description") or "") > 120:
            raise ApiError(400, "Bad Request: short description is too long")
        short = params.get("short_description") or ""
        self.short_descriptions[params.get("language_code") or ""] = short
        return True

    def api_getMyCommands(self, params: dict, uploads: dict) -> list:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        return self.commands.get((scope, params.get("language_code") or ""), [])

    def api_sendMessage(self, params: dict, uploads: dict) -> dict:
        chat = self.chat(params["chat_id"])
        text = visible_text(str(params.get("text", "")), params.get("parse_mode"))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        self._check_can_send(chat)
        return self._bot_message(chat, {"text": text}, params)

    def api_sendPhoto(self, params: dict, uploads: dict) -> dict:
        chat = self.chat(params["chat_id"])
        self._check_can_send(chat)
        stored = self._upload(params.get("photo"), uploads, "photo")
        content = {"photo": self._photo_sizes(stored), **self._caption(params)}
        return self._bot_message(chat, content, params)

    def api_sendDocument(self, params: dict, uploads: dict) -> dict:
        chat = self.chat(params["chat_id"])
        self._check_can_send(chat)
        stored = self._upload(params.get("document"), uploads, "document")
        content = {"document": self._document(stored), **self._caption(params)}
        return self._bot_message(chat, content, params)

    def api_editMessageText(self, params: dict, uploads: dict) -> dict:
        _chat, message = self._find(
            params["chat_id"], params["message_id"], "message to edit not found"
        )
        text = visible_text(str(params.get("text", "")), params.get("parse_mode"))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        _check_markup(markup)
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message["text"] = text
        message["edit_date"] = self._now()
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        if self.on_bot_edit:
            self.on_bot_edit(message)
        return message

    def api_editMessageReplyMarkup(self, params: dict, uploads: dict) -> dict:
        _chat, message = self._find(
            params["chat_id"], params["message_id"], "message to edit not found"
        )
        markup = params.get("reply_markup")
        _check_markup(markup)
        if message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = self._now()
        if self.on_bot_edit:
            self.on_bot_edit(message)
        return message

    def api_deleteMessage(self, params: dict, uploads: dict) -> bool:
        chat, message = self._find(
            params["chat_id"], params["message_id"], "message to delete not found"
        )
        chat.messages.remove(message)
        return True

    def api_answerCallbackQuery(self, params: dict, uploads: dict) -> bool:
        query_id = str(params["callback_query_id"])
        if query_id in self.answered_callbacks:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        self.answered_callbacks[query_id] = params
        if self.on_callback_answer:
            self.on_callback_answer(params)
        return True

    def api_getFile(self, params: dict, uploads: dict) -> dict:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.data),
            "file_path": stored.path,
        }

    def api_getChat(self, params: dict, uploads: dict) -> dict:
        return dict(self.chat(params["chat_id"]).info, accent_color_id=0, max_reaction_count=11)

    def api_getChatMember(self, params: dict, uploads: dict) -> dict:
        chat = self.chat(params["chat_id"])
        user_id = int(params["user_id"])
        user = self.bot_user if user_id == self.bot_user["id"] else self.users.get(user_id)
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        self._check_not_migrated(chat)
        return member_json(user, chat.members.get(user_id, {"status": "left"}))

    def api_getChatAdministrators(self, params: dict, uploads: dict) -> list:
        chat = self.chat(params["chat_id"])
        self._check_not_migrated(chat)
        return [
            member_json(self.bot_user if uid == self.bot_user["id"] else self.users[uid], member)
            for uid, member in chat.members.items()
            if member["status"] in ("creator", "administrator")
        ]

    def _decide_join_request(self, params: dict) -> tuple[Chat, int]:
        """The checks Telegram makes before a join request is decided: the bot administers
        the group with the "invite users" right, and the request is still waiting."""
        chat = self.chat(params["chat_id"])
        self._check_not_migrated(chat)
        user_id = int(params["user_id"])
        me = member_json(self.bot_user, chat.members.get(self.bot_user["id"], {"status": "left"}))
        if me["status"] != "creator" and not (
            me["status"] == "administrator" and me.get("can_invite_users")
        ):
            raise ApiError(400, "Bad Request: CHAT_ADMIN_REQUIRED")
        if (chat.id, user_id) not in self.join_requests:
            if chat.members.get(user_id, {}).get("status") in ("member", "administrator"):
                raise ApiError(400, "Bad Request: USER_ALREADY_PARTICIPANT")
            raise ApiError(400, "Bad Request: HIDE_REQUESTER_MISSING")
        self.join_requests.discard((chat.id, user_id))
        return chat, user_id

    def api_approveChatJoinRequest(self, params: dict, uploads: dict) -> bool:
        """The applicant becomes a member (the member update Telegram sends is not
        delivered: the bot acts on nothing in it)."""
        chat, user_id = self._decide_join_request(params)
        chat.members[user_id] = {"status": "member"}
        return True

    def api_declineChatJoinRequest(self, params: dict, uploads: dict) -> bool:
        self._decide_join_request(params)
        return True

    @staticmethod
    def _check_not_migrated(chat: Chat) -> None:
        if chat.info.get("migrated_to"):
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.info["migrated_to"],
            )

    def api_leaveChat(self, params: dict, uploads: dict) -> bool:
        chat = self.chat(params["chat_id"])
        chat.members[self.bot_user["id"]] = {"status": "left"}
        return True

    async def api_getUpdates(self, params: dict, uploads: dict) -> list:
        queue = self._queue()
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        updates: list[dict[str, Any]] = []
        try:
            if queue.empty() and timeout:
                updates.append(await asyncio.wait_for(queue.get(), timeout))
        except TimeoutError:
            return []
        while not queue.empty():
            updates.append(queue.get_nowait())
        return [update for update in updates if update["update_id"] >= offset]

    # -- the people's side ------------------------------------------------------------------

    def _queue(self) -> asyncio.Queue[dict[str, Any]]:
        if self._updates is None:
            self._updates = asyncio.Queue()
        return self._updates

    def deliver_to(self, process: Callable[[dict[str, Any]], Awaitable[None]] | None) -> None:
        """Hand updates straight to `process` (tests: `application.process_update`); with
        None they wait in the queue that getUpdates serves."""
        self._deliver = process

    async def deliver(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **payload}
        if self._deliver is not None:
            await self._deliver(update)
        else:
            self._queue().put_nowait(update)
        return update

    def register_user(self, user: dict[str, Any]) -> None:
        self.users[user["id"]] = user
        self.chats.setdefault(
            user["id"],
            Chat(
                {
                    "id": user["id"],
                    "type": "private",
                    "first_name": user["first_name"],
                    **({"username": user["username"]} if user.get("username") else {}),
                }
            ),
        )

    def new_group(self, title: str, *, supergroup: bool = False) -> Chat:
        chat_id = -(next(self._ids) + (1_000_000_000_000 if supergroup else 4_000_000))
        info = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
        chat = Chat(info)
        self.chats[chat_id] = chat
        return chat

    # -- group life, as Telegram reports it -------------------------------------------------

    def _user(self, user_id: int) -> dict[str, Any]:
        return self.bot_user if user_id == self.bot_user["id"] else self.users[user_id]

    async def _member_changed(
        self, chat: Chat, user_id: int, status: str, by: dict[str, Any]
    ) -> None:
        """Set a member's status and deliver what Telegram sends: `my_chat_member` for the bot
        itself, `chat_member` for others (only to a bot that is an administrator there)."""
        old = chat.members.get(user_id, {"status": "left"})
        new = {"status": status}
        chat.members[user_id] = new
        me = chat.members.get(self.bot_user["id"], {}).get("status")
        kind = "my_chat_member" if user_id == self.bot_user["id"] else "chat_member"
        if kind == "chat_member" and me not in ("administrator", "creator"):
            return
        user = self._user(user_id)
        await self.deliver(
            {
                kind: {
                    "chat": chat.info,
                    "from": by,
                    "date": self._now(),
                    "old_chat_member": member_json(user, old),
                    "new_chat_member": member_json(user, new),
                }
            }
        )

    async def _service(self, chat: Chat, by: dict[str, Any], content: dict[str, Any]) -> None:
        message = self._append(chat, {"from": by, **content})
        await self.deliver({"message": message})

    async def add_bot(self, chat: Chat, by: Person, status: str = "member") -> None:
        """`by` adds the bot to the group (as a member, or an administrator)."""
        await self._member_changed(chat, self.bot_user["id"], status, by.user)
        await self._service(chat, by.user, {"new_chat_members": [self.bot_user]})

    async def remove_bot(self, chat: Chat, by: Person) -> None:
        """`by` removes the bot from the group (no service message reaches a bot gone)."""
        await self._member_changed(chat, self.bot_user["id"], "kicked", by.user)

    async def join(self, chat: Chat, person: Person, status: str = "member") -> None:
        """`person` joins the group (or is made its creator or an administrator)."""
        await self._member_changed(chat, person.id, status, person.user)
        if status == "member":
            await self._service(chat, person.user, {"new_chat_members": [person.user]})

    async def set_status(self, chat: Chat, person: Person, status: str) -> None:
        """Promote or demote without a service message (as Telegram does)."""
        await self._member_changed(chat, person.id, status, person.user)

    async def leave(self, chat: Chat, person: Person, by: Person | None = None) -> None:
        """`person` leaves the group, or `by` removes them."""
        actor = by or person
        await self._member_changed(chat, person.id, "left" if by is None else "kicked", actor.user)
        await self._service(chat, actor.user, {"left_chat_member": person.user})

    async def request_join(self, chat: Chat, person: Person) -> None:
        """`person` asks to join a group that takes join requests: a `chat_join_request`
        reaches the bot when it administers the group with the "invite users" right."""
        self.join_requests.add((chat.id, person.id))
        me = member_json(self.bot_user, chat.members.get(self.bot_user["id"], {"status": "left"}))
        if me["status"] == "creator" or (
            me["status"] == "administrator" and me.get("can_invite_users")
        ):
            await self.deliver(
                {
                    "chat_join_request": {
                        "chat": chat.info,
                        "from": person.user,
                        "user_chat_id": person.id,
                        "date": self._now(),
                    }
                }
            )

    async def rename(self, chat: Chat, by: Person, title: str) -> None:
        chat.info["title"] = title
        await self._service(chat, by.user, {"new_chat_title": title})

    async def upgrade_to_supergroup(self, chat: Chat, by: Person) -> Chat:
        """The group becomes a supergroup with a new id; the old id answers "upgraded" with
        migrate_to_chat_id from then on. Both chats announce the move."""
        chat_id = -(1_000_000_000_000 + next(self._ids))
        new = Chat(dict(chat.info, id=chat_id, type="supergroup"), members=dict(chat.members))
        self.chats[chat_id] = new
        await self._service(chat, by.user, {"migrate_to_chat_id": chat_id})
        chat.info["migrated_to"] = chat_id
        await self._service(new, by.user, {"migrate_from_chat_id": chat.id})
        return new

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]


class Person:
    """A Telegram user talking to the bot through the offline Bot API."""

    def __init__(
        self,
        api: OfflineBotAPI,
        user_id: int,
        first_name: str,
        language_code: str | None = "en",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> None:
        self.api = api
        self.user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            self.user["last_name"] = last_name
        if username:
            self.user["username"] = username
        if language_code:
            self.user["language_code"] = language_code
        api.register_user(self.user)

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def chat(self) -> Chat:
        return self.api.chat(self.id)

    # what the person sees

    @property
    def inbox(self) -> list[dict[str, Any]]:
        """The bot's messages in this person's private chat, as they look now."""
        return [m for m in self.chat.messages if m["from"]["id"] == self.api.bot_user["id"]]

    @property
    def last(self) -> dict[str, Any]:
        inbox = self.inbox
        if not inbox:
            raise AssertionError("the bot has sent nothing to this chat")
        return inbox[-1]

    @property
    def last_text(self) -> str:
        return str(self.last.get("text") or self.last.get("caption") or "")

    @staticmethod
    def buttons_of(message: dict[str, Any]) -> list[str]:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return [button["text"] for row in rows for button in row]

    @property
    def buttons(self) -> list[str]:
        return self.buttons_of(self.last)

    @property
    def keyboard(self) -> list[str]:
        """The labels of the reply keyboard shown under the text field, if any."""
        markup = self.chat.reply_keyboard or {}
        return [
            button if isinstance(button, str) else button["text"]
            for row in markup.get("keyboard", [])
            for button in row
        ]

    # what the person does

    async def _send_message(self, chat: Chat, content: dict[str, Any]) -> list[dict[str, Any]]:
        await self.api.save_files()  # a photo or document this person is sending
        if chat.id == self.id:
            self.api.strangers.discard(self.id)  # they opened the private chat
        before = len(chat.messages)
        message = self.api._append(chat, {"from": self.user, **content})
        await self.api.deliver({"message": message})
        return [
            m for m in chat.messages[before + 1 :] if m["from"]["id"] == self.api.bot_user["id"]
        ]

    async def send(self, text: str, chat: Chat | None = None) -> list[dict[str, Any]]:
        """Type `text` (a command if it starts with /); returns the bot's new messages."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0]) if text.split() else 1
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self._send_message(chat or self.chat, content)

    async def share_location(self, latitude: float, longitude: float) -> list[dict[str, Any]]:
        return await self._send_message(
            self.chat, {"location": {"latitude": latitude, "longitude": longitude}}
        )

    async def send_photo(self, data: bytes, caption: str | None = None) -> list[dict[str, Any]]:
        stored = self.api._store_file(data, None, "image/jpeg")
        content: dict[str, Any] = {"photo": self.api._photo_sizes(stored)}
        if caption:
            content["caption"] = caption
        return await self._send_message(self.chat, content)

    async def send_document(
        self, data: bytes, file_name: str, mime_type: str, caption: str | None = None
    ) -> list[dict[str, Any]]:
        stored = self.api._store_file(data, file_name, mime_type)
        content: dict[str, Any] = {"document": self.api._document(stored)}
        if caption:
            content["caption"] = caption
        return await self._send_message(self.chat, content)

    async def send_sticker(self) -> list[dict[str, Any]]:
        stored = self.api._store_file(b"RIFF....WEBP", "sticker.webp", "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return await self._send_message(self.chat, {"sticker": sticker})

    async def edit(self, message: dict[str, Any], text: str) -> list[dict[str, Any]]:
        """Edit one of this person's earlier messages."""
        before = len(self.chat.messages)
        message["text"] = text
        message["edit_date"] = self.api._now()
        await self.api.deliver({"edited_message": message})
        return [
            m for m in self.chat.messages[before:] if m["from"]["id"] == self.api.bot_user["id"]
        ]

    async def press(self, label: str, chat: Chat | None = None) -> list[dict[str, Any]]:
        """Press the newest button labelled `label`: inline (a callback query, which the bot
        must answer) or on the reply keyboard (which sends its text)."""
        chat = chat or self.chat
        for message in reversed(chat.messages):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label and "callback_data" in button:
                        return await self.press_data(button["callback_data"], message, chat)
        if label in self.keyboard:
            return await self.send(label, chat)
        shown = [self.buttons_of(m) for m in chat.messages if m.get("reply_markup")]
        raise AssertionError(
            f"no button {label!r}; buttons shown: {shown}, keyboard: {self.keyboard}"
        )

    async def press_data(
        self, data: str, message: dict[str, Any], chat: Chat | None = None
    ) -> list[dict[str, Any]]:
        """Send a callback query with any data (also forged data) from `message`."""
        chat = chat or self.chat
        before = len(chat.messages)
        query_id = str(next(self.api._ids) * 7919)
        await self.api.deliver(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user,
                    "message": message,
                    "chat_instance": f"ci{chat.id}",
                    "data": data,
                }
            }
        )
        if query_id not in self.api.answered_callbacks:
            raise AssertionError(f"the bot left the button {data!r} unanswered (spinner shown)")
        return [m for m in chat.messages[before:] if m["from"]["id"] == self.api.bot_user["id"]]

    def block_bot(self) -> None:
        self.api.blocked.add(self.id)

    def unblock_bot(self) -> None:
        self.api.blocked.discard(self.id)
