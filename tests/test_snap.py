"""Snap to log: certificates (photos, text PDFs, scanned PDFs; English, Spanish, Russian) read
and offered as a prefilled credit; the fine print; what can't be read is asked; renewal cards;
no Tesseract; other chats answered while a large image is read."""

from __future__ import annotations

import asyncio
import threading
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from bench.certificates import (
    draw,
    draw_lines,
    jpeg,
    lines_of,
    png,
    rotated,
    sample,
    scanned_pdf,
    text_pdf,
    unevenly_lit,
)
from bot.offline import Person
from handlers import reader
from storage.models import Credential, Credit
from tests.conftest import Bot
from tests.helpers import nsca_now, onboard
from tests.test_log import TODAY, give, stored_credits

READING = "⏳"  # the prompt says it is reading, in every language


async def card(person: Person, seconds: float = 60) -> str:
    """The prompt once the reading is done (it is edited in place into the card)."""
    for _ in range(int(seconds / 0.05)):
        if READING not in person.last_text:
            return person.last_text
        await asyncio.sleep(0.05)
    raise AssertionError(f"still reading after {seconds} s: {person.last_text!r}")


async def nasm_trainer(bot: Bot, name: str = "Ana") -> tuple[Person, int]:
    ana = bot.person(name)
    await onboard(ana, "✓ English")
    nasm = await give(bot, ana, "nasm-cpt", date(2025, 1, 1), TODAY + timedelta(days=400), "2.0")
    return ana, nasm


async def test_a_photo_read_prefilled_and_logged_in_one_tap(bot: Bot) -> None:
    ana, nasm = await nasm_trainer(bot)
    await give(bot, ana, "ace-cpt", date(2025, 1, 1), TODAY + timedelta(days=400), "2.0")
    photo = jpeg(rotated(draw(sample("en"), layout=1), 2))
    await ana.send_photo(photo)
    assert "Log this certificate?" in ana.last_text and READING in ana.last_text
    text = await card(ana)
    # Two credentials held: the certificate's "Approved by NASM" picks NASM-CPT.
    assert (
        "0.5 CEU · March 15, 2025 · Corrective Exercise Fundamentals · counts toward NASM-CPT?"
        in text
    )
    assert "Provider: Fit Academy" in text and "Course code: NASM-4821" in text
    assert ana.buttons == ["Log it", "Change…", "Cancel"]
    await ana.press("Log it")
    assert "Logged 0.5 CEU to NASM-CPT. Now 0.5 CEU of 2 CEU." in ana.last_text
    [row] = await stored_credits(bot, nasm)
    assert (row.units, row.earned_on, row.title, row.provider, row.course_code) == (
        Decimal("0.50"),
        date(2025, 3, 15),
        "Corrective Exercise Fundamentals",
        "Fit Academy",
        "NASM-4821",
    )
    assert row.proof_kind == "photo" and row.proof_file_id


async def test_change_a_field_before_logging(bot: Bot) -> None:
    ana, nasm = await nasm_trainer(bot)
    await ana.send_document(text_pdf(lines_of(sample("en"))), "cert.pdf", "application/pdf")
    assert "Corrective Exercise Fundamentals" in await card(ana)
    await ana.press("Change…")
    assert ana.buttons == ["Amount", "Date", "Title", "Provider", "Credentials", "Back"]
    await ana.press("Back")
    await ana.press("Change…")
    await ana.press("Title")
    assert "What was the course or event called?" in ana.last_text
    await ana.send("Corrective Exercise, part 1")
    assert "Logged 0.5 CEU to NASM-CPT" in ana.last_text
    [row] = await stored_credits(bot, nasm)
    assert (row.title, row.earned_on, row.proof_name) == (
        "Corrective Exercise, part 1",
        date(2025, 3, 15),
        "cert.pdf",
    )


