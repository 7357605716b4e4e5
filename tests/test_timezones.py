"""Turning what people type or share into time zones."""

from __future__ import annotations

import pytest

from bot.timezones import ZoneIndex, zone_at, zone_for_offset


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
    assert zones.lookup("Atlantis") == []
    assert zones.lookup("x") == []
    several = zones.lookup("san")
    assert 1 < len(several) <= 6
    assert all(zone.startswith(("America/", "Asia/", "Europe/", "Pacific/")) for zone in several)


def test_location() -> None:
    assert zone_at(40.4168, -3.7038) == "Europe/Madrid"
    assert zone_at(55.75, 37.62) == "Europe/Moscow"
    assert zone_at(123.0, 0.0) is None
