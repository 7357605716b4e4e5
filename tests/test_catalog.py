"""The catalog as data (the loader's fields and checks, facts pinned from the research), and one
credential of every body registered through the chat with its deadline and requirement checked
against that body's rule."""

from __future__ import annotations

import re
import textwrap
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES
from scheduler.cycles import CycleEnd
from storage import credentials
from storage.catalog import CATALOG_PATH, UNCERTAIN_FIELDS, Catalog, LateFee
from tests.conftest import Bot
from tests.helpers import nsca_now, onboard

# The dates the research read its sources: the first pass (the catalog was built from it on
# 2026-11-24) and the corrections pass.
RESEARCH_PASSES = {date(2026, 11, 24), date(2026, 12, 2)}


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
        "NFPT",
        "PMA",
        "AEA",
        "EREPS",
        "ASTI",
        "ECSI",
        "ERC",
    }
    assert required_bodies <= set(catalog.bodies())
    for entry in entries:
        assert all(s.startswith(("https://", "http://")) for s in entry.sources), entry.id
        if not entry.sources:  # the research names no address: nothing is taken as a fact
            assert entry.ask_card_date and set(entry.uncertain) == UNCERTAIN_FIELDS, entry.id
            assert "No source" in entry.notes or "not in the research" in entry.notes, entry.id
        assert entry.last_checked in RESEARCH_PASSES, entry.id
        assert set(entry.after_grace) == set(LANGUAGES), entry.id
        assert all(text.strip() for text in entry.after_grace.values()), entry.id
        if entry.rule.grace_period_days or entry.rule.grace_months or entry.grace_end:
            assert set(entry.in_grace) == set(LANGUAGES), entry.id
        assert entry.confidence in ("high", "medium", "low"), entry.id
    cpr_bodies = ["AHA", "Red Cross", "ASTI", "ECSI", "ERC"]
    assert catalog.bodies()[-len(cpr_bodies) :] == cpr_bodies  # CPR/AED providers last
    assert {card.body for card in catalog.cpr_cards()} == set(cpr_bodies)


def test_every_entry_says_what_remains_after_grace_in_every_language(catalog: Catalog) -> None:
    for entry in catalog:
        assert set(entry.after_grace) == set(LANGUAGES), entry.id
        assert all(text.strip() for text in entry.after_grace.values()), entry.id
        has_grace = (
            bool(entry.rule.grace_period_days)
            or bool(entry.rule.grace_months)
            or entry.grace_end is not None
        )
        if has_grace:
            assert set(entry.in_grace) == set(LANGUAGES), entry.id
            assert all(text.strip() for text in entry.in_grace.values()), entry.id
            # Once the late window has closed, no text may offer it.
            assert not re.search(r"can still|still (renew|reinstate)", entry.after_grace["en"]), (
                entry.id
            )
        else:
            assert entry.in_grace == {}, entry.id


def test_ids_are_unique_and_no_source_is_garbled(catalog: Catalog) -> None:
    with CATALOG_PATH.open("rb") as catalog_file:
        ids = [item["id"] for item in tomllib.load(catalog_file)["credential"]]
    assert len(ids) == len(set(ids)) == len(list(catalog))
    # A link-rewriting proxy once mangled an address (https://fanyv88.com:443/https/...).
    assert "fanyv88" not in CATALOG_PATH.read_text(encoding="utf-8")
    for entry in catalog:
        for url in (*entry.sources, *filter(None, [entry.check_url, entry.renew_url])):
            assert re.fullmatch(r"https?://[a-z0-9.-]+\.[a-z]+(/\S*)?", url), (entry.id, url)


def test_every_uncertain_name_is_a_field(catalog: Catalog) -> None:
    for entry in catalog:
        assert set(entry.uncertain) <= UNCERTAIN_FIELDS, entry.id
        assert len(entry.uncertain) == len(set(entry.uncertain)), entry.id


def test_late_fees_are_inside_the_late_window(catalog: Catalog) -> None:
    for entry in catalog:
        window = entry.rule.grace_period_days
        if entry.rule.grace_months:
            window = {6: 184, 12: 366}[entry.rule.grace_months]  # the longest such span
        if entry.grace_end is not None:
            window = 182  # 31 December to 30 June in a leap year, the longest such window
        for fee in entry.late_fees:
            assert window is not None and fee.to_day <= window, (entry.id, fee)


