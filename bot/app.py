"""The application factory, used unchanged by `python -m bot`, the terminal chat and the tests
(which swap only the request objects)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from datetime import UTC
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot.commands import register_menus
from bot.context import RecertContext
from bot.errors import on_error
from bot.health import start_heartbeat
from bot.i18n import LANGUAGES, I18n
from bot.logs import describe_update
from bot.persistence import DatabasePersistence
from bot.ratelimit import TelegramLimits
from bot.settings import Settings, SettingsError
from bot.timezones import ZoneIndex
from bot.turns import ChatOrderedProcessor
from handlers import (
    add,
    basics,
    credentials,
    event,
    exports,
    hiring,
    history,
    log,
    nudges,
    privacy,
    settings,
    snap,
    start,
    status,
    team,
)
from handlers.feature import (
    Feature,
    commands,
    personal_commands,
    private_buttons,
    reads_trainer,
    routing,
)
from handlers.loader import load_trainer
from scheduler.jobs import drain, schedule
from scheduler.team_job import drain_teams, schedule_teams
from storage.catalog import Catalog
from storage.db import Database
from storage.migrate import upgrade_async

logger = logging.getLogger(__name__)


class RecertApplication(Application[Any, RecertContext, Any, Any, Any, Any]):
    """PTB's Application, keeping no memory for people with nothing to remember.

    PTB creates an empty `user_data` and `chat_data` for everyone who writes and keeps them for
    the life of the process (and, as chat data is not persisted, every chat id too): memory
    that grows with every distinct user. What a conversation needs is non-empty and stays.
    """

    async def initialize(self) -> None:
        """PTB's start-up (getMe first), saying once, in one line, that Telegram cannot be
        reached; polling retries it (run_polling's bootstrap retries)."""
        try:
            await super().initialize()
        except InvalidToken:
            # Not a TelegramError any more: PTB's retry loop neither retries nor logs a
            # traceback; bot.__main__ prints the line and exits 2.
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN: Telegram refused it (revoked, or a typo); "
                "@BotFather's /token shows the current one"
            ) from None
        except NetworkError as error:
            if not self.bot_data.get("told_unreachable"):
                self.bot_data["told_unreachable"] = True
                retrying = self.bot_data.get("polling")
                logger.warning(
                    "Telegram is unreachable (%s)%s",
                    error,
                    ": retrying with growing pauses, up to 30 s, until it answers"
                    if retrying
                    else "",
                )
            raise
        if self.bot_data.pop("told_unreachable", False):
            logger.warning("Telegram answers again")

    async def process_update(self, update: object) -> None:
        if not isinstance(update, Update):
            await super().process_update(update)
            return
        started = time.monotonic()
        user, chat = update.effective_user, update.effective_chat
        if self.bot_data["settings"].share_state and user is not None:
            # Replicas: this person's state as the last replica left it, written back before
            # their next update is handled, wherever it goes.
            async with self.bot_data["db"].person_lock(user.id):
                await self.bot_data["persistence"].refresh_person(self, update)
                await super().process_update(update)
                await self.update_persistence()
        else:
            await super().process_update(update)
        # One line per update: its id and kind, never what was written (bot.logs).
        if logger.isEnabledFor(logging.INFO):
            elapsed = 1000 * (time.monotonic() - started)
            logger.info("%s handled in %d ms", describe_update(update), elapsed)
        if user is not None and self.user_data.get(user.id) == {}:
            self.drop_user_data(user.id)  # the persistence writes only if a row was stored
        if chat is not None and not self.chat_data.get(chat.id):
            self.drop_chat_data(chat.id)


@functools.cache
def zone_index() -> ZoneIndex:
    return ZoneIndex.build(LANGUAGES)


# Every feature, in the order of the menus and /help; their handlers are tried in this order
# too, those that route first (`Feature.routes_first`) before the others.
FEATURES: tuple[Feature, ...] = (
    start.FEATURE,
    add.FEATURE,
    status.FEATURE,
    log.FEATURE,
    snap.FEATURE,
    credentials.FEATURE,
    history.FEATURE,
    nudges.FEATURE,
    exports.FEATURE,
    settings.FEATURE,
    team.FEATURE,
    event.FEATURE,
    hiring.FEATURE,
    privacy.FEATURE,
    basics.FEATURE,
)


