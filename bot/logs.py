"""Logging set-up: one line per event, optionally JSON, and never the token, credential
numbers or what people wrote (beyond the command's name)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


def describe_update(update: Any) -> str:
    """What an update is, for the log, without what people wrote: its id, its kind, and for a
    command its name; for a button the feature prefix of its data. Never the text, names,
    credential numbers or file ids."""
    parts = [f"update {update.update_id}"]
    message = update.message or update.edited_message
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        parts.append(f"button {data.split(':', 1)[0][:16]}:" if ":" in data else "button")
    elif message is not None:
        kind = "edited message" if update.edited_message is not None else "message"
        text = message.text or ""
        if text.startswith("/") and update.message is not None:
            command = text.split(maxsplit=1)[0].split("@", 1)[0][:33]
            parts.append(f"{kind} {command}" if command[1:].isidentifier() else f"{kind} /?")
        else:
            content = next(
                (
                    name
                    for name in ("text", "photo", "document", "sticker", "location", "contact")
                    if getattr(message, name, None)
                ),
                "other",
            )
            parts.append(f"{kind} ({content})")
        parts.append(f"in a {message.chat.type} chat")
    elif update.my_chat_member is not None or update.chat_member is not None:
        parts.append("chat member change")
    else:
        parts.append("other")
    return " ".join(parts)


class RedactSecrets(logging.Filter):
    """Replaces secrets anywhere in a record: message, arguments and traceback text."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self._clean(message), None
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class OneLineFormatter(logging.Formatter):
    """Plain text, one line per event: a traceback's lines are joined with " | "."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "").replace("\n", " | ")


def setup_logging(level: str, json_lines: bool, secrets: list[str]) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets(secrets))
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and Bot API URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # PTB's debug lines quote whole updates and every request's parameters (what people
    # wrote, credential numbers): never below INFO, even with LOG_LEVEL=DEBUG.
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))
    for chatty in ("apscheduler", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
