"""/history (paged, proofs re-sent, edit, delete), /export (CSV and .ics read back) and
/audit (the ZIP opened and checked)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from icalendar import Calendar

from scheduler.cycles import Cycle
from storage import credentials
from tests.conftest import Bot
from tests.helpers import onboard

TODAY = datetime.now(ZoneInfo("America/New_York")).date()
PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (40).to_bytes(4, "big") + (30).to_bytes(4, "big")


async def setup_trainer(bot: Bot, name: str = "Ana") -> tuple[object, int]:
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
    ana, nasm = await setup_trainer(bot)
    for day in range(7):
        await ana.send(f"/log 0.1 Course {day}")  # type: ignore[attr-defined]
    await ana.send_photo(PNG, caption="/log 0.2 Photo course")  # type: ignore[attr-defined]
    await ana.send("/history")  # type: ignore[attr-defined]
    text = ana.last_text  # type: ignore[attr-defined]
    assert "page 1 of 2" in text and "Photo course 📎" in text
    await ana.press("Older ›")  # type: ignore[attr-defined]
    assert "page 2 of 2" in ana.last_text  # type: ignore[attr-defined]
    await ana.press("‹ Newer")  # type: ignore[attr-defined]
    photo_button = next(b for b in ana.buttons if "Photo course" in b)  # type: ignore[attr-defined]
    await ana.press(photo_button)  # type: ignore[attr-defined]
    await ana.press("📎 Send the proof")  # type: ignore[attr-defined]
    resent = ana.last  # type: ignore[attr-defined]
    assert "photo" in resent and resent["caption"] == "Photo course"
    await ana.press("Edit credits")  # type: ignore[attr-defined]
    await ana.send("-3")  # type: ignore[attr-defined]
    assert "above 0" in ana.last_text  # type: ignore[attr-defined]
    await ana.send("0.25")  # type: ignore[attr-defined]
    assert "Saved." in ana.last_text and "0.25 CEU" in ana.last_text  # type: ignore[attr-defined]
    await ana.press("Edit title")  # type: ignore[attr-defined]
    await ana.send("Photo course, part 1")  # type: ignore[attr-defined]
    await ana.press("Delete")  # type: ignore[attr-defined]
    await ana.press("Yes, delete it")  # type: ignore[attr-defined]
    assert "Deleted “Photo course, part 1”." in ana.last_text  # type: ignore[attr-defined]
    held = await bot.db.run(lambda s: credentials.held_by(s, ana.id))  # type: ignore[attr-defined]
    assert held[0].units_earned == Decimal("0.7")


async def test_history_is_only_the_owners(bot: Bot) -> None:
    ana, _nasm = await setup_trainer(bot)
    await ana.send("/log 0.5 Private course")  # type: ignore[attr-defined]
    mallory, _other = await setup_trainer(bot, "Mallory")
    from sqlmodel import select

    from storage.models import Credit

    credit_id = await bot.db.run(lambda s: s.exec(select(Credit.id)).first())
    await mallory.send("/history")  # type: ignore[attr-defined]
    screen = mallory.last  # type: ignore[attr-defined]
    for forged in (
        f"hist:i:{credit_id}",
        f"hist:p:{credit_id}",
        f"hist:xy:{credit_id}",
        f"hist:eu:{credit_id}",
        f"hist:c:{_nasm}:0",
        "hist:i:x",
    ):
        before = len(mallory.inbox)  # type: ignore[attr-defined]
        await mallory.press_data(forged, screen)  # type: ignore[attr-defined]
        assert len(mallory.inbox) == before  # type: ignore[attr-defined]
        assert "Private course" not in str(mallory.inbox)  # type: ignore[attr-defined]
    held = await bot.db.run(lambda s: credentials.held_by(s, ana.id))  # type: ignore[attr-defined]
    assert held[0].units_earned == Decimal("0.5")


async def test_export_csv_and_calendar(bot: Bot) -> None:
    ana, _nasm = await setup_trainer(bot)
    await ana.send("/log 0.5 Webinar, with “quotes”")  # type: ignore[attr-defined]
    await ana.send("/export")  # type: ignore[attr-defined]
    documents = [m for m in ana.inbox[-3:] if "document" in m]  # type: ignore[attr-defined]
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
    await ana.send_photo(PNG, caption="/log 0.5 Kettlebell course")  # type: ignore[attr-defined]
    await ana.send_document(
        b"%PDF-1.4 cert",
        "cpr-skills.pdf",  # type: ignore[attr-defined]
        "application/pdf",
        caption="/log 0.1 CPR skills",
    )
    await ana.send("/log 0.3 No proof for this one")  # type: ignore[attr-defined]
    await ana.send("/audit")  # type: ignore[attr-defined]
    await ana.press("NASM-CPT: current cycle")  # type: ignore[attr-defined]
    message = ana.last  # type: ignore[attr-defined]
    assert message["document"]["file_name"].startswith("audit-NASM-CPT-")
    assert "3 credit entries and 2 proof files" in message["caption"]
    data = bot.api.files[message["document"]["file_id"]].data
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        members = sorted(pack.namelist())
        summary = pack.read("summary.txt").decode()
        assert pack.read("proofs/cpr-skills.pdf") == b"%PDF-1.4 cert"
    assert "credits.csv" in members and len([m for m in members if m.startswith("proofs/")]) == 2
    assert "Credential number: NASM-55" in summary and "Credits logged: 0.9 CEU" in summary
    assert "Kettlebell course" in summary and f"{date.today().year}" in summary