def register_handlers(
    application: RecertApplication, features: tuple[Feature, ...] = FEATURES
) -> None:
    """The routing table, derived from the features' declarations."""
    application.bot_data.update(commands=commands(features), reads_trainer=reads_trainer(features))
    # Group -2 runs first: a private-only feature's button pressed outside a private chat.
    application.add_handlers(basics.guards(private_buttons(features)), group=-2)
    # Group -1 runs next for every update: load the trainer and their language.
    application.add_handler(TypeHandler(Update, load_trainer), group=-1)
    # Group 0, first match wins: each feature's handlers (a conversation before the commands it
    # shares words with: its /cancel wins over the global one), then a trainer's own commands
    # sent in a group, then what nothing took.
    application.add_handlers(
        [
            *(handler for feature in routing(features) for handler in feature.handlers()),
            *basics.group_handlers(personal_commands(features)),
            *basics.last_resort_handlers(),
        ]
    )
    application.add_error_handler(on_error)


async def post_init(application: RecertApplication) -> None:
    """Start-up, after PTB's initialize: the zone index and the command menus."""
    application.bot_data["zones"] = await asyncio.to_thread(zone_index)
    await register_menus(
        application.bot, application.bot_data["i18n"], application.bot_data["commands"]
    )
    schedule(application, application.bot_data["settings"].sweep_interval)
    # Digests, alerts and escalations tick at the same interval (SWEEP_INTERVAL=0: neither).
    schedule_teams(application, application.bot_data["settings"].sweep_interval)
    if application.bot_data.get("polling"):
        await start_heartbeat(application, application.bot_data["settings"])
    logger.info("Recert started as @%s", application.bot.username)


async def post_shutdown(application: RecertApplication) -> None:
    await drain(application)  # the nudge being sent is finished and recorded first
    await drain_teams(application)  # and so is the team message in hand
    if (reader := application.bot_data.get("reader")) is not None:
        reader.close()  # a certificate being read is dropped: its card would go nowhere
    await application.bot_data["db"].dispose()


async def startup(application: RecertApplication) -> None:
    """What `run_polling` does before it polls, for the terminal chat and the tests:
    migrations (persistence reads the database in `initialize`), then PTB's start-up."""
    settings_: Settings = application.bot_data["settings"]
    if settings_.migrate_on_start:
        await upgrade_async(settings_.database_url)
    await application.initialize()
    await post_init(application)
    await application.start()


async def shutdown(application: RecertApplication) -> None:
    await application.stop()
    await application.shutdown()
    await post_shutdown(application)


def build_application(
    settings_: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    i18n: I18n | None = None,
    catalog: Catalog | None = None,
    features: tuple[Feature, ...] = FEATURES,
) -> RecertApplication:
    db = Database(settings_.database_url)
    persistence = DatabasePersistence(db)
    builder = (
        ApplicationBuilder()
        .application_class(RecertApplication)
        .token(settings_.token)
        .persistence(persistence)
        .context_types(ContextTypes(context=RecertContext))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=UTC,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # PTB types these hooks for the base Application; ours get the RecertApplication the
        # builder makes (application_class above).
        .post_init(post_init)  # type: ignore[arg-type]
        .post_shutdown(post_shutdown)  # type: ignore[arg-type]
        # Chats concurrently, each chat's updates in order: a group waiting for its turn to
        # send holds up no one else (`bot.turns`).
        .concurrent_updates(ChatOrderedProcessor())
    )
    # Without RATE_LIMIT the limiter only retries replies (see `bot.ratelimit`).
    # The builder's type carries the limiter's argument type (None until one is set).
    builder = builder.rate_limiter(
        TelegramLimits(pace=settings_.rate_limit)  # type: ignore[arg-type]
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    elif settings_.base_url and settings_.base_file_url:  # both set, or neither
        builder = builder.base_url(settings_.base_url).base_file_url(settings_.base_file_url)
    application: RecertApplication = builder.build()  # type: ignore[assignment]
    persistence.bind(application.user_data)
    application.bot_data.update(
        settings=settings_,
        db=db,
        persistence=persistence,
        i18n=i18n or I18n.load(settings_.default_language),
        catalog=catalog or Catalog.load(),
    )
    register_handlers(application, features)
    return application
