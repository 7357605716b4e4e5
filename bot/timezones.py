"""Turning what a person types or shares into an IANA time zone. Pure, apart from data files
read once by `ZoneIndex.build` and `zone_at` (call those off the event loop)."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from babel import Locale
from babel.dates import get_timezone_location

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


def _fold(text: str) -> str:
    """Case, accents and separators folded, so `sao paulo` finds `São Paulo`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-'’.]+", " ", without_marks).strip()


@dataclass(frozen=True)
class ZoneIndex:
    """City names (from IANA ids and from CLDR in each shipped language) to zones."""

    names: dict[str, tuple[str, ...]]

    @classmethod
    def build(cls, languages: Iterable[str]) -> ZoneIndex:
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
                names.setdefault(_fold(spelling), set()).add(zone)
        return cls({name: tuple(sorted(zones)) for name, zones in names.items()})

    def lookup(self, text: str, limit: int = 6) -> list[str]:
        """Zones whose city is named `text`; failing that, whose name starts with it."""
        offset_zone = zone_for_offset(text)
        if offset_zone:
            return [offset_zone]
        query = _fold(text)
        if len(query) < 2:
            return []
        if query in self.names:
            return list(self.names[query])[:limit]
        found: list[str] = []
        for name in sorted(self.names):
            if name.startswith(query) and len(query) >= 3:
                found.extend(zone for zone in self.names[name] if zone not in found)
            if len(found) >= limit:
                break
        return found[:limit]


def zone_at(latitude: float, longitude: float) -> str | None:
    """The zone at a shared location. Loads timezonefinder's data: call off the event loop."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    from timezonefinder import TimezoneFinder  # heavy: imported only when someone shares

    zone = TimezoneFinder().timezone_at(lng=longitude, lat=latitude)
    return zone if zone and is_valid_zone(zone) else None
