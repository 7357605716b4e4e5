"""`python -m bot` / `recert`: run the bot; `migrate`: apply migrations; `chat`: the terminal
chat against the offline Bot API (no token needed); `health`: the container's health check."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from bot.settings import Settings, SettingsError, load_settings

# Seconds the start-up waits for the database's first answer (asyncpg alone waits a minute).
DATABASE_TIMEOUT = 10.0
# Polling: retry getMe and deleteWebhook forever, with PTB's growing pauses (1 s up to 30 s),
# so a bot started before the network is up starts when it comes.
RETRY_FOREVER = -1


def check_database(settings: Settings) -> None:
    """One statement before anything starts: a wrong or unreachable DATABASE_URL is one line
    for the operator (exit 2), not a traceback from the migrations or the first update."""
    from sqlalchemy.engine import make_url

    from storage.db import Database

    async def ping() -> None:
        db = Database(settings.database_url)
        try:
            await asyncio.wait_for(db.ping(), DATABASE_TIMEOUT)
        finally:
            await db.dispose()

    try:
        asyncio.run(ping())
    except Exception as error:  # whatever the driver raises: refused, unknown host, auth
        cause = getattr(error, "orig", None) or error
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        if isinstance(cause, TimeoutError):
            reason = f"no answer in {DATABASE_TIMEOUT:g} s"
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        hint = ""
        if settings.sqlite_path is not None:
            folder = settings.sqlite_path.parent.resolve()
            hint = f"; can this user (uid {os.getuid()}) write to {folder}?"
        raise SettingsError(
            f"DATABASE_URL: cannot use {where} ({type(cause).__name__}: {reason}){hint}"
        ) from None


def run(settings: Settings) -> int:
    """Run the bot until SIGINT or SIGTERM; the exit status."""
    from telegram import Update
    from telegram.error import NetworkError

    from bot.app import build_application

    settings.token  # noqa: B018  (raises SettingsError with one line when it is missing)
    application = build_application(settings)
    if settings.webhook:
        from bot.webhook import serve

        # Migrations run in start-up; SIGINT/SIGTERM stop it after the update in hand.
        try:
            asyncio.run(serve(application, settings))
        except NetworkError:
            # Webhook mode does not retry: the line is logged; a restart policy starts it again.
            return 1
        return 0
    if settings.migrate_on_start:
        from storage.migrate import upgrade

        upgrade(settings.database_url)
    from bot.health import stop_heartbeat

    # Polling: start-up retried until Telegram answers; a heartbeat for `recert health`.
    application.bot_data["polling"] = True
    # run_polling stops cleanly on SIGINT/SIGTERM: the update in hand is finished first.
    try:
        application.run_polling(
            allowed_updates=Update.ALL_TYPES, close_loop=False, bootstrap_retries=RETRY_FOREVER
        )
    finally:
        stop_heartbeat(settings)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recert", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "migrate", "chat", "health"],
        help="run the bot (default), apply database migrations, chat in the terminal, or "
        "check that the running bot is healthy (exit 0) or not (exit 1)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "health":
            from bot.health import check

            healthy, why = check(settings)
            print(f"recert: {'healthy' if healthy else 'unhealthy'}: {why}")
            return 0 if healthy else 1
        from bot.logs import setup_logging

        secrets = [
            settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else "",
            settings.webhook_secret.get_secret_value() if settings.webhook_secret else "",
        ]
        # The terminal chat is for reading the bot's messages; keep the log out of the way.
        level = (
            "WARNING"
            if args.command == "chat" and settings.log_level == "INFO"
            else settings.log_level
        )
        setup_logging(level, settings.log_json, secrets)
        settings.ensure_data_dir()
        check_database(settings)
        if args.command == "migrate":
            from storage.migrate import upgrade

            upgrade(settings.database_url)
            print("migrations applied")
        elif args.command == "chat":
            from bot.terminal import chat

            asyncio.run(chat(settings))
        else:
            return run(settings)
    except SettingsError as error:
        print(f"recert: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
