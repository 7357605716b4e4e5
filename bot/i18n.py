"""Per-user translations and locale formatting with Babel.

Catalogs are compiled from the shipped `.po` files once, at start-up, so a fresh clone needs no
build step. A `Translator` is picked per update (or per scheduled job) and never stored in a
global, so concurrent users never see each other's language.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from importlib import resources
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import (
    DateTimePattern,
    format_datetime,
    format_time,
    get_date_format,
    get_timezone_location,
)
from babel.dates import parse_pattern as parse_date_pattern
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    NumberPattern,
    format_currency,
    get_currency_name,
    get_currency_symbol,
    list_currencies,
    parse_pattern,
)
from babel.support import Translations

LANGUAGES: tuple[str, ...] = ("en", "es", "ru")
# The language each language's own name is shown in, for the /language picker.
LANGUAGE_NAMES: Mapping[str, str] = {"en": "English", "es": "Español", "ru": "Русский"}
# Formatted dates, times and numbers kept per language (each a short string): the same few
# recur on every screen. Bounded (at most 2,048 x 5 formatters x 3 languages, some 5 MB: about
# six years of days per format),
# so memory does not grow with the dates users bring.
FORMATTED_MOST = 2048
Day = date  # `date` inside Translator is its method


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, when it is shown."""
    return message


def locales_dir() -> Path:
    return Path(str(resources.files("locales")))


def compile_catalog(po_path: Path, language: str) -> Translations:
    """Read a `.po` file and compile it in memory (fuzzy entries are left out, as msgfmt does)."""
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain="messages")


@dataclass(frozen=True)
class Translator:
    """Everything a message needs to speak one user's language."""

    language: str
    translations: Translations
    locale: Locale = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "locale", Locale.parse(self.language))
        # Babel parses its patterns and walks the locale's data on every call; the results
        # are pure functions of (value, format, zone) for this locale, and the same few dates,
        # hours and amounts come back on every screen: each is worked out once (bounded).
        for name, formatter in (
            ("_date", self._format_date),
            ("_date_time", self._format_date_time),
            ("_clock", self._format_clock),
            ("_number", self._format_number),
            ("_money", self._format_money),
        ):
            object.__setattr__(self, name, functools.lru_cache(maxsize=FORMATTED_MOST)(formatter))

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    _ = gettext

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def date(self, value: date, format: str = "medium") -> str:
        if isinstance(value, datetime):  # as format_date: the date part
            value = value.date()
        return self._date(value, format)  # type: ignore[attr-defined, no-any-return]

    def date_time(self, value: datetime, format: str = "medium", tz: tzinfo | None = None) -> str:
        return self._date_time(value, format, tz)  # type: ignore[attr-defined, no-any-return]

    def clock(
        self, value: datetime | time, format: str = "short", tz: tzinfo | None = None
    ) -> str:
        return self._clock(value, format, tz)  # type: ignore[attr-defined, no-any-return]

    @staticmethod
    def currencies() -> frozenset[str]:
        """Every ISO 4217 code Babel knows."""
        return _CURRENCIES

    def money(self, value: Decimal, currency: str) -> str:
        """An amount with its currency as this locale writes it: $129.00, 120,00 €, 1 500,00 ₽."""
        return self._money(value, currency)  # type: ignore[attr-defined, no-any-return]

    def _format_money(self, value: Decimal, currency: str) -> str:
        # Equal amounts (129 and 129.00) format alike: the currency's own digits are used.
        return format_currency(value, currency, locale=self.locale)

    def money_symbol(self, currency: str) -> str:
        """`$`, `€`, `₽`: the symbol this locale writes the currency with."""
        return str(get_currency_symbol(currency, locale=self.locale))

    def currency_name(self, currency: str) -> str:
        """`US Dollar`, `dólar estadounidense`, `российский рубль`."""
        return str(get_currency_name(currency, locale=self.locale))

    def number(self, value: int | float | Decimal, max_decimals: int = 2) -> str:
        # Keyed by type too: 1, 1.0 and Decimal(1) are equal keys but may format apart.
        return self._number(type(value), value, max_decimals)  # type: ignore[attr-defined, no-any-return]

    def hour(self, hour: int) -> str:
        """An hour of the day as this locale writes times (9 AM, 09:00)."""
        return self._clock(time(hour), "short", None)  # type: ignore[attr-defined, no-any-return]

    def _format_date(self, value: Day, format: str) -> str:
        return _date_pattern(self.locale, format).apply(value, self.locale)

    def _format_date_time(self, value: datetime, format: str, tz: tzinfo | None) -> str:
        return format_datetime(value, format=format, tzinfo=tz, locale=self.locale)

    def _format_clock(self, value: datetime | time, format: str, tz: tzinfo | None) -> str:
        return format_time(value, format=format, tzinfo=tz, locale=self.locale)

    def _format_number(self, _kind: type, value: int | float | Decimal, max_decimals: int) -> str:
        text: str = _number_pattern(max_decimals).apply(value, self.locale)
        return text

    def weekday(self, index: int) -> str:
        """The name of a day of the week (0 is Monday) in this locale: "Monday", "lunes"."""
        return str(self.locale.days["format"]["wide"][index])

    def zone_name(self, zone: str) -> str:
        """A time zone as people of this locale name it: its city, or the zone id."""
        if zone.startswith("Etc/") or zone == "UTC":
            return _utc_offset_label(zone)
        try:
            return str(get_timezone_location(zone, locale=self.locale, return_city=True))
        except (LookupError, ValueError):
            return zone


