"""Catalog entries as the domain sees them: a body's credential, its renewal rule and its
fine print. `storage.catalog` only loads `catalog.toml` into these types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from scheduler.credits import Fineprint
from scheduler.cycles import Cycle, Rule


@dataclass(frozen=True)
class LateFee:
    """A late fee tier, in days counted from the day after expiry (day 1), both ends included."""

    from_day: int
    to_day: int
    usd: Decimal


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
    # What can still be done in the grace period, and what remains after it, per language.
    in_grace: dict[str, str] = field(default_factory=dict)
    after_grace: dict[str, str] = field(default_factory=dict)
    grace_end: tuple[int, int] | None = None
    # Credits earned up to this many days after the deadline still count toward that cycle.
    credits_until_days: int | None = None
    late_fees: tuple[LateFee, ...] = ()
    reinstatement_fee_usd: Decimal | None = None
    # Where the trainer can check what is uncertain: check_url, else renew_url, else a source.
    check_url: str | None = None
    counts_toward: tuple[tuple[str, Decimal], ...] = ()
    notes: str = ""
    category_caps: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    min_categories: int | None = None

    @property
    def is_cpr(self) -> bool:
        return self.kind == "cpr"


def fineprint_of(entry: CatalogEntry | None, cycle: Cycle, certified_on: date | None) -> Fineprint:
    """What the body's rules say about this cycle's credits. NSCA's category caps: the
    pro-rated band only in the period the trainer certified in (its dates move with each
    period, like the requirement's); the full band after that."""
    if entry is None:
        return Fineprint()
    return Fineprint(
        entry.no_repeats,
        entry.no_rollover,
        _caps(entry, cycle, certified_on),
        entry.min_categories,
    )


def _caps(entry: CatalogEntry, cycle: Cycle, certified: date | None) -> dict[str, Decimal] | None:
    if not entry.category_caps:
        return None
    band = entry.category_caps[0]
    rule = entry.rule
    if (
        certified is not None
        and certified >= cycle.start
        and cycle.end is not None
        and rule.period_anchor
        and rule.period_years
    ):
        shift = relativedelta(
            years=cycle.end.year - rule.period_years + 1 - rule.period_anchor.year
        )
        for candidate in entry.category_caps:
            if certified < date.fromisoformat(candidate["certified_before"]) + shift:
                band = candidate
                break
    return {key: Decimal(str(value)) for key, value in band.items() if len(key) == 1}


def needs_card(entry: CatalogEntry | None) -> bool:
    """The CPR/AED rule, one half: this certification cannot be renewed without a card."""
    return entry is not None and not entry.is_cpr and entry.cpr_aed_required


def protected_by_card(entries: list[CatalogEntry | None]) -> list[str]:
    """The other half: the certifications an expired card puts at risk."""
    return [entry.name for entry in entries if entry is not None and needs_card(entry)]
