"""The catalog as data, and one credential of every body registered through the chat with its
deadline and requirement checked against that body's rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.i18n import LANGUAGES
from storage import credentials
from storage.catalog import Catalog
from tests.conftest import Bot
from tests.helpers import nsca_now, onboard


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def test_every_entry_is_sourced_dated_and_translated(catalog: Catalog) -> None:
    entries = list(catalog)
    assert len(entries) >= 20
    required_bodies = {
        "NASM",
        "ACE",
        "ACSM",
        "NSCA",
        "ISSA",
        "NETA",
        "NCSF",
        "AFAA",
        "AHA",
        "Red Cross",
    }
    assert required_bodies <= set(catalog.bodies())
    for entry in entries:
        assert entry.sources and all(s.startswith("http") for s in entry.sources), entry.id
        assert entry.last_checked <= date(2026, 11, 24), entry.id
        assert set(entry.after_expiry) == set(LANGUAGES), entry.id
        assert all(text.strip() for text in entry.after_expiry.values()), entry.id
        assert entry.confidence in ("high", "medium", "low"), entry.id
    assert catalog.bodies()[-2:] == ["AHA", "Red Cross"]  # CPR/AED providers last


# body button, credential button, what the trainer types, expected cycle end, units required.
# Entries whose body does not publish the end day are registered by the card's expiry date.
ONE_PER_BODY = [
    ("NASM", "NASM-CPT", "9/30/2027", date(2027, 9, 30), "2.0"),
    ("ACE", "ACE Health Coach", "1/31/2028", date(2028, 1, 31), "2.0"),
    ("ACSM", "ACSM-EP", "5/10/2024", date(2027, 12, 31), "60"),  # 31 Dec, 3 years on
    ("NSCA", "NSCA-CPT", "3/1/2024", *nsca_now(date(2024, 3, 1))),  # shared period, prorated
    ("ISSA", "ISSA-CPT", "7/15/2027", date(2027, 7, 15), "20"),
    ("NETA", "NETA Personal Trainer", "10/5/2025", date(2027, 10, 5), "20"),  # 2 years
    ("NCSF", "NCSF-CPT", "11/2/2025", date(2027, 11, 30), "10"),  # end of month
    ("AFAA", "AFAA-CGFI", "8/31/2027", date(2027, 8, 31), "15"),
    ("NCCPT", "NCCPT-CPT", "2/28/2027", date(2027, 2, 28), "2.0"),
    ("NESTA", "NESTA-PFT", "6/1/2029", date(2029, 6, 1), "4.0"),
    ("ACTION", "ACTION-CPT", "12/1/2027", date(2027, 12, 1), "2.0"),
    ("AFPA", "AFPA Nutrition", "1/20/2026", date(2028, 1, 20), "16"),
    ("AHA", "AHA CPR/AED", "5/31/2027", date(2027, 5, 31), None),
    ("Red Cross", "Red Cross CPR/AED", "4/30/2028", date(2028, 4, 30), None),
]


async def test_one_credential_of_each_body(bot: Bot, catalog: Catalog) -> None:
    tess = bot.person("Tess")
    await onboard(tess, "✓ English")
    for body, name, typed, _end, _units in ONE_PER_BODY:
        await tess.send("/add")
        await tess.press(body)
        await tess.press(name)
        await tess.send(typed)
        await tess.press("Skip")
        assert "Please check" in tess.last_text, (body, tess.last_text)
        await tess.press("✅ Save")
        assert f"Saved: {name}" in "\n".join(m.get("text", "") for m in tess.inbox[-3:])
    held = await bot.db.run(lambda s: credentials.held_by(s, tess.id))
    stored = {
        catalog.get(h.credential.catalog_id).name: h.credential  # type: ignore[union-attr]
        for h in held
    }
    for body, name, _typed, end, units in ONE_PER_BODY:
        credential = stored[name]
        assert credential.cycle_end == end, (body, credential.cycle_end)
        expected_units = None if units is None else Decimal(str(units))
        assert credential.units_required == expected_units, (body, credential.units_required)
