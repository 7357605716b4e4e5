"""Webhook mode: a small tornado server (tornado is what PTB's own webhook uses) that takes
Telegram's POSTs, and a health endpoint for the load balancer.

- `POST <path of WEBHOOK_URL>`: the `X-Telegram-Bot-Api-Secret-Token` header must equal
  WEBHOOK_SECRET (compared in constant time); a missing or wrong one is refused with 403 and
  logged without the token. A body that is not an update (`read_update`) gets 400 before
  anything is claimed or stored. A good request's update is claimed in the database
  (`storage.updates`), handled, then answered: 200 tells Telegram it was handled, so an update
  cut short by a crash is delivered again rather than lost, and one delivered again after it
  was handled (to any replica) is not handled twice. Updates go through the same processor
  as with polling (`bot.turns`): chats concurrently, each chat's one after another
  (conversations need it). While the server stops, new updates get 503, so Telegram retries
  them elsewhere.
- `GET /healthz`: 200 when the database answers, 503 when it does not or while stopping.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import inspect
import json
import logging
import re
import signal
import socket
import types
import typing
from datetime import UTC, datetime
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import TelegramObject, Update

from bot.settings import Settings
from storage import updates

logger = logging.getLogger(__name__)
HEALTH_TIMEOUT = 5.0
PRUNE_EVERY = 1000  # updates between clean-ups of the updates seen


# -- what is an update -----------------------------------------------------------------------

# Telegram's update ids are signed 32-bit (and start positive); any other integer it sends
# fits in 64 bits (user and chat ids are 52-bit). Anything past that is not from Telegram.
UPDATE_ID_RANGE = range(0, 2**31)
INT64_RANGE = range(-(2**63), 2**63)
KINDS = frozenset(Update.ALL_TYPES)  # what `setWebhook` subscribes to
SIMPLE_TYPES = (bool, int, float, str)
MAX_DEPTH = 32  # a reply to a reply to ... Telegram nests a few levels; junk may nest more


def read_update(body: bytes, bot: Any) -> Update | None:
    """The update in a webhook body, or None if the body is not one: a JSON object with an
    integer `update_id` in Telegram's range and exactly one kind of content the bot
    subscribes to, which parses with every field Telegram always sends present and of the
    right type. Checked before anything is claimed or stored, so junk leaves nothing behind."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    update_id = payload.get("update_id")
    if type(update_id) is not int or update_id not in UPDATE_ID_RANGE:  # not bool, not float
        return None
    kinds = [key for key in payload if key in KINDS]
    if len(kinds) != 1 or not isinstance(payload[kinds[0]], dict) or not payload[kinds[0]]:
        return None
    if not _plain_json(payload, 0):
        return None
    try:
        update = Update.de_json(payload, bot)
    except Exception:  # PTB's parsing meets a value of the wrong shape: not an update
        return None
    if not _complete(getattr(update, kinds[0]), 0):
        return None
    return update


def _plain_json(value: Any, depth: int) -> bool:
    """Integers that fit in 64 bits and text that can be stored: no NUL (PostgreSQL's text
    refuses it) and no lone surrogate (not UTF-8). Telegram sends neither."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return all(
            _plain_json(key, depth) and _plain_json(item, depth + 1) for key, item in value.items()
        )
    if isinstance(value, list):
        return all(_plain_json(item, depth + 1) for item in value)
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value in INT64_RANGE
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode()
        except UnicodeEncodeError:
            return False
    return True


def _complete(obj: Any, depth: int) -> bool:
    """Every field PTB's class requires is there, and every field of a simple type has it
    (a message without a chat, or a `text` that is a number, is no message)."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(obj, tuple | list):
        return all(_complete(item, depth + 1) for item in obj)
    if not isinstance(obj, TelegramObject):
        return True
    # TelegramObject is hashable; mypy reads its self-typed __hash__ as not matching Hashable.
    for name, required, allowed in _fields(type(obj)):  # type: ignore[arg-type]
        value = getattr(obj, name, None)
        if value is None:
            if required:
                return False
            continue
        if allowed and not _is_of(value, allowed):
            return False
        if not _complete(value, depth + 1):
            return False
    return True


def _is_of(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int) and float in types:
        return True  # JSON writes 52.0 as 52
    return isinstance(value, types)


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, bool, tuple[type, ...]], ...]:
    """(name, required, the simple types it may hold: empty when it is not simple)."""
    fields = []
    # Only the signature is read, never called: which subclass defined it does not matter.
    init = cls.__init__  # type: ignore[misc]
    for name, parameter in inspect.signature(init).parameters.items():
        if name in ("self", "api_kwargs") or parameter.kind is parameter.VAR_KEYWORD:
            continue
        annotation = parameter.annotation
        union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
        options = typing.get_args(annotation) if union else (annotation,)
        simple = tuple(t for t in options if t in SIMPLE_TYPES)
        if len(simple) != len([t for t in options if t is not type(None)]):
            simple = ()  # mixed with other types (int | timedelta): PTB's own parsing decides
        fields.append((name, parameter.default is parameter.empty, simple))
    return tuple(fields)