# -- facts pinned from the research (shared/reference/certifications.yaml) -----------------


def test_acsm_grace_ends_on_30_june(catalog: Catalog) -> None:
    for entry_id in ("acsm-cpt", "acsm-ep", "acsm-cep", "acsm-gei"):
        entry = catalog.get(entry_id)
        assert entry is not None
        assert entry.grace_end == entry.rule.grace_end == (6, 30), entry_id
        assert entry.rule.grace_period_days is None, entry_id  # a date, not 181 days
        assert entry.late_fees == (LateFee(1, 182, Decimal("80")),), entry_id
        # $165 on one ACSM copy, $225 on another.
        assert entry.reinstatement_fee_usd == Decimal("165"), entry_id
        assert "reinstatement_fee_usd" in entry.uncertain, entry_id
        assert "June 30" in entry.in_grace["en"] and "$225" in entry.after_grace["en"], entry_id


def test_nasm_credits_count_90_days_after_expiry(catalog: Catalog) -> None:
    tiers = (LateFee(1, 90, Decimal("30")), LateFee(91, 365, Decimal("50")))
    for entry_id in ("nasm-cpt", "nasm-cnc", "nasm-csnc"):
        entry = catalog.get(entry_id)
        assert entry is not None
        assert entry.credits_until_days == 90, entry_id
        assert entry.late_fees == tiers, entry_id
        # "Up to one year after expiry": a calendar year, not 365 days (leap years).
        assert (entry.rule.grace_months, entry.rule.grace_period_days) == (12, None), entry_id
    cpt = catalog.get("nasm-cpt")
    assert cpt is not None
    assert "late_fees" in cpt.uncertain  # from an older guideline copy
    assert "disputed" in cpt.notes and "0.1" in cpt.notes  # "2.0 includes 0.1 from CPR"
    assert "https://www.scribd.com/document/666597864/Nasm-Cpt-Recertification-Guidelines" in (
        cpt.sources
    )
    for entry_id in ("nasm-ces", "nasm-pes"):  # "1.9 CEUs toward the CPT": a third party only
        entry = catalog.get(entry_id)
        assert entry is not None and "counts_toward" in entry.uncertain, entry_id
        assert entry.check_url == "https://www.nasm.org/recertify/personal-trainer-recertification"


def test_afaa_fees(catalog: Catalog) -> None:
    afaa = catalog.get("afaa-cgfi")
    assert afaa is not None
    assert afaa.renewal_fee_usd == Decimal("99")
    assert afaa.late_fees == (LateFee(1, 180, Decimal("50")),)
    assert "$299" in afaa.notes  # Recertify for Life
    assert {"renewal_fee_usd", "late_fees"} <= set(afaa.uncertain)  # the page may be stale


def test_nesta_conflicting_late_fee_is_uncertain(catalog: Catalog) -> None:
    nesta = catalog.get("nesta-pft")
    assert nesta is not None
    assert nesta.late_fees[-1] == LateFee(61, 90, Decimal("95"))
    assert "late_fees" in nesta.uncertain and "$75" in nesta.notes


def test_pma_16_cecs_every_two_years_six_months_grace(catalog: Catalog) -> None:
    pma = catalog.get("pma-cpt")
    assert pma is not None
    assert (pma.rule.cycle_months, pma.rule.units_required, pma.unit_name) == (
        24,
        Decimal("16"),
        "CEC",
    )
    assert pma.rule.grace_months == 6  # six calendar months, as for ACE
    assert pma.late_fees == (LateFee(1, 183, Decimal("75")),)
    assert pma.ask_card_date and set(pma.uncertain) == UNCERTAIN_FIELDS  # no address: verify


def test_neta_wellness_aea_and_ereps(catalog: Catalog) -> None:
    neta = catalog.get("neta-wellness")
    assert neta is not None
    assert (neta.rule.cycle_months, neta.rule.units_required, neta.rule.grace_period_days) == (
        24,
        Decimal("20"),
        180,
    )
    aea = catalog.get("aea-cert")
    assert aea is not None
    assert (aea.rule.cycle_months, aea.rule.units_required, aea.hours_per_unit) == (
        24,
        Decimal("15"),
        Decimal("1"),
    )
    for entry_id in ("ereps-l3", "ereps-l4"):  # no renewal numbers: ask
        entry = catalog.get(entry_id)
        assert entry is not None
        assert entry.rule.cycle_end is CycleEnd.CARD_ONLY and entry.ask_card_date, entry_id
        assert entry.rule.units_required is None, entry_id
    for entry_id in ("asti-cpr", "ecsi-cpr", "erc-cpr"):
        entry = catalog.get(entry_id)
        assert entry is not None and entry.is_cpr and entry.ask_card_date, entry_id
        assert "course" in entry.after_grace["en"], entry_id


