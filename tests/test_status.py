"""/status on a trainer with credentials in every state, in English and Spanish, and the
status picture."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from PIL import Image

from bot.offline import Person
from scheduler.cycles import Cycle
from storage import credentials
from tests.conftest import Bot
from tests.helpers import onboard


async def populate(bot: Bot, person: Person, today: date) -> None:
    """NASM-CPT due in 60 days and behind pace, ACE-CPT in grace, NCSF expired, an AHA card
    that expires before NASM's deadline, and NSCA far away with categories."""

    def add(session):  # type: ignore[no-untyped-def]
        def credential(
            catalog_id: str,
            start: date,
            end: date,
            units: str | None,
            certified: date | None = None,
        ) -> int:
            saved = credentials.add(
                session,
                person.id,
                Cycle(start, end, Decimal(units) if units else None),
                catalog_id=catalog_id,
                certified_on=certified,
            )
            assert saved.id is not None
            return saved.id

        nasm = credential(
            "nasm-cpt", today - timedelta(days=670), today + timedelta(days=60), "2.0"
        )
        credentials.add_credit(
            session, person.id, nasm, Decimal("0.5"), today - timedelta(days=10), "Webinar"
        )
        credential("ace-cpt", today - timedelta(days=760), today - timedelta(days=30), "2.0")
        credential("ncsf-cpt", today - timedelta(days=1000), today - timedelta(days=400), "10")
        credential("aha-cpr", today - timedelta(days=700), today + timedelta(days=30), None)
        nsca = credential(
            "nsca-cscs",
            today - timedelta(days=30),
            today + timedelta(days=900),
            "6.0",
            certified=date(2019, 1, 1),
        )
        credentials.add_credit(
            session, person.id, nsca, Decimal(1), today - timedelta(days=5), "Clinic"
        )

    await bot.db.run(add)


async def test_status_in_english(bot: Bot) -> None:
    ana = bot.person("Ana")
    await onboard(ana, "✓ English")
    await ana.send("/status")
    assert "no credentials on file yet" in ana.last_text
    today = datetime.now(ZoneInfo("America/New_York")).date()
    await populate(bot, ana, today)
    await bot.application.update_persistence()  # nothing of the onboarding left to write
    statements = bot.db.statements
    await ana.send("/status")
    # The trainer, five credentials, their credits and reminders: one statement (on PostgreSQL
    # one round trip, read outside a transaction).
    assert bot.db.statements - statements == 1
    text = ana.last_text
    assert text.startswith("5 credentials: 1 expired, 1 in grace, 2 due soon")
    nasm = text.split("NASM-CPT: ", 1)[1].split("\n\n")[0]
    assert nasm.startswith("due soon")
    assert "(in 60 days)" in nasm
    # Before the deadline: what a miss would leave, and (due soon) the path after the grace.
    assert "Grace period: a late renewal is accepted until" in nasm and "After that: " in nasm
    assert "Credits: 0.5 CEU of 2 CEU" in nasm and "▰▰▱▱▱▱▱▱▱▱ 25%" in nasm
    assert "Behind pace: 1.5 CEU to go, about 0.76 CEU a month." in nasm
    assert "before NASM-CPT is due: renew it first" in nasm  # the AHA card ends sooner
    # 60 days before is itself a milestone (today at 9:00, if not past yet); then the pace
    # check on the 1st, or 30 days before, whichever comes first.
    first_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    after_today = min(first_next, today + timedelta(days=30))
    reminder = today if datetime.now(ZoneInfo("America/New_York")).hour < 9 else after_today
    assert f"Next reminder: {reminder:%B} {reminder.day}, {reminder.year} at 9:00" in nasm
    assert "ACE-CPT: in the grace period" in text
    assert "NCSF-CPT: expired" in text
    needed = text.split("Needed for: ", 1)[1].split("\n")[0]
    assert set(needed.split(", ")) == {"NASM-CPT", "ACE-CPT", "NCSF-CPT", "CSCS"}
    cscs = text.split("CSCS: ", 1)[1]
    assert cscs.startswith("on track")  # 1 of 6 CEU a month into three years
    assert "After that: " not in cscs.split("\n\n")[0]  # far off: the grace line alone
    assert "Categories: no category 1" in cscs

    await ana.press("🖼 As a picture")
    photo = ana.last["photo"][-1]
    data = bot.api.files[photo["file_id"]].data
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.width >= 800 and len(data) < 200_000
    assert "5 credentials" in ana.last["caption"]


async def test_status_in_spanish(bot: Bot) -> None:
    lucia = bot.person("Lucía", language_code="es")
    await onboard(lucia, "✓ Español")  # first suggestion: Madrid
    today = datetime.now(ZoneInfo("Europe/Madrid")).date()
    await populate(bot, lucia, today)
    await lucia.send("/status")
    text = lucia.last_text
    assert text.startswith("5 credenciales")
    nasm = text.split("NASM-CPT: ", 1)[1].split("\n\n")[0]
    assert "(en 60 días)" in nasm
    assert "0,5 CEU" in nasm and "25%" in nasm
    assert "0,76 CEU" in nasm
