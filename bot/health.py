"""`recert health`: the container's health check, for both modes.

Webhook mode asks the bot's own `/healthz` (the database answers, the bot is not stopping).
Polling has no port to ask, so the running bot touches a heartbeat file while it polls, and
the check reads how old it is.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from typing import Any

from bot.settings import Settings

HEARTBEAT_SECONDS = 30
# Three beats missed: the loop is stuck or polling stopped.
STALE_AFTER = 3 * HEARTBEAT_SECONDS


async def start_heartbeat(application: Any, settings: Settings) -> None:
    """The first beat now (Telegram answered getMe), then one every HEARTBEAT_SECONDS while
    the updater polls."""

    async def beat(_context: Any) -> None:
        updater = application.updater
        if updater is not None and updater.running:
            await asyncio.to_thread(settings.heartbeat_file.touch)

    await asyncio.to_thread(settings.heartbeat_file.touch)
    application.job_queue.run_repeating(
        beat, interval=HEARTBEAT_SECONDS, first=HEARTBEAT_SECONDS, name="heartbeat"
    )


def stop_heartbeat(settings: Settings) -> None:
    """A stopped bot is not healthy, whatever the file's age (called after the loop ended)."""
    settings.heartbeat_file.unlink(missing_ok=True)


def check(settings: Settings) -> tuple[bool, str]:
    """Healthy or not, and one line saying why."""
    if settings.webhook:
        # The server listens on every interface by default: ask it on loopback.
        host = settings.webhook_listen
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"  # an IPv6 address
        url = f"http://{host}:{settings.webhook_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.status == 200, f"{url}: {answer.status}"
        except OSError as error:  # refused, timed out, or a 503 (HTTPError)
            return False, f"{url}: {error}"
    try:
        age = time.time() - settings.heartbeat_file.stat().st_mtime
    except OSError:
        return False, f"no heartbeat at {settings.heartbeat_file}: the bot is not polling"
    if age > STALE_AFTER:
        return False, f"the last heartbeat is {age:.0f} s old (more than {STALE_AFTER} s)"
    return True, f"polling; last heartbeat {age:.0f} s ago"
