"""Webhook mode: a small tornado server (tornado is what PTB's own webhook uses) that takes
Telegram's POSTs, and a health endpoint for the load balancer.

- `POST <path of WEBHOOK_URL>`: the `X-Telegram-Bot-Api-Secret-Token` header must equal
  WEBHOOK_SECRET (compared in constant time); a missing or wrong one is refused with 403 and
  logged without the token. A good request's update is claimed in the database
  (`storage.updates`), handled, then answered: 200 tells Telegram it was handled, so an update
  cut short by a crash is delivered again rather than lost, and one delivered again after it
  was handled (to any replica) is not handled twice. Updates are handled one at a time per
  process, as with polling (conversations need it). While the server stops, new updates get
  503, so Telegram retries them elsewhere.
- `GET /healthz`: 200 when the database answers, 503 when it does not or while stopping.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import signal
import socket
from datetime import UTC, datetime
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import Update

from bot.settings import Settings
from storage import updates

logger = logging.getLogger(__name__)
HEALTH_TIMEOUT = 5.0
PRUNE_EVERY = 1000  # updates between clean-ups of the updates seen


class Gate:
    """What the request handlers share: the application, the secret, and the state of the
    server (updates in hand, stopping)."""

    def __init__(self, application: Any, secret: str) -> None:
        self.application = application
        self.secret = secret.encode()
        self.lock = asyncio.Lock()  # one update at a time, in the order they came
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
        try:
            payload = json.loads(self.request.body)
            update = Update.de_json(payload, gate.application.bot)
        except Exception as error:  # whatever the body is, it is not an update: say 400
            logger.warning(
                "webhook request refused (400): not an update (%s)", type(error).__name__
            )
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
                async with gate.lock:
                    await gate.application.process_update(update)
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