async def test_spanish_text_pdf_and_ace_refuses_a_repeated_course_code(bot: Bot) -> None:
    lucia = bot.person("Lucía", language_code="es")
    await onboard(lucia, "✓ Español", "Madrid")
    ace = await give(bot, lucia, "ace-cpt", date(2025, 1, 1), TODAY + timedelta(days=400), "2.0")
    spec = sample("es")
    await lucia.send_document(text_pdf(lines_of(spec)), "certificado.pdf", "application/pdf")
    text = await card(lucia)
    # "15 horas" is the course's length: never read as a date, and CECs win over hours.
    assert "2 CEC · 7 de febrero de 2025 · Fundamentos del entrenamiento funcional" in text
    assert "ACE-CPT" in text
    await lucia.press("Registrarlo")
    assert "ACE-CPT" in lucia.last_text and "Deshacer" in lucia.buttons
    # The same course again under another title: its code names it, and ACE counts it once.
    again = sample("es", title="Entrenamiento funcional (repaso)")
    await lucia.send_document(text_pdf(lines_of(again)), "otra-vez.pdf", "application/pdf")
    assert "Entrenamiento funcional (repaso)" in await card(lucia)
    await lucia.press("Registrarlo")
    assert "ACE no cuenta el mismo curso dos veces" in lucia.last_text
    rows = await stored_credits(bot, ace)
    assert [(r.title, r.course_code) for r in rows] == [
        ("Fundamentos del entrenamiento funcional", "ACE-77120")
    ]


async def test_russian_scanned_pdf_asks_nscas_category(bot: Bot) -> None:
    ivan = bot.person("Иван", language_code="ru")
    await onboard(ivan, "✓ Русский", "Москва")
    period_end, _owed = nsca_now(TODAY, TODAY)
    certified = date(2024, 1, 1)
    nsca = await give(bot, ivan, "nsca-cscs", certified, period_end, "6.0", certified=certified)
    scan = scanned_pdf(draw(sample("ru"), layout=2, font=1))
    await ivan.send_document(scan, "скан.pdf", "application/pdf")
    text = await card(ivan)
    assert "1,5 CEU · 21 апреля 2025" in text
    assert "Основы силовой подготовки · " in text and "CSCS" in text
    await ivan.press("Записать")
    # NSCA caps categories: which one is asked, never guessed.
    await ivan.press_data("log:c:D", ivan.last)
    [row] = await stored_credits(bot, nsca)
    assert (row.units, row.earned_on, row.category, row.provider) == (
        Decimal("1.50"),
        date(2025, 4, 21),
        "D",
        "Фитнес Академия",
    )


async def test_what_cannot_be_read_surely_is_asked(bot: Bot) -> None:
    ana, nasm = await nasm_trainer(bot)
    # Two dates, neither labelled: which one was the course's is not guessed.
    lines = [
        "CERTIFICATE",
        "has successfully completed",
        "Kettlebell Basics",
        "03/04/2025      05/06/2025",
        "Awarded: 0.4 CEU",
    ]
    await ana.send_photo(png(draw_lines(lines)))
    text = await card(ana)
    assert "0.4 CEU · Kettlebell Basics · counts toward NASM-CPT?" in text
    assert "I couldn't read the date for sure: I'll ask." in text
    assert ana.buttons == ["Continue", "Change…", "Cancel"]
    await ana.press("Continue")
    assert "When did you earn it?" in ana.last_text
    await ana.press("Yesterday")
    assert "Logged 0.4 CEU to NASM-CPT" in ana.last_text
    [row] = await stored_credits(bot, nasm)
    assert (row.earned_on, row.title, row.provider) == (
        TODAY - timedelta(days=1),
        "Kettlebell Basics",
        None,
    )


async def test_cancel_on_the_card_logs_nothing(bot: Bot) -> None:
    ana, nasm = await nasm_trainer(bot)
    await ana.send_photo(png(draw(sample("en"))))
    await card(ana)
    await ana.press("Cancel")
    assert "Cancelled: nothing was logged." in ana.last_text
    assert await stored_credits(bot, nasm) == []


