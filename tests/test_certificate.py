"""Understanding a certificate's text (pure): units and kind, dates, title, provider, code,
body, and how sure each reading is."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bench.certificates import lines_of, sample
from scheduler.certificate import Line, Units, same_code, understand

TODAY = date(2026, 12, 2)
BODIES = ("NASM", "ACE", "ACSM", "NSCA", "ISSA")


def read(*texts: str, confidence: float = 1.0, month_first: bool = False):  # type: ignore[no-untyped-def]
    return understand([Line(t, confidence) for t in texts], TODAY, BODIES, month_first)


@pytest.mark.parametrize("language", ["en", "es", "ru"])
def test_every_field_of_a_generated_certificate(language: str) -> None:
    spec = sample(language)
    found = understand([Line(t) for t in lines_of(spec)], TODAY, BODIES)
    assert found.units is not None and found.units.value == Units(spec.units, spec.kind)
    assert found.completed_on is not None and found.completed_on.value == spec.completed_on
    assert found.title is not None and found.title.value == spec.title
    assert found.provider is not None and found.provider.value == spec.provider
    assert found.code is not None and found.code.value == spec.code
    assert found.body is not None and found.body.value == spec.body
    assert all(found.sure(name) for name in ("units", "completed_on", "title", "provider", "body"))


def test_a_duration_is_never_a_date_nor_the_units() -> None:
    found = read("Duración: 15 horas", "Fecha: 3 de mayo de 2025")
    assert found.completed_on is not None and found.completed_on.value == date(2025, 5, 3)
    # Only the course's length in hours is printed: a hint, asked rather than taken.
    assert found.units is not None and found.units.value == Units(Decimal(15), "hours")
    assert not found.units.sure
    assert read("15 horas de contacto").sure("units")


def test_units_in_three_languages_and_cyrillic_look_alikes() -> None:
    assert read("Awarded: 0.5 CEUs").units.value == Units(Decimal("0.5"), "ceu")  # type: ignore[union-attr]
    assert read("2,0 CEC").units.value == Units(Decimal(2), "cec")  # type: ignore[union-attr]
    assert read("Объём: 1,5 \u0421\u0415U").units.value == Units(Decimal("1.5"), "ceu")  # type: ignore[union-attr]
    assert read("12 часов").units.value == Units(Decimal(12), "hours")  # type: ignore[union-attr]
    # The body's own unit wins over the hours it is worth.
    assert read("5 contact hours", "0.5 CEU").units.value.kind == "ceu"  # type: ignore[union-attr]
    # Two amounts of one unit: not sure which.
    assert not read("0.5 CEU", "1.0 CEU").sure("units")


def test_dates_full_and_plausible_only() -> None:
    assert read("Completed March 15, 2025").completed_on.value == date(2025, 3, 15)  # type: ignore[union-attr]
    assert read("Дата: 1 мая 2024 г.").completed_on.value == date(2024, 5, 1)  # type: ignore[union-attr]
    assert read("Completed 2025-03-15").completed_on.value == date(2025, 3, 15)  # type: ignore[union-attr]
    assert read("Completed in March 2025").completed_on is None  # no day: not a date
    assert read("Completed 15 March 2031").completed_on is None  # in the future
    # 03/04/2025: the trainer's convention, and less sure; 15/03/2025 only one way.
    assert read("Date: 03/04/2025", month_first=True).completed_on.value == date(2025, 3, 4)  # type: ignore[union-attr]
    assert read("Date: 03/04/2025").completed_on.value == date(2025, 4, 3)  # type: ignore[union-attr]
    assert read("Date: 15/03/2025", month_first=True).completed_on.value == date(2025, 3, 15)  # type: ignore[union-attr]
    # Two dates and nothing saying which: asked.
    assert not read("03/04/2025  05/06/2025").sure("completed_on")


def test_an_expiry_is_not_a_completion() -> None:
    found = read("Issued: 1 April 2025", "Expires: 31 March 2027")
    assert found.expires_on is not None and found.expires_on.value == date(2027, 3, 31)
    assert found.completed_on is not None and found.completed_on.value == date(2025, 4, 1)
    assert read("Действителен до: 31 марта 2027 г.").expires_on.value == date(2027, 3, 31)  # type: ignore[union-attr]
    assert read("Vence: 31 de marzo de 2027").expires_on.value == date(2027, 3, 31)  # type: ignore[union-attr]


def test_low_ocr_confidence_makes_a_field_unsure() -> None:
    assert read("Awarded: 0.5 CEU", confidence=0.95).sure("units")
    assert not read("Awarded: 0.5 CEU", confidence=0.4).sure("units")


def test_codes_and_bodies() -> None:
    assert read("ACE Course code: 1234-5678").code.value == "1234-5678"  # type: ignore[union-attr]
    assert read("NASM Provider #: NASM-00123").code.value == "NASM-00123"  # type: ignore[union-attr]
    assert read("Course code: none").code is None  # a code has digits
    assert read("Код курса: № 12345").sure("code")  # the number sign, as Russian writes it
    assert not read("Код курса: №5-2025-77").sure("code")  # glued: OCR's misread of "NS"
    assert read("Approved by ACE", "ACE and NASM are bodies").body.value == "ACE"  # type: ignore[union-attr]
    assert not read("NASM or ACE").sure("body")  # two named alike: asked
    assert read("Space program").body is None  # "ACE" inside a word is no body
    assert same_code("ace-77120", "ACE 77120") and not same_code("ACE-1", None)
