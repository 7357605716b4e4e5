"""The credential catalog: every certifying body's renewal rules, as data.

`catalog.toml` beside this file holds one entry per credential, with its sources, the date it
was last checked and what is uncertain. Adding a body is an edit of that file, not of code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from scheduler.cycles import CycleEnd, Rule

CATALOG_PATH = Path(__file__).with_name("catalog.toml")
KINDS = ("certification", "specialization", "cpr")


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    body: str
    name: str
    full_name: str
    kind: str
    rule: Rule
    unit_name: str | None
    hours_per_unit: Decimal | None
    cpr_aed_required: bool
    # True when the body does not say which day a cycle ends: ask for the card's date.
    ask_card_date: bool
    renewal_fee_usd: Decimal | None
    renew_url: str | None
    no_rollover: bool
    no_repeats: bool
    confidence: str
    uncertain: tuple[str, ...]
    last_checked: date
    sources: tuple[str, ...]
    after_expiry: dict[str, str]
    counts_toward: tuple[tuple[str, Decimal], ...] = ()
    notes: str = ""
    category_caps: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    min_categories: int | None = None

    @property
    def is_cpr(self) -> bool:
        return self.kind == "cpr"


def _entry(raw: dict[str, Any], default_checked: date) -> CatalogEntry:
    cycle_end = CycleEnd(raw["cycle_end"])
    prorated = tuple(
        (date.fromisoformat(band["certified_before"]), Decimal(str(band["units"])))
        for band in raw.get("prorated", [])
    )
    rule = Rule(
        cycle_end=cycle_end,
        cycle_months=raw.get("cycle_months"),
        units_required=_decimal(raw.get("units_required")),
        grace_period_days=raw.get("grace_period_days"),
        period_anchor=date.fromisoformat(raw["period_anchor"]) if "period_anchor" in raw else None,
        period_years=raw.get("period_years"),
        prorated=prorated,
    )
    if raw["kind"] not in KINDS:
        raise ValueError(f"catalog entry {raw['id']}: unknown kind {raw['kind']!r}")
    if cycle_end is not CycleEnd.CARD_ONLY and not rule.cycle_months:
        raise ValueError(f"catalog entry {raw['id']}: a {cycle_end} rule needs cycle_months")
    if not raw.get("sources"):
        raise ValueError(f"catalog entry {raw['id']}: every fact needs a source")
    checked = raw.get("last_checked")
    return CatalogEntry(
        id=raw["id"],
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
        uncertain=tuple(raw.get("uncertain", ())),
        last_checked=date.fromisoformat(checked) if checked else default_checked,
        sources=tuple(raw["sources"]),
        after_expiry=dict(raw.get("after_expiry", {})),
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