class Gate:
    """What the request handlers share: the application, the secret, and the state of the
    server (updates in hand, stopping)."""

    def __init__(self, application: Any, secret: str) -> None:
        self.application = application
        self.secret = secret.encode()
        self.in_hand = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.stopping = False


class UpdateHandler(tornado.web.RequestHandler):
    gate: Gate

    def initialize(self, gate: Gate) -> None:
        self.gate = gate

    def _refuse(self, status: int) -> None:
        self.set_status(status)
        self.finish()

    async def post(self) -> None:
        gate = self.gate
        given = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        if given is None or not hmac.compare_digest(given.encode(), gate.secret):
            # The token itself (a forged one may be someone's guess at ours) is never logged.
            logger.warning(
                "webhook request refused (403): %s secret token, from %s",
                "missing" if given is None else "wrong",
                self.request.remote_ip,
            )
            return self._refuse(403)
        if gate.stopping:
            return self._refuse(503)  # Telegram delivers it again, to a replica that runs
        update = read_update(self.request.body, gate.application.bot)
        if update is None:
            # Nothing is claimed or stored for it. What it was is not logged: it may be
            # anything, someone's text included.
            logger.warning("webhook request refused (400): not an update")
            return self._refuse(400)
        gate.in_hand += 1
        gate.idle.clear()
        try:
            db = gate.application.bot_data["db"]
            now = datetime.now(UTC)
            taken = await db.run(lambda session: updates.claim(session, update.update_id, now))
            if taken == "busy":
                # Another replica has it in hand: Telegram asks again later, by when it is
                # done (or that replica died and its lease ran out).
                return self._refuse(503)
            if taken == "mine":
                try:
                    application = gate.application
                    await application.update_processor.process_update(
                        update, application.process_update(update)
                    )
                except Exception:
                    # PTB gives handlers' errors to the error handler; what reaches here failed
                    # around them. Handled badly is still handled: never run again by accident.
                    logger.exception("update %d failed outside its handlers", update.update_id)
                # (A stop that cancels it mid-way leaves the claim to its lease: done again.)
                await db.run(lambda session: updates.finish(session, update.update_id))
                if update.update_id % PRUNE_EVERY == 0:
                    await db.run(lambda session: updates.prune(session, now))
            else:
                logger.info("update %d: delivered again, handled already", update.update_id)
        finally:
            gate.in_hand -= 1
            if not gate.in_hand:
                gate.idle.set()
        self.set_status(200)
        self.finish()


class HealthHandler(tornado.web.RequestHandler):
    gate: Gate

    def initialize(self, gate: Gate) -> None:
        self.gate = gate

    async def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        if self.gate.stopping:
            self.set_status(503)
            self.finish(json.dumps({"status": "stopping"}))
            return
        try:
            db = self.gate.application.bot_data["db"]
            await asyncio.wait_for(db.ping(), HEALTH_TIMEOUT)
        except Exception as error:  # any failure of the database is "unhealthy", said briefly
            logger.warning("health check: database unreachable (%s)", type(error).__name__)
            self.set_status(503)
            self.finish(json.dumps({"status": "unhealthy", "database": "unreachable"}))
            return
        self.finish(json.dumps({"status": "ok", "database": "ok"}))


class WebhookServer:
    def __init__(self, application: Any, secret: str, path: str) -> None:
        self.gate = Gate(application, secret)
        app = tornado.web.Application(
            [
                (r"/healthz", HealthHandler, {"gate": self.gate}),
                (re.escape(path), UpdateHandler, {"gate": self.gate}),
            ]
        )
        self.http = tornado.httpserver.HTTPServer(app, xheaders=True)
        self.sockets: list[socket.socket] = []

    def listen(self, address: str, port: int) -> int:
        """Start listening; returns the port (useful with port 0)."""
        self.sockets = tornado.netutil.bind_sockets(port, address)
        self.http.add_sockets(self.sockets)
        return int(self.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """No new updates (503); the one in hand is finished; then the sockets close."""
        self.gate.stopping = True
        self.http.stop()
        await self.gate.idle.wait()
        await self.http.close_all_connections()


async def serve(application: Any, settings: Settings) -> None:
    """Run in webhook mode until SIGINT or SIGTERM, then stop gracefully."""
    from bot.app import shutdown, startup

    assert settings.webhook_url and settings.webhook_secret
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await startup(application)
    secret = settings.webhook_secret.get_secret_value()
    server = WebhookServer(application, secret, settings.webhook_path)
    port = server.listen(settings.webhook_listen, settings.webhook_port)
    # Every replica says the same; Telegram keeps one webhook per bot.
    await application.bot.set_webhook(
        settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
    )
    logger.info("webhook mode: listening on %s:%d", settings.webhook_listen, port)
    try:
        await stop.wait()
        logger.info("stopping: finishing the update in hand")
    finally:
        await server.stop()
        # The webhook stays set: other replicas go on receiving updates.
        await shutdown(application)