def test_nsca_csps_and_tsacf_share_cscs_period_and_table(catalog: Catalog) -> None:
    cscs = catalog.get("nsca-cscs")
    assert cscs is not None
    # The last band (certified 1 July - 31 December of the period's last year) owes nothing.
    assert cscs.rule.prorated[-1] == (date(2027, 1, 1), Decimal("0.0"))
    assert cscs.rule.prorated[-2] == (date(2026, 7, 1), Decimal("1.0"))
    for entry_id in ("nsca-cscs", "nsca-cpt", "nsca-csps", "nsca-tsacf"):
        entry = catalog.get(entry_id)
        assert entry is not None
        assert entry.rule == cscs.rule, entry_id
        assert entry.category_caps == cscs.category_caps, entry_id
        assert entry.min_categories == 2, entry_id
        # The 2024-2026 caps applied to later periods are an assumption.
        assert "category_caps" in entry.uncertain, entry_id


# -- the loader -----------------------------------------------------------------------------

ENTRY = """
[[credential]]
id = "x-cpt"
body = "X"
name = "X-CPT"
kind = "certification"
cycle_months = 24
cycle_end = "anniversary"
units_required = 2.0
sources = ["https://x.example/renew"]
{extra}

[credential.after_grace]
en = "after"
es = "después"
ru = "после"
"""


def load(tmp_path: Path, extra: str = "", *, toml: str | None = None) -> Catalog:
    path = tmp_path / "catalog.toml"
    path.write_text(toml or ENTRY.format(extra=textwrap.dedent(extra)), encoding="utf-8")
    return Catalog.load(path)


def test_loader_reads_the_new_fields(tmp_path: Path) -> None:
    extra = """
        grace_end = "06-30"
        credits_until_days = 90
        late_fees = [
          { from_day = 1, to_day = 90, usd = 30 },
          { from_day = 91, to_day = 182, usd = 50.5 },
        ]
        reinstatement_fee_usd = 165
        renewal_fee_usd = 60
        check_url = "https://x.example/check"
        renew_url = "https://x.example/renew-here"
        uncertain = ["grace_end", "late_fees", "reinstatement_fee_usd"]
        last_checked = "2026-12-02"

        [credential.in_grace]
        en = "renew late"
        es = "renueva tarde"
        ru = "продлите"
        """
    [entry] = list(load(tmp_path, extra))
    assert entry.grace_end == entry.rule.grace_end == (6, 30)
    assert entry.credits_until_days == 90
    assert entry.late_fees == (
        LateFee(1, 90, Decimal("30")),
        LateFee(91, 182, Decimal("50.5")),
    )
    assert entry.reinstatement_fee_usd == Decimal("165")
    assert entry.renewal_fee_usd == Decimal("60")
    assert entry.in_grace == {"en": "renew late", "es": "renueva tarde", "ru": "продлите"}
    assert entry.after_grace == {"en": "after", "es": "después", "ru": "после"}
    assert entry.uncertain == ("grace_end", "late_fees", "reinstatement_fee_usd")
    assert entry.check_url == "https://x.example/check"
    assert entry.last_checked == date(2026, 12, 2)


