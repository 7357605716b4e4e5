"""`python -m bot` / `recert`: run the bot; `migrate`: apply migrations; `chat`: the terminal
chat against the offline Bot API (no token needed)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from telegram import Update

from bot.settings import Settings, SettingsError, load_settings


def run(settings: Settings) -> None:
    from bot.app import build_application

    settings.token  # noqa: B018  (raises SettingsError with one line when it is missing)
    application = build_application(settings)
    if settings.webhook:
        from bot.webhook import serve

        # Migrations run in start-up; SIGINT/SIGTERM stop it after the update in hand.
        asyncio.run(serve(application, settings))
        return
    if settings.migrate_on_start:
        from storage.migrate import upgrade

        upgrade(settings.database_url)
    # run_polling stops cleanly on SIGINT/SIGTERM: the update in hand is finished first.
    application.run_polling(allowed_updates=Update.ALL_TYPES, close_loop=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recert", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "migrate", "chat"],
        help="run the bot (default), apply database migrations, or chat in the terminal",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
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
        if args.command == "migrate":
            from storage.migrate import upgrade

            upgrade(settings.database_url)
            print("migrations applied")
        elif args.command == "chat":
            from bot.terminal import chat

            asyncio.run(chat(settings))
        else:
            run(settings)
    except SettingsError as error:
        print(f"recert: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