_CURRENCIES = frozenset(list_currencies())


@functools.cache
def _date_pattern(locale: Locale, format: str) -> DateTimePattern:
    """A locale's date pattern ("long", "medium", ...) or a pattern of its own ("MMM d")
    parsed once, as `format_date` does on every call."""
    if format in ("full", "long", "medium", "short"):
        # One of Babel's four named formats (the check above; mypy cannot narrow str to them).
        return parse_date_pattern(get_date_format(format, locale=locale))  # type: ignore[arg-type]
    return parse_date_pattern(format)


@functools.cache
def _number_pattern(max_decimals: int) -> NumberPattern:
    """Parsed once: Babel parses a pattern string on every `format_decimal` call."""
    return parse_pattern("#,##0" + ("." + "#" * max_decimals if max_decimals else ""))


def _utc_offset_label(zone: str) -> str:
    if zone in ("UTC", "Etc/UTC", "Etc/GMT"):
        return "UTC"
    # Etc/GMT-3 is three hours *ahead* of UTC (POSIX sign convention).
    sign = "+" if "-" in zone else "-"
    return "UTC" + sign + zone.rsplit("-" if sign == "+" else "+", 1)[-1]


class I18n:
    """The shipped catalogs, and the choice of one for a Telegram language tag."""

    def __init__(self, catalogs: Mapping[str, Translations], default: str = "en") -> None:
        missing = [language for language in LANGUAGES if language not in catalogs]
        if missing:
            raise RuntimeError(f"no compiled catalog for shipped language(s): {missing}")
        self.default = default
        self._translators = {
            language: Translator(language, translations)
            for language, translations in catalogs.items()
        }

    @classmethod
    def load(cls, default: str = "en", directory: Path | None = None) -> I18n:
        """Compile every shipped catalog (blocking file reads: call at start-up)."""
        directory = directory or locales_dir()
        catalogs = {}
        for language in LANGUAGES:
            po_path = directory / language / "LC_MESSAGES" / "messages.po"
            if not po_path.is_file():
                raise RuntimeError(f"shipped language {language!r} has no catalog at {po_path}")
            catalogs[language] = compile_catalog(po_path, language)
        return cls(catalogs, default)

    @property
    def languages(self) -> Iterable[str]:
        return self._translators.keys()

    def negotiate(self, tag: str | None) -> str:
        """Telegram's `language_code` (an IETF tag such as `es-419`) to a shipped language."""
        if tag:
            try:
                language = Locale.parse(tag.replace("_", "-"), sep="-").language
            except (UnknownLocaleError, ValueError):
                language = tag.split("-")[0].lower()
            if language in self._translators:
                return language
        return self.default

    def translator(self, language: str | None) -> Translator:
        return self._translators.get(language or "", self._translators[self.default])