async def test_a_renewal_card_sets_the_new_expiry(bot: Bot) -> None:
    ana, nasm = await nasm_trainer(bot)
    await ana.send("/credentials")
    await ana.press(next(b for b in ana.buttons if "NASM-CPT" in b))
    await ana.press("Edit dates")
    assert "or send a photo or PDF of the card" in ana.last_text
    renewal = sample("en", title="Certified Personal Trainer", expires_on=date(2029, 3, 31))
    await ana.send_photo(jpeg(draw(renewal, layout=1)))
    text = await card(ana)
    assert "The card says it is valid until March 31, 2029. Is that the new expiry date?" in text
    await ana.press("Yes, use it")
    assert "Dates updated: NASM-CPT is now valid until March 31, 2029." in ana.last_text
    credential = await bot.db.run(lambda s: s.get(Credential, nasm))
    assert credential.cycle_end == date(2029, 3, 31)
    await ana.send("hello")  # the edit is over: text is no longer taken as a date
    assert "Dates updated" not in ana.last_text


async def test_without_tesseract_the_bot_says_so_once_and_keeps_the_proof(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "tesseract_binary", lambda: None)
    ana, nasm = await nasm_trainer(bot)
    replies = await ana.send_photo(png(draw(sample("en"))))
    assert "can't read certificates on this server" in replies[0]["text"]
    assert replies[-1]["text"] == "Log this certificate?"
    replies = await ana.send_photo(png(draw(sample("en"))))
    assert [r["text"] for r in replies] == ["Log this certificate?"]  # said once
    await ana.press("Yes, log credits")
    await ana.send("0.5")
    await ana.press("Today")
    await ana.send("Corrective Exercise Fundamentals")
    await ana.press("Skip")
    await ana.press("Skip")
    assert "Logged 0.5 CEU to NASM-CPT" in ana.last_text
    [row] = await stored_credits(bot, nasm)
    assert row.proof_kind == "photo" and row.proof_file_id
    # A PDF with text needs no OCR: still read.
    await ana.send_document(text_pdf(lines_of(sample("en"))), "cert.pdf", "application/pdf")
    assert "Corrective Exercise Fundamentals" in await card(ana)


