"""Turning what a person types or shares into an IANA time zone. Pure, apart from data files
read once by `ZoneIndex.build` and `zone_at` (call those off the event loop)."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from babel import Locale
from babel.dates import get_timezone_location

from bot.gazetteer import Gazetteer, Place, fold

# A few zones per language, offered as buttons before anyone has to type.
SUGGESTED_ZONES: dict[str, tuple[str, ...]] = {
    "en": (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "Europe/London",
        "Australia/Sydney",
    ),
    "es": (
        "Europe/Madrid",
        "America/Mexico_City",
        "America/Bogota",
        "America/Argentina/Buenos_Aires",
        "America/Santiago",
        "America/Lima",
    ),
    "ru": (
        "Europe/Moscow",
        "Europe/Samara",
        "Asia/Yekaterinburg",
        "Asia/Novosibirsk",
        "Asia/Krasnoyarsk",
        "Asia/Vladivostok",
    ),
}

# Offsets that are not whole hours have no Etc/ zone: use the place that keeps them.
_FRACTIONAL_OFFSETS = {
    (-1, 9, 30): "Pacific/Marquesas",
    (-1, 3, 30): "America/St_Johns",
    (1, 3, 30): "Asia/Tehran",
    (1, 4, 30): "Asia/Kabul",
    (1, 5, 30): "Asia/Kolkata",
    (1, 5, 45): "Asia/Kathmandu",
    (1, 6, 30): "Asia/Yangon",
    (1, 8, 45): "Australia/Eucla",
    (1, 9, 30): "Australia/Darwin",
    (1, 10, 30): "Australia/Lord_Howe",
    (1, 12, 45): "Pacific/Chatham",
}
_OFFSET = re.compile(
    r"^(?:utc|gmt)?\s*(?P<sign>[+\-−])\s*(?P<hours>\d{1,2})"
    r"(?:\s*[:.h]?\s*(?P<minutes>\d{2}))?$"
)
_REGIONS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)
_PLAIN_UTC = {"utc", "gmt", "z", "utc+0", "utc-0", "gmt+0", "+0", "0"}


def is_valid_zone(zone: str) -> bool:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder
        return False
    return True


def zone_for_offset(text: str) -> str | None:
    """`UTC+3`, `gmt-4`, `+5:30` to an IANA zone; None when the text is not an offset."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned in _PLAIN_UTC:
        return "UTC"
    match = _OFFSET.match(cleaned)
    if not match:
        return None
    sign = -1 if match["sign"] in "-−" else 1
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    if minutes:
        return _FRACTIONAL_OFFSETS.get((sign, hours, minutes))
    if hours == 0:
        return "UTC"
    if (sign > 0 and hours > 14) or (sign < 0 and hours > 12):
        return None
    # POSIX convention: Etc/GMT-3 is three hours ahead of UTC.
    return f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"


@functools.cache
def _gazetteer() -> Gazetteer:
    """Loaded once per process (it is immutable): about a second, about 20 MB."""
    return Gazetteer.load()


@dataclass(frozen=True)
class ZoneIndex:
    """Names people type to zones: every city of 15,000 people or more (GeoNames, by any of
    its Latin or Cyrillic names), the zones' own cities (IANA ids and CLDR in each shipped
    language), countries by name for "Kazan, Turkey", and UTC offsets."""

    names: dict[str, tuple[str, ...]] = field(repr=False)
    countries: dict[str, str] = field(repr=False)  # folded country name or code -> ISO code
    gazetteer: Gazetteer = field(repr=False)

    @classmethod
    def build(cls, languages: Iterable[str]) -> ZoneIndex:
        """Reads data files: call it off the event loop."""
        locales = [Locale.parse(language) for language in languages]
        names: dict[str, set[str]] = {}
        for zone in zoneinfo.available_timezones():
            if not zone.startswith(_REGIONS):  # skip legacy aliases such as US/ and Brazil/
                continue
            spellings = {zone.rsplit("/", 1)[-1].replace("_", " "), zone}
            for locale in locales:
                try:
                    spellings.add(str(get_timezone_location(zone, locale, return_city=True)))
                except (LookupError, ValueError):
                    continue
            for spelling in spellings:
                names.setdefault(fold(spelling), set()).add(zone)
        countries: dict[str, str] = {}
        for locale in [Locale.parse("en"), *locales]:
            for code, name in locale.territories.items():
                if len(code) == 2 and code.isalpha():  # not regions such as 419
                    countries[fold(name)] = code
                    countries[code.casefold()] = code
        return cls(
            {name: tuple(sorted(zones)) for name, zones in names.items()},
            countries,
            _gazetteer(),
        )

    def suggest(self, text: str, limit: int = 6) -> list[Place]:
        """Places named `text` ("Kazan", "Kazan, Turkey"), one per zone, the likeliest first;
        failing that, places whose name starts with it. The name shown is the one typed."""
        offset_zone = zone_for_offset(text)
        if offset_zone:
            return [Place(text.strip(), "", offset_zone, 0)]
        typed, _comma, country_text = text.partition(",")
        country = self.countries.get(fold(country_text)) if country_text.strip() else None
        if country_text.strip() and country is None:  # "Paris, Texas": not a country we know
            typed = text
        query = fold(typed)
        if len(query) < 2:
            return []
        shown = " ".join(typed.split())
        shown = shown.title() if shown.islower() else shown  # "sao paulo": "Sao Paulo"
        places = [
            Place(shown, place.country, place.zone, place.population)
            for place in self.gazetteer.exact(query, frozenset({country} if country else ()))
        ]
        if not places and not country:  # a zone's id or its CLDR city ("Europe/Berlin")
            places = [Place(shown, "", zone, 0) for zone in self.names.get(query, ())]
        if places:
            return places[:limit]
        if len(query) < 3:
            return []
        return self.gazetteer.starting(query, limit)

    def lookup(self, text: str, limit: int = 6) -> list[str]:
        """The zones of `suggest`."""
        return [place.zone for place in self.suggest(text, limit)]


def zone_at(latitude: float, longitude: float) -> str | None:
    """The zone at a shared location. Loads timezonefinder's data: call off the event loop."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    from timezonefinder import TimezoneFinder  # heavy: imported only when someone shares

    zone = TimezoneFinder().timezone_at(lng=longitude, lat=latitude)
    return zone if zone and is_valid_zone(zone) else None
