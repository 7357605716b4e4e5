"""/history (paged, proofs re-sent, edit, delete), /export (CSV and .ics read back) and
/audit (the ZIP opened and checked)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.offline import Person
from scheduler.cycles import Cycle
from storage import credentials
from tests.conftest import Bot
from tests.helpers import onboard

TODAY = datetime.now(ZoneInfo("America/New_York")).date()
PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (40).to_bytes(4, "big") + (30).to_bytes(4, "big")


async def setup_trainer(bot: Bot, name: str = "Ana") -> tuple[Person, int]:
    person = bot.person(name)
    await onboard(person, "✓ English")
    saved = await bot.db.run(
        lambda s: credentials.add(
            s,
            person.id,
            Cycle(TODAY - timedelta(days=200), TODAY + timedelta(days=500), Decimal("2.0")),
            catalog_id="nasm-cpt",
            number="NASM-55",
        )
    )
    assert saved.id is not None
    return person, saved.id


async def test_history_pages_proof_edit_delete(bot: Bot) -> None:
    ana, _nasm = await setup_trainer(bot)
    for day in range(7):
        await ana.send(f"/log 0.1 Course {day}")
    await ana.send_photo(PNG, caption="/log 0.2 Photo course")
    await ana.send("/history")
    text = ana.last_text
    assert "page 1 of 2" in text and "Photo course 📎" in text
    await ana.press("Older ›")
    assert "page 2 of 2" in ana.last_text
    await ana.press("‹ Newer")
    photo_button = next(b for b in ana.buttons if "Photo course" in b)
    await ana.press(photo_button)
    await ana.press("📎 Send the proof")
    resent = ana.last
    assert "photo" in resent and resent["caption"] == "Photo course"
    await ana.press("Edit credits")
    await ana.send("-3")
    assert "from 0.01 up to 100" in ana.last_text
    await ana.send("0.25")
    assert "Saved." in ana.last_text and "0.25 CEU" in ana.last_text
    await ana.press("Edit credits")
    await ana.send("5h")  # as /log takes it: NASM counts 10 hours to a CEU
    assert "Saved." in ana.last_text and "0.5 CEU" in ana.last_text
    await ana.press("Edit credits")
    await ana.send("2 horas")
    assert "0.2 CEU" in ana.last_text
    await ana.press("Edit credits")
    await ana.send("0h")
    assert "or hours such as 3h" in ana.last_text
    await ana.send("2.5 hours")
    assert "0.25 CEU" in ana.last_text
    await ana.press("Edit date")
    await ana.send("2099-12-31")
    assert "the date you earned the credit has to be in the past" in ana.last_text
    await ana.send("yesterday")
    assert "Saved." in ana.last_text
    await ana.press("Edit title")
    await ana.send("Photo course, part 1")
    await ana.press("Delete")
    await ana.press("Yes, delete it")
    assert "Deleted “Photo course, part 1”." in ana.last_text
    held = await bot.db.run(lambda s: credentials.held_by(s, ana.id, bot.catalog))
    assert held[0].units_earned == Decimal("0.7")


async def test_history_is_only_the_owners(bot: Bot) -> None:
    ana, _nasm = await setup_trainer(bot)
    await ana.send("/log 0.5 Private course")
    mallory, _other = await setup_trainer(bot, "Mallory")
    from sqlmodel import select

    from storage.models import Credit

    credit_id = await bot.db.run(lambda s: s.exec(select(Credit.id)).first())
    await mallory.send("/history")
    screen = mallory.last
    for forged in (
        f"hist:i:{credit_id}",
        f"hist:p:{credit_id}",
        f"hist:xy:{credit_id}",
        f"hist:eu:{credit_id}",
        f"hist:c:{_nasm}:0",
        "hist:i:x",
    ):
        before = len(mallory.inbox)
        await mallory.press_data(forged, screen)
        assert len(mallory.inbox) == before
        assert "Private course" not in str(mallory.inbox)
    held = await bot.db.run(lambda s: credentials.held_by(s, ana.id, bot.catalog))
    assert held[0].units_earned == Decimal("0.5")


async def test_export_csv_and_calendar(bot: Bot) -> None:
    ana, _nasm = await setup_trainer(bot)
    await ana.send("/log 0.5 Webinar, with “quotes”")
    await ana.send("/export")
    documents = [m for m in ana.inbox[-3:] if "document" in m]
    names = [m["document"]["file_name"] for m in documents]
    assert names == ["recert-credentials.csv", "recert-credits.csv", "recert-deadlines.ics"]
    files = {
        name: bot.api.files[m["document"]["file_id"]].data
        for name, m in zip(names, documents, strict=True)
    }
    creds = list(csv.reader(io.StringIO(files["recert-credentials.csv"].decode("utf-8-sig"))))
    assert creds[0][0] == "Credential" and creds[1][0] == "NASM-CPT" and "NASM-55" in creds[1]
    credit_rows = list(csv.reader(io.StringIO(files["recert-credits.csv"].decode("utf-8-sig"))))
    assert credit_rows[1][2] == "Webinar, with “quotes”" and credit_rows[1][4] == "0.5"
    calendar = Calendar.from_ical(files["recert-deadlines.ics"])
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == TODAY + timedelta(days=500)
    assert str(event["SUMMARY"]) == "NASM-CPT expires"
    triggers = sorted(-alarm.decoded("TRIGGER").days for alarm in event.walk("VALARM"))
    assert triggers == [1, 7, 30, 90]


async def test_audit_pack(bot: Bot) -> None:
    ana, _nasm = await setup_trainer(bot)
    await ana.send_photo(PNG, caption="/log 0.5 Kettlebell course")
    await ana.send_document(
        b"%PDF-1.4 cert",
        "cpr-skills.pdf",
        "application/pdf",
        caption="/log 0.1 CPR skills",
    )
    await ana.send("/log 0.3 No proof for this one")
    await ana.send("/audit")
    await ana.press("NASM-CPT: current cycle")
    message = ana.last
    assert message["document"]["file_name"].startswith("audit-NASM-CPT-")
    assert "3 credit entries, 2 proof files." in message["caption"]
    data = bot.api.files[message["document"]["file_id"]].data
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        members = sorted(pack.namelist())
        summary = pack.read("summary.txt").decode()
        assert pack.read("proofs/cpr-skills.pdf") == b"%PDF-1.4 cert"
    assert "credits.csv" in members and len([m for m in members if m.startswith("proofs/")]) == 2
    assert "Credential number: NASM-55" in summary and "Credits logged: 0.9 CEU" in summary
    assert "Kettlebell course" in summary
    assert f"{(TODAY - timedelta(days=200)).year}" in summary  # the cycle's dates


async def test_history_and_audit_leave_out_cards_that_take_no_credits(bot: Bot) -> None:
    ana, _nasm = await setup_trainer(bot, "Cleo")
    await bot.db.run(
        lambda s: credentials.add(
            s,
            ana.id,
            Cycle(TODAY - timedelta(days=100), TODAY + timedelta(days=600), None),
            catalog_id="aha-cpr",
        )
    )
    await ana.send("/log 0.5 Course")
    await ana.send("/history")  # only NASM-CPT takes credits: its page at once
    assert "Course" in ana.last_text and "AHA" not in " ".join(ana.buttons)
    await ana.send("/audit")
    assert ana.buttons == ["NASM-CPT: current cycle"]
