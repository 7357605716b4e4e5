"""/log: both forms, proofs, undo, bad amounts and the bodies' fine print."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.offline import Person
from scheduler.cycles import Cycle
from storage import credentials
from storage.models import Credit
from tests.conftest import Bot
from tests.helpers import nsca_now, onboard

# onboard() picks the first suggested city: for English, New York. "Today" is the trainer's.
TODAY = datetime.now(ZoneInfo("America/New_York")).date()


async def give(
    bot: Bot,
    person: Person,
    catalog_id: str,
    start: date,
    end: date,
    units: str | None,
    certified: date | None = None,
) -> int:
    saved = await bot.db.run(
        lambda s: credentials.add(
            s,
            person.id,
            Cycle(start, end, Decimal(units) if units else None),
            catalog_id=catalog_id,
            certified_on=certified,
        )
    )
    assert saved.id is not None
    return saved.id


async def stored_credits(bot: Bot, credential_id: int) -> list[Credit]:
    from sqlmodel import select

    return await bot.db.run(
        lambda s: list(s.exec(select(Credit).where(Credit.credential_id == credential_id)))
    )


async def test_one_liner_in_units_and_hours_with_undo(bot: Bot) -> None:
    ana = bot.person("Ana")
    await onboard(ana, "✓ English")
    await ana.send("/log 0.5 Webinar")
    assert "no credentials that take credits" in ana.last_text
    nasm = await give(
        bot, ana, "nasm-cpt", TODAY - timedelta(days=300), TODAY + timedelta(days=430), "2.0"
    )
    await ana.send("/log 0.5 Corrective exercise webinar")
    assert "Logged 0.5 CEU to NASM-CPT. Now 0.5 CEU of 2 CEU." in ana.last_text
    assert "▰▰▱▱▱▱▱▱▱▱ 25%" in ana.last_text
    await ana.send("/log 5h Kettlebell workshop")  # NASM: 10 hours a CEU
    assert "Logged 0.5 CEU to NASM-CPT. Now 1 CEU of 2 CEU." in ana.last_text
    undo_message = ana.last
    await ana.press("Undo")
    assert "Undone: 1 entry removed." in ana.last_text
    data = f"log:undo:{'0' * 32}"
    await ana.press_data(data, undo_message)  # a forged batch: answered, nothing removed
    rows = await stored_credits(bot, nasm)
    assert [(r.units, r.title, r.earned_on) for r in rows] == [
        (Decimal("0.50"), "Corrective exercise webinar", TODAY)
    ]


async def test_undo_twice(bot: Bot) -> None:
    leo = bot.person("Leo")
    await onboard(leo, "✓ English")
    nasm = await give(
        bot, leo, "nasm-cpt", TODAY - timedelta(days=30), TODAY + timedelta(days=700), "2.0"
    )
    await leo.send("/log 1 Course")
    message = leo.last
    callback = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await leo.press("Undo")
    await leo.press_data(callback, message)
    answer = list(bot.api.answered_callbacks.values())[-1]
    assert answer["text"] == "Already undone." and answer["show_alert"]
    assert await stored_credits(bot, nasm) == []


async def test_bad_amounts(bot: Bot) -> None:
    eva = bot.person("Eva")
    await onboard(eva, "✓ English")
    nasm = await give(
        bot, eva, "nasm-cpt", TODAY - timedelta(days=30), TODAY + timedelta(days=700), "2.0"
    )
    for typed in (
        "/log 0 Nothing",
        "/log -1 Negative",
        "/log 1e9 Huge",
        "/log 1000000 Big",
        "/log abc Words",
        "/log NaN x",
    ):
        await eva.send(typed)
        assert "is not an amount I can log" in eva.last_text, typed
        await eva.press("Cancel")
    await eva.send("/log")
    await eva.send("999999")
    assert "is not an amount" in eva.last_text
    await eva.send("1.5")
    assert "When did you earn it" in eva.last_text
    await eva.send("12/31/2099")
    assert "in the future" in eva.last_text
    await eva.press("Cancel")
    assert await stored_credits(bot, nasm) == []


async def test_guided_flow_with_proof_toward_two_credentials(bot: Bot) -> None:
    kim = bot.person("Kim")
    await onboard(kim, "✓ English")
    nasm = await give(
        bot, kim, "nasm-cpt", TODAY - timedelta(days=100), TODAY + timedelta(days=600), "2.0"
    )
    acsm = await give(
        bot, kim, "acsm-cpt", TODAY - timedelta(days=100), TODAY + timedelta(days=900), "45"
    )
    await kim.send("/log")
    await kim.send("8 hours")
    assert "Which credentials" in kim.last_text
    await kim.press("NASM-CPT")
    assert "✓ NASM-CPT" in kim.buttons
    await kim.press("ACSM-CPT")
    await kim.press("Done")
    await kim.press("Yesterday")
    await kim.send("Functional training summit")
    await kim.send("FitEd Inc.")
    await kim.send("120,50")
    assert "photo or a PDF" in kim.last_text
    await kim.send_sticker()
    assert "has to be a photo or a PDF" in kim.last_text
    await kim.send_document(b"PK", "cert.docx", "application/msword")
    assert "has to be a photo or a PDF" in kim.last_text
    await kim.send_photo(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, caption=None)
    text = kim.last_text
    assert "Logged 0.8 CEU to NASM-CPT" in text and "Logged 8 CEC to ACSM-CPT" in text
    [n] = await stored_credits(bot, nasm)
    [a] = await stored_credits(bot, acsm)
    assert (n.units, a.units) == (Decimal("0.80"), Decimal("8.00"))
    assert n.batch == a.batch and n.proof_kind == "photo" and n.proof_file_id
    assert (n.earned_on, n.provider, n.cost) == (
        TODAY - timedelta(days=1),
        "FitEd Inc.",
        Decimal("120.50"),
    )


async def test_proof_sent_alone_and_with_a_caption(bot: Bot) -> None:
    zoe = bot.person("Zoe")
    await onboard(zoe, "✓ English")
    nasm = await give(
        bot, zoe, "nasm-cpt", TODAY - timedelta(days=100), TODAY + timedelta(days=600), "2.0"
    )
    await zoe.send_document(b"%PDF-1.7", "cec.pdf", "application/pdf")
    assert "Log this certificate?" in zoe.last_text
    await zoe.press("Yes, log credits")
    await zoe.send("0.2")
    await zoe.press("Today")
    await zoe.send("Mobility course")
    await zoe.press("Skip")
    await zoe.press("Skip")
    assert "Logged 0.2 CEU" in zoe.last_text  # the proof was there already: not asked again
    await zoe.send_document(
        b"%PDF-1.7", "second.pdf", "application/pdf", caption="/log 0.3 Nutrition basics"
    )
    assert "Logged 0.3 CEU to NASM-CPT. Now 0.5 CEU of 2 CEU." in zoe.last_text
    rows = await stored_credits(bot, nasm)
    assert sorted(r.proof_name for r in rows) == ["cec.pdf", "second.pdf"]


async def test_fine_print(bot: Bot) -> None:
    max_ = bot.person("Max")
    await onboard(max_, "✓ English")
    ace = await give(
        bot, max_, "ace-cpt", TODAY - timedelta(days=100), TODAY + timedelta(days=600), "2.0"
    )
    await max_.send("/log 0.5 Core stability")
    await max_.send("/log 0.5 core  STABILITY")
    assert "ACE does not count the same course twice" in max_.last_text
    await max_.send("/log 2 Big conference")
    assert "0.5 CEC beyond the requirement will not carry over" in max_.last_text
    assert len(await stored_credits(bot, ace)) == 2

    await max_.send("/log")
    await max_.send("1")
    await max_.send(f"{(TODAY - timedelta(days=200)):%m/%d/%Y}")  # before the cycle began
    await max_.send("Old course")
    await max_.press("Skip")
    await max_.press("Skip")
    await max_.press("Skip")
    assert "before the current cycle began" in max_.last_text
    assert "Undo" not in max_.buttons
    assert len(await stored_credits(bot, ace)) == 2


async def test_nsca_category_cap(bot: Bot) -> None:
    ivy = bot.person("Ivy")
    await onboard(ivy, "✓ English")
    # Certified on the first day of the current shared period: its first-year band applies
    # (4.0 CEU owed, category A capped at 3.5), whichever period today falls in.
    period_end, _units = nsca_now(date(2000, 1, 1), TODAY)  # the current period's end
    certified = date(period_end.year - 2, 1, 1)
    nsca = await give(bot, ivy, "nsca-cscs", certified, period_end, "4.0", certified=certified)
    await ivy.send("/log 3 National conference")
    assert "Which NSCA category" in ivy.last_text
    await ivy.press("A: events, conferences")
    await ivy.send("/log 1 Regional clinic")
    await ivy.press("A: events, conferences")
    assert "category A is capped, so 0.5 CEU of it is left out" in ivy.last_text
    assert "Now 3.5 CEU of 4 CEU" in ivy.last_text
    rows = await stored_credits(bot, nsca)
    assert sorted(r.category for r in rows) == ["A", "A"]


async def test_a_proof_too_large_is_refused(bot: Bot) -> None:
    ola = bot.person("Ola")
    await onboard(ola, "✓ English")
    nasm = await give(
        bot, ola, "nasm-cpt", TODAY - timedelta(days=100), TODAY + timedelta(days=600), "2.0"
    )
    huge = b"%PDF" + b"\0" * (21 * 1024 * 1024)  # over the 20 MB a bot may download
    await ola.send_document(huge, "scan.pdf", "application/pdf")
    assert "too large" in ola.last_text
    await ola.send_document(huge, "scan.pdf", "application/pdf", caption="/log 0.5 Course")
    assert "too large" in ola.last_text
    assert await stored_credits(bot, nasm) == []


async def test_nsca_caps_after_the_period_rolls_over(bot: Bot) -> None:
    """Certified in an earlier period: the full requirement's caps (A 5.5), not the band of
    the period they certified in."""
    ivy = bot.person("Ivo")
    await onboard(ivy, "✓ English")
    period_end, _units = nsca_now(date(2000, 1, 1), TODAY)  # the current period's end
    period_start = date(period_end.year - 2, 1, 1)
    certified = date(period_start.year - 2, 3, 1)  # during the previous period
    await give(bot, ivy, "nsca-cscs", period_start, period_end, "6.0", certified=certified)
    await ivy.send("/log 5 Conferences")
    await ivy.press("A: events, conferences")
    assert "Now 5 CEU of 6 CEU" in ivy.last_text and "capped" not in ivy.last_text


async def test_status_and_log_speak_the_chosen_language_in_fewest_round_trips(bot: Bot) -> None:
    """Telegram says English, the trainer chose Russian: the handler's own read brings the
    trainer, so every answer is Russian, and /status and the one-liner each cost one round
    trip."""
    olga = bot.person("Olga", language_code="en")
    await onboard(olga, "✓ English")
    await olga.send("/language")
    await olga.press("Русский")
    await give(
        bot, olga, "nasm-cpt", TODAY - timedelta(days=300), TODAY + timedelta(days=430), "2.0"
    )

    trips = bot.db.round_trips
    await olga.send("/status")
    assert bot.db.round_trips - trips == 1
    assert olga.last_text.startswith("1 сертификат: 1 с отставанием от графика.")
    assert "Баллы: 0 CEU из 2 CEU" in olga.last_text

    trips = bot.db.round_trips
    await olga.send("/log 0,5 Вебинар")
    assert bot.db.round_trips - trips == 1
    assert olga.last_text.startswith("Записано в NASM-CPT: 0,5 CEU. Теперь 0,5 CEU из 2 CEU.")

    await olga.send("/log abc")  # refused before anything is read for the draft: still Russian
    assert olga.last_text.startswith("Не могу записать «abc»")
    assert "Сколько вы набрали?" in olga.last_text


async def test_a_command_for_another_bot_is_answered_in_the_chosen_language(bot: Bot) -> None:
    olga = bot.person("Olga", language_code="en")
    await onboard(olga, "✓ English")
    await olga.send("/language")
    await olga.press("Русский")
    await olga.send("/help")
    russian_help = olga.last_text
    await olga.send("/status@SomeOtherBot")
    assert "I don't know that command" not in olga.last_text
    assert "/help" in olga.last_text and olga.last_text != russian_help
    await olga.send(f"/status@{bot.api.bot_user['username']}")
    assert olga.last_text.startswith("У вас пока нет")


async def test_credits_count_in_the_window_the_body_allows_after_the_deadline(bot: Bot) -> None:
    """NASM takes CEUs until 90 days after expiry: /log, /status and the stored credit agree,
    and after the window /log says from which date credits stopped counting."""
    zoe = bot.person("Zoe")
    await onboard(zoe, "✓ English")
    deadline = TODAY - timedelta(days=30)
    late = await give(bot, zoe, "nasm-cpt", deadline - timedelta(days=730), deadline, "2.0")
    await zoe.send("/log 0.5 Late webinar")
    assert "Logged 0.5 CEU to NASM-CPT. Now 0.5 CEU of 2 CEU." in zoe.last_text
    assert len(await stored_credits(bot, late)) == 1
    await zoe.send("/status")
    assert "0.5 CEU of 2 CEU" in zoe.last_text

    old = TODAY - timedelta(days=120)
    closed = await give(bot, zoe, "nasm-cpt", old - timedelta(days=730), old, "2.0")
    await bot.db.run(lambda s: credentials.remove(s, zoe.id, late))
    await zoe.send("/log 0.5 Too late")
    window = old + timedelta(days=90)
    assert (
        f"credits earned after {window:%b} {window.day}, {window.year} no longer count"
        in zoe.last_text
    )
    assert await stored_credits(bot, closed) == []


async def test_a_bare_number_toward_units_of_different_hours_asks_which_was_meant(
    bot: Bot,
) -> None:
    """An ACE CEC is 10 hours, an ACSM CEC 1 hour: "2" is asked about before anything is
    saved, and the answer is converted for each body."""
    ida = bot.person("Ida")
    await onboard(ida, "✓ English")
    span = (TODAY - timedelta(days=100), TODAY + timedelta(days=600))
    ace = await give(bot, ida, "ace-cpt", *span, "2.0")
    acsm = await give(bot, ida, "acsm-cpt", *span, "45")
    await ida.send("/log 2 Functional training")
    await ida.press("All of them")
    assert "What did “2” mean?" in ida.last_text
    assert ida.buttons[:3] == ["2 ACSM CEC (2 hours)", "2 ACE CEC (20 hours)", "2 hours"]
    assert await stored_credits(bot, ace) == [] and await stored_credits(bot, acsm) == []
    await ida.send("2")  # typed at a buttons-only step
    assert ida.last_text == "Please tap one of the buttons above."
    await ida.press("2 ACE CEC (20 hours)")
    assert "Logged 2 CEC to ACE-CPT." in ida.last_text
    assert "Logged 20 CEC to ACSM-CPT." in ida.last_text
    [ace_credit] = await stored_credits(bot, ace)
    [acsm_credit] = await stored_credits(bot, acsm)
    assert (ace_credit.units, acsm_credit.units) == (Decimal(2), Decimal(20))

    await ida.send("/log 3 Webinar")
    await ida.press("All of them")
    await ida.press("3 hours")
    assert "Logged 0.3 CEC to ACE-CPT." in ida.last_text
    assert "Logged 3 CEC to ACSM-CPT." in ida.last_text

    await ida.send("/log 4h Seminar")  # hours say it already: nothing to ask
    await ida.press("All of them")
    assert "Logged 0.4 CEC to ACE-CPT." in ida.last_text


async def test_choosing_credentials_ticks_them_in_place(bot: Bot) -> None:
    """The multi-select edits its own message: no new question per tap."""
    uma = bot.person("Uma")
    await onboard(uma, "✓ English")
    span = (TODAY - timedelta(days=100), TODAY + timedelta(days=600))
    await give(bot, uma, "nasm-cpt", *span, "2.0")
    await give(bot, uma, "nasm-ces", *span, None)
    await uma.send("/log 0.5 Mobility course")
    asked = len(uma.inbox)
    await uma.press("NASM-CPT")
    await uma.press("NASM-CES")
    await uma.press("✓ NASM-CES")  # and off again
    assert len(uma.inbox) == asked
    assert uma.buttons[:2] == ["✓ NASM-CPT", "NASM-CES"]
    await uma.send("maybe")  # typed where only buttons answer
    assert uma.last_text == "Please tap one of the buttons above."
    await uma.press("Done")
    assert "Logged 0.5 CEU to NASM-CPT." in uma.last_text
