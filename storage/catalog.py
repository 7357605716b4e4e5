"""The credential catalog: every certifying body's renewal rules, as data.

`catalog.toml` beside this file holds one entry per credential, with its sources, the date it
was last checked and what is uncertain. Adding a body is an edit of that file, not of code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from scheduler.cycles import CycleEnd, Rule
from scheduler.entries import CatalogEntry, LateFee

__all__ = ["CATALOG_PATH", "Catalog", "CatalogEntry", "LateFee"]

CATALOG_PATH = Path(__file__).with_name("catalog.toml")
KINDS = ("certification", "specialization", "cpr")
# The facts an entry's `uncertain` may name; anything else is a typo that would hide one.
UNCERTAIN_FIELDS = frozenset(
    {
        "cycle_months",
        "cycle_end",
        "units_required",
        "unit_name",
        "hours_per_unit",
        "cpr_aed_required",
        "grace_period_days",
        "grace_end",
        "credits_until_days",
        "renewal_fee_usd",
        "late_fees",
        "reinstatement_fee_usd",
        "counts_toward",
        "category_caps",
        "prorated",
    }
)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _month_day(entry_id: str, value: str) -> tuple[int, int]:
    """Reads "06-30" as (6, 30), checked against a leap year so that 02-29 is a real day."""
    try:
        month, day = (int(part) for part in value.split("-"))
        date(2000, month, day)
    except ValueError:
        raise ValueError(f"catalog entry {entry_id}: grace_end {value!r} is not MM-DD") from None
    return month, day


def _late_fees(entry_id: str, raw: list[dict[str, Any]]) -> tuple[LateFee, ...]:
    tiers = tuple(
        LateFee(int(tier["from_day"]), int(tier["to_day"]), Decimal(str(tier["usd"])))
        for tier in raw
    )
    previous_end = 0
    for tier in tiers:
        if not previous_end < tier.from_day <= tier.to_day:
            raise ValueError(f"catalog entry {entry_id}: late fee tiers must not overlap")
        previous_end = tier.to_day
    return tiers


def _entry(raw: dict[str, Any], default_checked: date) -> CatalogEntry:
    entry_id = raw["id"]
    cycle_end = CycleEnd(raw["cycle_end"])
    grace_end = _month_day(entry_id, raw["grace_end"]) if "grace_end" in raw else None
    prorated = tuple(
        (date.fromisoformat(band["certified_before"]), Decimal(str(band["units"])))
        for band in raw.get("prorated", [])
    )
    rule = Rule(
        cycle_end=cycle_end,
        cycle_months=raw.get("cycle_months"),
        units_required=_decimal(raw.get("units_required")),
        grace_period_days=raw.get("grace_period_days"),
        grace_months=raw.get("grace_months"),
        grace_end=grace_end,
        credits_until_days=raw.get("credits_until_days"),
        period_anchor=date.fromisoformat(raw["period_anchor"]) if "period_anchor" in raw else None,
        period_years=raw.get("period_years"),
        prorated=prorated,
    )
    if raw["kind"] not in KINDS:
        raise ValueError(f"catalog entry {entry_id}: unknown kind {raw['kind']!r}")
    if cycle_end is not CycleEnd.CARD_ONLY and not rule.cycle_months:
        raise ValueError(f"catalog entry {entry_id}: a {cycle_end} rule needs cycle_months")
    uncertain = tuple(raw.get("uncertain", ()))
    if unknown := set(uncertain) - UNCERTAIN_FIELDS:
        raise ValueError(f"catalog entry {entry_id}: unknown uncertain {sorted(unknown)}")
    sources = tuple(raw.get("sources", ()))
    if not sources and not (raw.get("ask_card_date") and set(uncertain) >= UNCERTAIN_FIELDS):
        # Without a source nothing is a fact: every rule is unverified and the card decides.
        raise ValueError(f"catalog entry {entry_id}: every fact needs a source")
    windows = (grace_end, rule.grace_period_days, rule.grace_months)
    if sum(window is not None for window in windows) > 1:
        raise ValueError(
            f"catalog entry {entry_id}: one of grace_end, grace_months, grace_period_days"
        )
    has_grace = bool(rule.grace_period_days) or bool(rule.grace_months) or grace_end is not None
    if not raw.get("after_grace"):
        raise ValueError(f"catalog entry {entry_id}: after_grace is required")
    if has_grace and not raw.get("in_grace"):
        raise ValueError(f"catalog entry {entry_id}: a grace period needs in_grace")
    checked = raw.get("last_checked")
    return CatalogEntry(
        id=entry_id,
        body=raw["body"],
        name=raw["name"],
        full_name=raw.get("full_name", raw["name"]),
        kind=raw["kind"],
        rule=rule,
        unit_name=raw.get("unit_name"),
        hours_per_unit=_decimal(raw.get("hours_per_unit")),
        cpr_aed_required=bool(raw.get("cpr_aed_required", False)),
        ask_card_date=bool(raw.get("ask_card_date", False)),
        renewal_fee_usd=_decimal(raw.get("renewal_fee_usd")),
        renew_url=raw.get("renew_url"),
        no_rollover=bool(raw.get("no_rollover", False)),
        no_repeats=bool(raw.get("no_repeats", False)),
        confidence=raw.get("confidence", "medium"),
        uncertain=uncertain,
        last_checked=date.fromisoformat(checked) if checked else default_checked,
        sources=sources,
        in_grace=dict(raw.get("in_grace", {})),
        after_grace=dict(raw["after_grace"]),
        grace_end=grace_end,
        credits_until_days=raw.get("credits_until_days"),
        late_fees=_late_fees(entry_id, raw.get("late_fees", [])),
        reinstatement_fee_usd=_decimal(raw.get("reinstatement_fee_usd")),
        check_url=raw.get("check_url") or raw.get("renew_url") or next(iter(sources), None),
        counts_toward=tuple(
            (target["credential"], Decimal(str(target["units"])))
            for target in raw.get("counts_toward", [])
        ),
        notes=raw.get("notes", ""),
        category_caps=tuple(raw.get("category_caps", ())),
        min_categories=raw.get("min_categories"),
    )


class Catalog:
    def __init__(self, entries: list[CatalogEntry]) -> None:
        self._entries = {entry.id: entry for entry in entries}
        if len(self._entries) != len(entries):
            raise ValueError("catalog ids must be unique")
        for entry in entries:
            for target, _units in entry.counts_toward:
                if target not in self._entries:
                    raise ValueError(f"{entry.id} counts toward unknown credential {target}")

    @classmethod
    def load(cls, path: Path = CATALOG_PATH) -> Catalog:
        """Read and check the catalog (a blocking file read: call it at start-up)."""
        with path.open("rb") as catalog_file:
            raw = tomllib.load(catalog_file)
        checked = date.fromisoformat(raw.get("last_checked", "2026-11-24"))
        return cls([_entry(item, checked) for item in raw["credential"]])

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self._entries.values())

    def get(self, entry_id: str | None) -> CatalogEntry | None:
        return self._entries.get(entry_id or "")

    def bodies(self) -> list[str]:
        """Body names in catalog order, CPR/AED providers last."""
        seen: dict[str, bool] = {}
        for entry in self._entries.values():
            seen.setdefault(entry.body, entry.is_cpr)
        return sorted(seen, key=lambda body: seen[body])

    def of_body(self, body: str) -> list[CatalogEntry]:
        return [entry for entry in self._entries.values() if entry.body == body]

    def cpr_cards(self) -> list[CatalogEntry]:
        return [entry for entry in self._entries.values() if entry.is_cpr]
