"""The per-update context: the database, the user's trainer row and their language."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from scheduler.credits import Earned
from scheduler.plan import Prefs
from scheduler.standing import Holding, Standing, standing_of

if TYPE_CHECKING:
    from bot.i18n import I18n, Translator
    from bot.settings import Settings
    from bot.timezones import ZoneIndex
    from storage.catalog import Catalog
    from storage.db import Database
    from storage.models import Trainer


def local_today(trainer: Trainer | None, default_zone: str, now: datetime | None = None) -> date:
    """Today where the trainer is (the operator's default zone until they pick one)."""
    zone = (trainer.time_zone if trainer else None) or default_zone
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).date()


class RecertContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context plus what every Recert handler needs; one instance per update."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self._trainer: Trainer | None = None
        # True while the handler's own unit of work is to read the trainer (handlers.loader).
        self.trainer_pending = False
        self._translator: Translator | None = None

    @property
    def trainer(self) -> Trainer | None:
        if self.trainer_pending:
            raise RuntimeError("the handler reads the trainer: call handlers.loader.with_trainer")
        return self._trainer

    @trainer.setter
    def trainer(self, trainer: Trainer | None) -> None:
        self._trainer = trainer

    @property
    def db(self) -> Database:
        return self.bot_data["db"]  # type: ignore[no-any-return]

    @property
    def i18n(self) -> I18n:
        return self.bot_data["i18n"]  # type: ignore[no-any-return]

    @property
    def settings(self) -> Settings:
        return self.bot_data["settings"]  # type: ignore[no-any-return]

    @property
    def zones(self) -> ZoneIndex:
        return self.bot_data["zones"]  # type: ignore[no-any-return]

    @property
    def catalog(self) -> Catalog:
        return self.bot_data["catalog"]  # type: ignore[no-any-return]

    def now(self) -> datetime:
        """The application's clock (tests move it with `bot_data["clock"]`; nobody sleeps)."""
        clock = self.bot_data.get("clock")
        return clock() if clock is not None else datetime.now(UTC)

    @property
    def prefs(self) -> Prefs:
        """The trainer's reminder settings (the operator's defaults before /start)."""
        from storage.nudges import prefs_of

        default_zone = self.settings.default_time_zone
        if self.trainer is None:
            return Prefs(default_zone, 9)
        return prefs_of(self.trainer, default_zone)

    def standing(
        self, holding: Holding, earned: Sequence[Earned], recorded: Collection[str] = ()
    ) -> Standing:
        """A credential's one standing now, for this trainer."""
        return standing_of(holding, earned, self.prefs, self.now(), recorded)

    def today(self) -> date:
        """Today in the trainer's time zone (the operator's default until they pick one)."""
        return local_today(self.trainer, self.settings.default_time_zone, self.now())

    @property
    def tr(self) -> Translator:
        """The user's translator (set by the loader; the default language before that)."""
        return self._translator or self.i18n.translator(None)

    def use_language(self, language: str) -> None:
        self._translator = self.i18n.translator(language)

    def gettext(self, message: str) -> str:
        return self.tr.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.tr.ngettext(singular, plural, count)
