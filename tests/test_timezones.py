"""Turning what people type or share into time zones."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

import bot
from bot.gazetteer import fold
from bot.timezones import ZoneIndex, is_valid_zone, zone_at, zone_for_offset


@pytest.fixture(scope="module")
def zones() -> ZoneIndex:
    return ZoneIndex.build(["en", "es", "ru"])


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("UTC+3", "Etc/GMT-3"),
        ("gmt-4", "Etc/GMT+4"),
        ("+5:30", "Asia/Kolkata"),
        ("UTC", "UTC"),
        ("+0", "UTC"),
        ("utc +14", "Etc/GMT-14"),
        ("−5", "Etc/GMT+5"),
    ],
)
def test_offsets(typed: str, zone: str) -> None:
    assert zone_for_offset(typed) == zone


@pytest.mark.parametrize("typed", ["UTC+15", "-13", "+5:17", "Madrid", "", "+"])
def test_not_offsets(typed: str) -> None:
    assert zone_for_offset(typed) is None


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Madrid", "Europe/Madrid"),
        ("москва", "Europe/Moscow"),
        ("Nueva York", "America/New_York"),
        ("sao paulo", "America/Sao_Paulo"),
        ("Europe/Berlin", "Europe/Berlin"),
        ("Los Angeles", "America/Los_Angeles"),
    ],
)
def test_cities_in_any_shipped_language(zones: ZoneIndex, typed: str, zone: str) -> None:
    assert zones.lookup(typed) == [zone]


def test_unknown_and_ambiguous(zones: ZoneIndex) -> None:
    assert zones.lookup("Narnia") == []
    assert zones.lookup("x") == []
    several = zones.lookup("Springfield")  # Illinois, Massachusetts, Oregon
    assert several == ["America/Chicago", "America/New_York", "America/Los_Angeles"]
    starting = zones.lookup("Barc")  # no city is called that: those whose name starts so
    assert starting[0] == "Europe/Madrid" and 1 < len(starting) <= 6


def _table() -> list[tuple[str, str]]:
    path = Path(__file__).parent / "cities200.tsv"
    lines = path.read_text("utf-8").splitlines()
    return [(line.split("\t")[0], line.split("\t")[1]) for line in lines if line[0] != "#"]


def test_the_table_has_200_cities_50_typed_in_spanish_or_russian() -> None:
    table = _table()
    assert len(table) == 200 and len({typed for typed, _ in table}) == 200
    cyrillic = [typed for typed, _ in table if re.search("[а-яё]", typed, re.IGNORECASE)]
    spanish = {"Londres", "Nueva York", "Ciudad de México", "Múnich", "Colonia", "Moscú"}
    spanish |= {"San Petersburgo", "Pekín", "Ginebra", "Estocolmo", "Varsovia", "Atenas"}
    spanish |= {"Lisboa", "Sevilla", "Nueva Orleans", "Filadelfia", "Bruselas", "Copenhague"}
    assert len(cyrillic) + len(spanish & {typed for typed, _ in table}) == 50


@pytest.mark.parametrize(("typed", "zone"), _table())
def test_200_cities_resolve_to_their_zone(zones: ZoneIndex, typed: str, zone: str) -> None:
    """The zone is taken at once, or is the first of the places offered."""
    places = zones.suggest(typed)
    assert places and places[0].zone == zone
    assert len({place.zone for place in places}) == len(places)  # no duplicate suggestions


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Houston", "America/Chicago"),
        ("Mumbai", "Asia/Kolkata"),
        ("Medellín", "America/Bogota"),
        ("medellin", "America/Bogota"),
        ("Санкт-Петербург", "Europe/Moscow"),
        ("Сочи", "Europe/Moscow"),
        ("Kazan", "Europe/Moscow"),  # not the Turkish town of 24,000
        ("Kazan, TR", "Europe/Istanbul"),
        ("Казань", "Europe/Moscow"),
        ("Barcelona, Venezuela", "America/Caracas"),
        ("Pekín", "Asia/Shanghai"),  # not Pekin, Illinois
    ],
)
def test_cities_that_failed_resolve_at_once(zones: ZoneIndex, typed: str, zone: str) -> None:
    assert zones.lookup(typed) == [zone]


def test_a_city_of_two_countries_offers_both_biggest_first(zones: ZoneIndex) -> None:
    places = zones.suggest("barcelona")
    assert [(p.name, p.country, p.zone) for p in places] == [
        ("Barcelona", "ES", "Europe/Madrid"),
        ("Barcelona", "VE", "America/Caracas"),
    ]


def test_no_legacy_alias_zones_are_offered(zones: ZoneIndex) -> None:
    """IANA's old names (Asia/Calcutta, Europe/Kiev) used to come back as extra choices."""
    assert zones.lookup("Kolkata") == ["Asia/Kolkata"]
    assert zones.lookup("Киев") == ["Europe/Kyiv"]
    assert zones.lookup("Toronto") == ["America/Toronto"]


def test_the_shipped_table_is_folded_and_licensed() -> None:
    """tools/make_gazetteer.py folds the names; a changed `fold` needs the table again."""
    data = Path(bot.__file__).parent / "geonames"
    assert "CC BY 4.0" in (data / "LICENSE-GeoNames.txt").read_text("utf-8")
    text = gzip.decompress((data / "cities15000.tsv.gz").read_bytes()).decode()
    head, index = text.split("\n%%\n")
    lines = head.splitlines()
    assert "CC BY 4.0" in lines[0]
    cities = lines[1:]
    assert len(cities) > 30_000
    for line in cities[::97]:
        zone, country, population, name, folded = line.split("\t")
        assert is_valid_zone(zone) and len(country) == 2 and int(population) >= 15_000
        assert fold(name) == folded
    names = [line.split("\t") for line in index.splitlines()]
    assert len(names) > 200_000
    keys = [key.encode() for key, _cities in names]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # the loader bisects them
    for key, numbers in names[::97]:
        assert fold(key) == key
        named = [int(n) for n in numbers.split()]
        assert named and all(0 <= n < len(cities) for n in named)
        assert named == sorted(named)  # most populous first, as the cities are


def test_location() -> None:
    assert zone_at(40.4168, -3.7038) == "Europe/Madrid"
    assert zone_at(55.75, 37.62) == "Europe/Moscow"
    assert zone_at(123.0, 0.0) is None
