"""Texts shared by handlers and jobs: credential names, cycles, days left. All translated."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

from bot.i18n import Translator
from scheduler.cycles import Cycle, Standing
from storage.catalog import Catalog, CatalogEntry
from storage.models import Credential


def credential_name(credential: Credential, catalog: Catalog) -> str:
    """The short name, HTML-escaped (custom names are typed by people)."""
    entry = catalog.get(credential.catalog_id)
    return html.escape(entry.name if entry else credential.custom_name or "?")


def units(tr: Translator, amount: Decimal | None, entry: CatalogEntry | None) -> str:
    """`2 CEU`, `45 CEC`; a custom credential's are plain numbers (the labels around them say
    "credits", which spares the plural agreement of fractions)."""
    if amount is None:
        return tr.gettext("none")
    if entry is not None and entry.unit_name:
        return f"{tr.number(amount)} {entry.unit_name}"
    return tr.number(amount)


def days_left(tr: Translator, end: date, today: date) -> str:
    days = (end - today).days
    if days == 0:
        return tr.gettext("today")
    if days > 0:
        return tr.ngettext("in {count} day", "in {count} days", days).format(count=days)
    return tr.ngettext("{count} day ago", "{count} days ago", -days).format(count=-days)


def standing_label(tr: Translator, value: Standing) -> str:
    return {
        Standing.ON_TRACK: tr.gettext("active"),
        Standing.DUE_SOON: tr.gettext("due soon"),
        Standing.IN_GRACE: tr.gettext("expired, in the grace period"),
        Standing.EXPIRED: tr.gettext("expired"),
    }[value]


def cycle_lines(
    tr: Translator,
    entry: CatalogEntry | None,
    cycle: Cycle,
    today: date,
    certified_on: date | None = None,
) -> list[str]:
    """The facts of one cycle, one per line: dates, requirement, CPR/AED."""
    _ = tr.gettext
    lines = []
    if certified_on is not None:
        lines.append(_("Certified: {date}").format(date=tr.date(certified_on, "long")))
    if cycle.end is None:
        lines.append(_("Expires: no expiry date on file"))
    else:
        lines.append(
            _("Expires: {date} ({left})").format(
                date=tr.date(cycle.end, "long"), left=days_left(tr, cycle.end, today)
            )
        )
    if cycle.units_required:
        requirement = units(tr, cycle.units_required, entry)
        if entry is not None and entry.hours_per_unit:
            hours = cycle.units_required * entry.hours_per_unit
            requirement += " " + _("({hours} hours)").format(hours=tr.number(hours))
        lines.append(_("Credits required: {requirement}").format(requirement=requirement))
    if entry is not None and not entry.is_cpr:
        lines.append(
            _("Current CPR/AED card: required")
            if entry.cpr_aed_required
            else _("Current CPR/AED card: not required")
        )
    return lines


def progress_bar(done: Decimal, required: Decimal, cells: int = 10) -> str:
    """`▰▰▰▰▰▰▰▱▱▱ 75%`: readable at a glance on a phone."""
    share = min(done / required, Decimal(1)) if required else Decimal(1)
    filled = int(share * cells)
    return "▰" * filled + "▱" * (cells - filled) + f" {int(share * 100)}%"