def test_loader_defaults_and_check_url_fallbacks(tmp_path: Path) -> None:
    [bare] = list(load(tmp_path))
    assert (bare.grace_end, bare.credits_until_days, bare.late_fees) == (None, None, ())
    assert (bare.reinstatement_fee_usd, bare.in_grace) == (None, {})
    assert bare.check_url == "https://x.example/renew"  # the first source
    [renewing] = list(load(tmp_path, 'renew_url = "https://x.example/renew-here"'))
    assert renewing.check_url == "https://x.example/renew-here"


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ('uncertain = ["grace_days"]', "unknown uncertain"),  # a typo would hide one
        ('uncertain = ["Late_fees"]', "unknown uncertain"),
        ('grace_end = "6/30"', "not MM-DD"),
        ('grace_end = "02-30"', "not MM-DD"),
        ('grace_end = "06-30"\ngrace_period_days = 181', "one of grace_end"),
        ("grace_months = 6\ngrace_period_days = 183", "one of grace_end"),
        ("grace_period_days = 90", "needs in_grace"),
        (
            "late_fees = [ { from_day = 1, to_day = 90, usd = 30 },"
            " { from_day = 60, to_day = 120, usd = 50 } ]",
            "must not overlap",
        ),
        ("late_fees = [ { from_day = 10, to_day = 5, usd = 30 } ]", "must not overlap"),
    ],
)
def test_loader_refuses_bad_entries(tmp_path: Path, extra: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        load(tmp_path, extra)


def test_loader_refuses_an_entry_without_after_grace(tmp_path: Path) -> None:
    toml = ENTRY.format(extra="").split("[credential.after_grace]")[0]
    with pytest.raises(ValueError, match="after_grace is required"):
        load(tmp_path, toml=toml)


def test_loader_refuses_a_sourceless_fact(tmp_path: Path) -> None:
    unsourced = ENTRY.format(extra="").replace('sources = ["https://x.example/renew"]', "")
    with pytest.raises(ValueError, match="needs a source"):
        load(tmp_path, toml=unsourced)
    # Without a source, only an entry that takes nothing as fact and asks for the card loads.
    everything = ", ".join(f'"{name}"' for name in sorted(UNCERTAIN_FIELDS))
    allowed = unsourced.replace(
        'kind = "certification"',
        f'kind = "certification"\nask_card_date = true\nuncertain = [{everything}]',
    )
    [entry] = list(load(tmp_path, toml=allowed))
    assert entry.sources == () and entry.check_url is None


def test_loader_refuses_duplicate_ids(tmp_path: Path) -> None:
    twice = ENTRY.format(extra="") + ENTRY.format(extra="")
    with pytest.raises(ValueError, match="unique"):
        load(tmp_path, toml=twice)


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
    ("NFPT", "NFPT-CPT", "3/31/2028", date(2028, 3, 31), None),  # no published rule: the card
    ("PMA", "PMA-CPT", "10/31/2027", date(2027, 10, 31), "16"),
    ("AEA", "AEA certification", "7/1/2027", date(2027, 7, 1), "15"),
    ("EREPS", "EREPS Level 4", "12/31/2027", date(2027, 12, 31), None),
    ("AHA", "AHA CPR/AED", "5/31/2027", date(2027, 5, 31), None),
    ("Red Cross", "Red Cross CPR/AED", "4/30/2028", date(2028, 4, 30), None),
    ("ASTI", "ASTI CPR/AED", "2/28/2028", date(2028, 2, 28), None),
    ("ECSI", "ECSI CPR/AED", "6/30/2027", date(2027, 6, 30), None),
    ("ERC", "ERC CPR/AED", "9/15/2027", date(2027, 9, 15), None),
]


def test_one_per_body_covers_every_body(catalog: Catalog) -> None:
    assert [body for body, *_ in ONE_PER_BODY] == catalog.bodies()


async def test_one_credential_of_each_body(bot: Bot, catalog: Catalog) -> None:
    tess = bot.person("Tess")
    await onboard(tess, "✓ English")
    for body, name, typed, _end, _units in ONE_PER_BODY:
        await tess.send("/add")
        await tess.press(body)
        await tess.press(name)
        [entry] = [e for e in catalog.of_body(body) if e.name == name]
        if entry.rule.cycle_end is CycleEnd.CARD_ONLY:  # asked when they certified, by default
            await tess.press("I have the expiry date instead")
        await tess.send(typed)
        await tess.press("Skip")
        assert "Please check" in tess.last_text, (body, tess.last_text)
        await tess.press("✅ Save")
        assert f"Saved: {name}" in "\n".join(m.get("text", "") for m in tess.inbox[-3:])
    held = await bot.db.run(lambda s: credentials.held_by(s, tess.id, bot.catalog))
    stored = {
        catalog.get(h.credential.catalog_id).name: h.credential  # type: ignore[union-attr]
        for h in held
    }
    for body, name, _typed, end, units in ONE_PER_BODY:
        credential = stored[name]
        assert credential.cycle_end == end, (body, credential.cycle_end)
        expected_units = None if units is None else Decimal(str(units))
        assert credential.units_required == expected_units, (body, credential.units_required)
