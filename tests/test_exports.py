"""The take-away files, read back the way their users' programs read them."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from PIL import Image, ImageChops

from handlers.card import CardLine, status_card
from storage.exports import (
    CREDENTIAL_COLUMNS,
    CREDIT_COLUMNS,
    CredentialRow,
    CreditRow,
    Deadline,
    audit_zip,
    credentials_csv,
    credits_csv,
    deadlines_ics,
)

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

CREDENTIAL_HEADERS = [
    "Название",
    "Организация",
    "Номер",
    "Статус",
    "Начало цикла",
    "Конец цикла",
    "Нужно",
    "Набрано",
    "Единица",
    "Льготный период до",
    "После льготного периода",
]
CREDIT_HEADERS = [
    "Credential",
    "Date",
    "Course",
    "Provider",
    "Units",
    "Unit",
    "Cost",
    "Currency",
    "Proof",
]


def _read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to see UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_credentials_csv_round_trips_with_bom_headers_and_cyrillic() -> None:
    rows = [
        CredentialRow(
            name="NASM-CPT",
            body="NASM",
            cycle_start=date(2025, 3, 15),
            cycle_end=date(2027, 3, 15),
            units_required=Decimal("2.00"),
            units_earned=Decimal("1.50"),
            unit_name="CEU",
            number="1234567",
            state="скоро истекает",
            grace_end=date(2028, 3, 14),
            after_grace="Сдать экзамен заново.",
        ),
        CredentialRow(
            name="Сертификат тренера, «Фитнес»",
            body=None,
            cycle_start=date(2024, 1, 1),
            cycle_end=None,
            units_required=None,
            units_earned=Decimal("0"),
            unit_name=None,
            number=None,
            state="активен",
        ),
    ]
    table = _read_csv(credentials_csv(CREDENTIAL_HEADERS, rows))
    assert table[0] == CREDENTIAL_HEADERS
    assert table[1] == [
        "NASM-CPT",
        "NASM",
        "1234567",
        "скоро истекает",
        "2025-03-15",
        "2027-03-15",
        "2",
        "1.5",
        "CEU",
        "2028-03-14",
        "Сдать экзамен заново.",
    ]
    assert table[2] == [
        "Сертификат тренера, «Фитнес»",
        "",
        "",
        "активен",
        "2024-01-01",
        "",
        "",
        "0",
        "",
        "",
        "",
    ]
    assert len(table) == 3


def test_credits_csv_columns_decimals_and_quoting() -> None:
    rows = [
        CreditRow(
            credential="ACE-CPT",
            units=Decimal("0.70"),
            unit_name="CEC",
            earned_on=date(2026, 5, 2),
            title='Kettlebells: "the swing", part 1\nworkshop',
            provider="Школа; Москва",
            cost=Decimal("1250.00"),
            proof="certificate.pdf",
            currency="RUB",
        ),
        CreditRow(
            credential="ACE-CPT",
            units=Decimal("1E+1"),
            unit_name=None,
            earned_on=date(2026, 6, 1),
            title="Conference",
            provider=None,
            cost=None,
            proof=None,
        ),
    ]
    table = _read_csv(credits_csv(CREDIT_HEADERS, rows))
    assert table[0] == CREDIT_HEADERS
    assert table[1] == [
        "ACE-CPT",
        "2026-05-02",
        'Kettlebells: "the swing", part 1\nworkshop',
        "Школа; Москва",
        "0.7",
        "CEC",
        "1250",
        "RUB",
        "certificate.pdf",
    ]
    assert table[2] == ["ACE-CPT", "2026-06-01", "Conference", "", "10", "", "", "", ""]


TEXT_COLUMNS = ("credential", "title", "provider", "unit_name", "currency", "proof")


def test_csv_cells_that_would_run_as_formulas_are_defused() -> None:
    attacks = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx"]
    rows = [
        CreditRow(
            credential=attack,
            units=Decimal("-1.5"),  # numbers are left alone: they are written by us
            unit_name=attack,
            earned_on=date(2026, 1, 1),
            title=attack,
            provider=attack,
            cost=Decimal("-3"),
            proof=attack,
            currency=attack,
        )
        for attack in attacks
    ]
    table = _read_csv(credits_csv(CREDIT_HEADERS, rows))[1:]
    text_columns = [CREDIT_COLUMNS.index(c) for c in TEXT_COLUMNS]
    for attack, row in zip(attacks, table, strict=True):
        assert [row[i] for i in text_columns] == ["'" + attack] * len(TEXT_COLUMNS)
        assert row[CREDIT_COLUMNS.index("earned_on")] == "2026-01-01"
        assert row[CREDIT_COLUMNS.index("units")] == "-1.5"
        assert row[CREDIT_COLUMNS.index("cost")] == "-3"
    # A dash inside a cell is harmless and stays as typed.
    safe = CreditRow("NASM-CPT", Decimal(1), None, date(2026, 1, 1), "A-B", None, None, None)
    assert _read_csv(credits_csv(CREDIT_HEADERS, [safe]))[1][0] == "NASM-CPT"


def test_csv_wants_one_header_per_column() -> None:
    assert len(CREDENTIAL_COLUMNS) == len(CREDENTIAL_HEADERS)
    with pytest.raises(ValueError):
        credentials_csv(CREDENTIAL_HEADERS[:-1], [])
    with pytest.raises(ValueError):
        credits_csv([*CREDIT_HEADERS, "extra"], [])
    assert _read_csv(credits_csv(CREDIT_HEADERS, [])) == [CREDIT_HEADERS]


def _deadlines() -> list[Deadline]:
    return [
        Deadline(
            uid="credential-12-2027-03-15@recert",
            day=date(2027, 3, 15),
            summary="NASM-CPT expires",
            description="2 CEU needed; 1.5 logged, so far.",
            alarms_days_before=(90, 30, 7, 1),
            alarm_text="NASM-CPT expires soon",
        ),
        Deadline(
            uid="credential-14-2026-12-31@recert",
            day=date(2026, 12, 31),
            summary="Сертификат истекает",
            description="Нужно 10 кредитов",
            alarms_days_before=(),
            alarm_text="",
        ),
    ]


def test_ics_has_all_day_events_uids_and_alarms() -> None:
    data = deadlines_ics("Recert — сроки", _deadlines(), NOW)
    calendar = Calendar.from_ical(data)
    assert str(calendar["prodid"]) == "-//Recert//Recert bot//EN"
    assert str(calendar["version"]) == "2.0"
    assert str(calendar["x-wr-calname"]) == "Recert — сроки"

    events = calendar.walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [
        "credential-12-2027-03-15@recert",
        "credential-14-2026-12-31@recert",
    ]
    first, second = events
    # All-day: plain dates, not datetimes, ending the next day.
    start, end = first.decoded("dtstart"), first.decoded("dtend")
    assert type(start) is date and start == date(2027, 3, 15)
    assert type(end) is date and end == date(2027, 3, 16)
    assert b"DTSTART;VALUE=DATE:20270315" in data
    assert first.decoded("dtstamp") == NOW
    assert b"DTSTAMP:20261124T093000Z" in data
    assert str(first["summary"]) == "NASM-CPT expires"
    assert str(first["description"]) == "2 CEU needed; 1.5 logged, so far."

    alarms = first.walk("VALARM")
    assert [a.decoded("trigger") for a in alarms] == [
        timedelta(days=-90),
        timedelta(days=-30),
        timedelta(days=-7),
        timedelta(days=-1),
    ]
    for alarm in alarms:
        assert str(alarm["action"]) == "DISPLAY"
        assert str(alarm["description"]) == "NASM-CPT expires soon"
        assert alarm["trigger"].params.get("RELATED", "START") == "START"

    assert second.decoded("dtstart") == date(2026, 12, 31)
    assert second.decoded("dtend") == date(2027, 1, 1)
    assert str(second["summary"]) == "Сертификат истекает"
    assert second.walk("VALARM") == []


def test_ics_stamps_in_utc_and_refuses_a_naive_clock() -> None:
    moscow = datetime(2026, 11, 24, 15, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    assert b"DTSTAMP:20261124T123000Z" in deadlines_ics("x", _deadlines(), moscow)
    with pytest.raises(ValueError):
        deadlines_ics("x", _deadlines(), NOW.replace(tzinfo=None))


def test_audit_zip_holds_summary_csv_and_sanitized_proofs() -> None:
    csv_data = credits_csv(CREDIT_HEADERS, [])
    proofs = [
        ("certificate.pdf", b"%PDF-1"),
        ("certificate.pdf", b"%PDF-2"),
        ("Certificate.PDF", b"%PDF-3"),
        ("../../etc/passwd", b"root"),
        ("C:\\Users\\anna\\скан..jpg", b"jpeg"),
        ("..", b"dots"),
        ("", b"empty"),
    ]
    data = audit_zip(
        "сводка.txt",
        "Сводка для аудита\nNASM-CPT: 2 CEU\n",
        "credits.csv",
        csv_data,
        proofs,
        modified=datetime(2026, 11, 24, 12, 0),  # noqa: DTZ001 - a zip stores wall time
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == [
            "сводка.txt",
            "credits.csv",
            "proofs/certificate.pdf",
            "proofs/certificate-2.pdf",
            "proofs/Certificate-3.PDF",
            "proofs/passwd",
            "proofs/скан.jpg",
            "proofs/proof",
            "proofs/proof-2",
        ]
        assert archive.read("сводка.txt").decode("utf-8") == "Сводка для аудита\nNASM-CPT: 2 CEU\n"
        assert archive.read("credits.csv") == csv_data
        contents = [archive.read(name) for name in names[2:]]
        assert contents == [data for _, data in proofs]
        for info in archive.infolist():
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.date_time == (2026, 11, 24, 12, 0, 0)
            assert ".." not in info.filename and "\\" not in info.filename
            assert not info.filename.startswith("/")


def test_audit_zip_without_proofs() -> None:
    data = audit_zip("summary.txt", "Nothing logged yet.", "credits.csv", b"x", [])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["summary.txt", "credits.csv"]


def _line(name: str = "NASM-CPT", tone: str = "ok") -> CardLine:
    return CardLine(
        name=name,
        detail="expires 15 Mar 2027 · in 476 days",
        state="active",
        tone=tone,
        progress=0.75,
        progress_text="1.5 of 2 CEU",
    )


def _open(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image


def test_status_card_is_a_png_that_grows_with_its_lines() -> None:
    one = _open(status_card("Your certifications", "Anna · 24 Nov 2026", [_line()]))
    three = _open(
        status_card(
            "Your certifications",
            "Anna · 24 Nov 2026",
            [_line(), _line("ACE-CPT", "soon"), _line("NSCA-CSCS", "expired")],
        )
    )
    empty = _open(status_card("Your certifications", "Nothing yet", []))
    assert 850 <= one.width <= 950
    assert one.width == three.width == empty.width
    assert empty.height < one.height < three.height
    assert three.height - one.height == 2 * (one.height - empty.height)


def test_status_card_draws_every_state_and_no_progress() -> None:
    lines = [_line(tone=tone) for tone in ("ok", "soon", "grace", "expired", "something else")] + [
        CardLine("CPR/AED", "expires 2 Feb 2027", "active", "ok", None, "no credits required")
    ]
    image = _open(status_card("Title", "Subtitle", lines)).convert("RGB")
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 16) or []}
    for red_green_blue in ((0x1E, 0x8E, 0x3E), (0xF9, 0xAB, 0x00), (0xD9, 0x30, 0x25)):
        assert red_green_blue in colours


@pytest.mark.parametrize("text", ["Сертификат", "Vencimiento: año, sesión, próximo"])
def test_status_card_renders_cyrillic_and_accents(text: str) -> None:
    """A font without these letters draws each as the same box ("tofu"): the card would then
    equal one with boxes, or with a code point no font has, in their place."""

    def card(title: str) -> Image.Image:
        line = CardLine(title, title, title, "ok", 0.5, title)
        return _open(status_card(title, title, [line])).convert("RGB")

    def differs(a: Image.Image, b: Image.Image) -> bool:
        return a.size != b.size or ImageChops.difference(a, b).getbbox() is not None

    def replaced(by: str) -> str:
        return "".join(ch if ch.isascii() else by for ch in text)

    assert differs(card(text), card(replaced("□"))), "drawn as boxes"
    assert differs(card(text), card(replaced("\U0010fffd"))), "drawn as missing glyphs"


def test_status_card_stays_small_for_ten_lines() -> None:
    lines = [
        CardLine(
            name=f"Сертификат тренера № {n} — Vencimiento",
            detail="истекает 15 марта 2027 г. · через 476 дней",
            state=["active", "скоро истекает", "en período de gracia", "expired"][n % 4],
            tone=["ok", "soon", "grace", "expired"][n % 4],
            progress=n / 10,
            progress_text=f"{n} из 10 CEU",
        )
        for n in range(10)
    ]
    png = status_card("Мои сертификаты", "Анна Петрова · 24 ноября 2026 г.", lines)
    assert len(png) < 200_000
    assert _open(png).height > 10 * 100