async def test_other_chats_are_answered_while_a_large_image_is_read(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, nasm = await nasm_trainer(bot)
    ben = bot.person("Ben")
    await onboard(ben, "✓ English")
    # The reading waits, in its worker thread, until Ben has been answered: were the event
    # loop held by it, Ben would never be, and the reading would time out.
    answered = threading.Event()
    real = reader.read_file

    def slow_read(*args: Any) -> Any:
        assert answered.wait(30), "other chats were not answered during the reading"
        return real(*args)

    monkeypatch.setattr(reader, "read_file", slow_read)
    large = draw(sample("en"), width=5000)
    assert large.size[0] * large.size[1] > 30_000_000
    await ana.send_photo(png(large))
    assert READING in ana.last_text
    await ben.send("/help")
    assert "/add" in ben.last_text
    assert READING in ana.last_text  # still reading
    answered.set()
    assert "Corrective Exercise Fundamentals" in await card(ana)
    await ana.press("Log it")
    rows = await bot.db.run(
        lambda s: list(s.exec(select(Credit).where(Credit.credential_id == nasm)))
    )
    assert [r.title for r in rows] == ["Corrective Exercise Fundamentals"]


async def test_files_that_are_not_certificates(bot: Bot) -> None:
    ana, _nasm = await nasm_trainer(bot)
    await ana.send_photo(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert await card(ana) == "I couldn't read it. Log this certificate?"
    await ana.send_document(b"%PDF-1.4 junk", "x.pdf", "application/pdf")
    assert await card(ana) == "I couldn't read it. Log this certificate?"
    await ana.press("Yes, log credits")
    assert "How much did you earn?" in ana.last_text


async def until(person: Person, words: str, seconds: float = 60) -> str:
    for _ in range(int(seconds / 0.05)):
        if words in person.last_text:
            return person.last_text
        await asyncio.sleep(0.05)
    raise AssertionError(f"{words!r} never came; last: {person.last_text!r}")


async def test_a_proof_at_the_last_step_of_log_is_read_for_its_course_code(bot: Bot) -> None:
    max_ = bot.person("Max")
    await onboard(max_, "✓ English")
    ace = await give(bot, max_, "ace-cpt", date(2025, 1, 1), TODAY + timedelta(days=400), "2.0")
    spec = sample("en", body="ACE", code="ACE-5521", unit_word="CEC", kind="cec")
    certificate = text_pdf(lines_of(spec))
    await max_.send_document(certificate, "first.pdf", "application/pdf")
    await card(max_)
    await max_.press("Log it")
    assert "Logged 0.5 CEC to ACE-CPT" in max_.last_text
    # Step by step, under another title: the proof, read after logging, names the same course.
    await max_.send("/log")
    await max_.send("0.5")
    await max_.press("Yesterday")
    await max_.send("Corrective exercise refresher")
    await max_.press("Skip")
    await max_.press("Skip")
    await max_.send_document(certificate, "again.pdf", "application/pdf")
    assert "Logged 0.5 CEC to ACE-CPT" in max_.last_text
    text = await until(max_, "counts a course once")
    assert "the course code ACE-5521 on this certificate was logged for ACE-CPT before" in text
    await max_.press("Undo")
    rows = await stored_credits(bot, ace)
    assert [(r.title, r.course_code) for r in rows] == [
        ("Corrective Exercise Fundamentals", "ACE-5521")
    ]


async def test_two_files_back_to_back_are_read_one_after_the_other(bot: Bot) -> None:
    ana, nasm = await nasm_trainer(bot)
    await ana.send_photo(png(draw(sample("en", title="Kettlebell Basics"))))
    first = ana.last
    await ana.send_photo(png(draw(sample("en"))))
    assert "Corrective Exercise Fundamentals" in await card(ana)
    for _ in range(400):  # the first one's reading ends too, and says so
        if READING not in first["text"]:
            break
        await asyncio.sleep(0.05)
    assert first["text"] == "Log this certificate?" and "reply_markup" not in first
    await ana.press("Log it")
    [row] = await stored_credits(bot, nasm)
    assert row.title == "Corrective Exercise Fundamentals"


@pytest.mark.parametrize(
    ("language", "form"),
    [("es", "photo"), ("ru", "photo"), ("ru", "text-pdf"), ("en", "scanned-pdf")],
)
async def test_each_language_as_photo_and_pdf(bot: Bot, language: str, form: str) -> None:
    buttons = {"en": "✓ English", "es": "✓ Español", "ru": "✓ Русский"}
    cities = {"en": "", "es": "Madrid", "ru": "Москва"}
    person = bot.person("Kim", language_code=language)
    await onboard(person, buttons[language], cities[language])
    spec = sample(language)
    catalog_id = {"NASM": "nasm-cpt", "ACE": "ace-cpt", "NSCA": "nsca-cpt"}[spec.body]
    credential = await give(
        bot, person, catalog_id, date(2025, 1, 1), date(2026, 12, 31), "2.0", date(2025, 1, 1)
    )
    page = draw(spec, layout=2, font=1)
    if form == "photo":
        await person.send_photo(jpeg(unevenly_lit(page)))
    else:
        data = text_pdf(lines_of(spec)) if form == "text-pdf" else scanned_pdf(page)
        await person.send_document(data, "certificate.pdf", "application/pdf")
    text = await card(person)
    assert spec.title in text and spec.provider in text
    await person.press_data("log:proof:save", person.last)
    if "log:c:D" in str(person.last.get("reply_markup")):  # NSCA: the category is asked
        await person.press_data("log:c:D", person.last)
    [row] = await stored_credits(bot, credential)
    assert (row.units, row.earned_on, row.title, row.course_code) == (
        spec.units,
        spec.completed_on,
        spec.title,
        spec.code,
    )


async def test_a_new_file_takes_the_buttons_off_the_card_before(bot: Bot) -> None:
    ana, nasm = await nasm_trainer(bot)
    first = text_pdf(lines_of(sample("en", title="Kettlebell Basics")))
    await ana.send_document(first, "first.pdf", "application/pdf")
    await card(ana)
    first_card = ana.last
    await ana.send_document(text_pdf(lines_of(sample("en"))), "second.pdf", "application/pdf")
    assert "Corrective Exercise Fundamentals" in await card(ana)
    assert "reply_markup" not in first_card  # its "Log it" would have logged the second file
    await ana.press("Log it")
    [row] = await stored_credits(bot, nasm)
    assert (row.title, row.proof_name) == ("Corrective Exercise Fundamentals", "second.pdf")
