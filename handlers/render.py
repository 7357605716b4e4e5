"""Texts shared by handlers and jobs: credential names, cycles, days left. All translated."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.amounts import currency_for
from bot.i18n import N_, Translator
from scheduler.cycles import Cycle, State
from scheduler.standing import FINAL_DAYS, URGENT_DAYS, Standing
from storage.catalog import Catalog, CatalogEntry
from storage.models import Credential, Credit

if TYPE_CHECKING:
    from bot.context import RecertContext


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
    if days == 1:
        return tr.gettext("tomorrow")
    if days == -1:
        return tr.gettext("yesterday")
    if days > 0:
        return tr.ngettext("in {count} day", "in {count} days", days).format(count=days)
    return tr.ngettext("{count} day ago", "{count} days ago", -days).format(count=-days)


def standing_label(tr: Translator, value: State) -> str:
    return {
        State.ON_TRACK: tr.gettext("active"),
        State.DUE_SOON: tr.gettext("due soon"),
        State.IN_GRACE: tr.gettext("expired, in the grace period"),
        State.EXPIRED: tr.gettext("expired"),
    }[value]


def cycle_lines(
    tr: Translator,
    entry: CatalogEntry | None,
    cycle: Cycle,
    today: date,
    certified_on: date | None = None,
    standing: Standing | None = None,
) -> list[str]:
    """The facts of one cycle, one per line: dates, requirement, grace and what follows it,
    CPR/AED, and what the body does not confirm (from the standing, when given)."""
    _ = tr.gettext
    lines = []
    if certified_on is not None:
        lines.append(_("Certified: {date}").format(date=tr.date(certified_on, "long")))
    if standing is not None and standing.waived is not None:
        start, end = standing.waived
        lines.append(_("Nothing owed for {period}.").format(period=f"{start.year}–{end.year}"))
    if cycle.end is None:
        lines.append(_("Expires: {date}").format(date=no_deadline_text(tr, entry)))
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
    elif cycle.units_required is not None:
        lines.append(_("Credits: nothing owed this cycle."))
    if standing is not None and standing.remaining and standing.deadline is not None:
        days = standing.days_left
        if days is not None and 0 <= days <= FINAL_DAYS:
            # Due within a week and short: said at once, and the daily reminders start at the
            # next reminder hour (scheduler.standing.subject_for).
            lines.append(
                _(
                    "🔴 {left} to go {when}: I'll remind you every day at your reminder hour."
                ).format(
                    left=units(tr, standing.remaining, entry),
                    when=days_left(tr, standing.deadline, standing.today),
                )
            )
    if standing is not None and standing.grace_end is not None:
        lines.append(
            _("Grace period: a late renewal is accepted until {date}.").format(
                date=tr.date(standing.grace_end, "long")
            )
        )
    if standing is not None and standing.deadline is not None:
        after = after_grace_lines(tr, entry)
        if after:
            lines.append(_("After that: {text}").format(text=after[0]))
    if entry is not None and not entry.is_cpr:
        lines.append(
            _("Current CPR/AED card: required")
            if entry.cpr_aed_required
            else _("Current CPR/AED card: not required")
        )
    if standing is not None:
        lines.extend(uncertain_lines(tr, entry, standing))
    return lines


def progress_bar(done: Decimal, required: Decimal, cells: int = 10) -> str:
    """`▰▰▰▰▰▰▰▱▱▱ 75%`: readable at a glance on a phone."""
    share = min(done / required, Decimal(1)) if required else Decimal(1)
    filled = int(share * cells)
    return "▰" * filled + "▱" * (cells - filled) + f" {int(share * 100)}%"


def _entry_text(texts: dict[str, str] | None, tr: Translator) -> str | None:
    if not texts:
        return None
    text = texts.get(tr.language) or texts.get("en")
    return html.escape(text) if text else None


def after_grace_lines(tr: Translator, entry: CatalogEntry | None) -> list[str]:
    """What can still be done once the grace period is over (the body's own path)."""
    text = _entry_text(entry.after_grace if entry is not None else None, tr)
    return [text] if text else []


def fee_text(tr: Translator, entry: CatalogEntry | None, day_after: int) -> str | None:
    """The late fee the catalog records for this many days after the deadline, if any."""
    for tier in entry.late_fees if entry is not None else ():
        if tier.from_day <= day_after <= tier.to_day:
            return tr.gettext("Late fee: about {amount} USD.").format(amount=tr.number(tier.usd))
    return None


def credit_lines(tr: Translator, standing: Standing, entry: CatalogEntry | None) -> list[str]:
    """Credits against what this cycle owes, with the bar and what is left by when."""
    _ = tr.gettext
    owed = standing.owed
    if not owed:
        return []
    lines = [
        _("Credits: {earned} of {required}").format(
            earned=units(tr, standing.counted, entry), required=units(tr, owed, entry)
        ),
        progress_bar(standing.counted, owed),
    ]
    left, days = standing.remaining, standing.days_left
    if left and days is not None and 0 <= days <= URGENT_DAYS:
        lines.append(
            _("{left} to go {when}.").format(
                left=units(tr, left, entry),
                when=days_left(tr, standing.deadline, standing.today) if standing.deadline else "",
            )
        )
    return lines


def pace_lines(tr: Translator, standing: Standing, entry: CatalogEntry | None) -> list[str]:
    """Against a steady pace, what is left and what that means a month: only while the
    deadline is more than a month away (nearer, "N to go in D days" says it)."""
    _ = tr.gettext
    steady = standing.pace
    if steady is None or standing.complete or (standing.days_left or 0) <= URGENT_DAYS:
        return []
    template = (
        _("Behind pace: {left} to go, about {per_month} a month.")
        if steady.behind
        else _("On pace: {left} to go, about {per_month} a month.")
    )
    return [
        template.format(
            left=units(tr, steady.remaining, entry), per_month=units(tr, steady.per_month, entry)
        )
    ]


def in_grace_lines(tr: Translator, entry: CatalogEntry | None) -> list[str]:
    """What the body lets a trainer do during its grace period, in their language."""
    text = _entry_text(entry.in_grace if entry is not None else None, tr)
    return [text] if text else []


def grace_lines(tr: Translator, standing: Standing, entry: CatalogEntry | None) -> list[str]:
    """In the grace period: until when a late renewal is accepted, the fee, and the credits
    still owed by when (or that their window has closed, and what remains)."""
    _ = tr.gettext
    lines = []
    if standing.grace_end is not None:
        lines.append(
            _("A late renewal is accepted until {date} ({left}).").format(
                date=tr.date(standing.grace_end, "long"),
                left=days_left(tr, standing.grace_end, standing.today),
            )
        )
    if standing.deadline is not None:
        fee = fee_text(tr, entry, (standing.today - standing.deadline).days)
        if fee:
            lines.append(fee)
    if standing.remaining and standing.credits_close is not None:
        if standing.credits_open:
            lines.append(
                _("{left} to go by {date}.").format(
                    left=units(tr, standing.remaining, entry),
                    date=tr.date(standing.credits_close, "long"),
                )
            )
        else:
            lines.append(
                _("The window for credits closed on {date}.").format(
                    date=tr.date(standing.credits_close, "long")
                )
            )
            lines.extend(after_grace_lines(tr, entry))
    elif standing.remaining == 0 and standing.owed:
        lines.append(_("Your credits are complete: renew now to keep it."))
    return lines


# The catalog's uncertain facts as a trainer reads them (see catalog.toml's `uncertain`).
UNCERTAIN_FACTS = {
    "cycle_end": N_("the exact expiry day"),
    "cycle_months": N_("how long a cycle lasts"),
    "units_required": N_("how many credits are required"),
    "unit_name": N_("the unit of credits"),
    "hours_per_unit": N_("how many hours a credit unit is"),
    "cpr_aed_required": N_("whether a CPR/AED card is required"),
    "grace_period_days": N_("how long the grace period is"),
    "grace_end": N_("when the grace period ends"),
    "credits_until_days": N_("how long after expiry credits still count"),
    "late_fees": N_("the late fees"),
    "renewal_fee_usd": N_("the renewal fee"),
    "reinstatement_fee_usd": N_("the reinstatement fee"),
    "counts_toward": N_("what it counts toward"),
    "category_caps": N_("the category limits"),
    "prorated": N_("the reduced requirement for a late start"),
}
# Facts about the dates matter only when the bot worked the dates out.
DATE_FACTS = frozenset({"cycle_end", "cycle_months"})


def uncertain_lines(
    tr: Translator, entry: CatalogEntry | None, standing: Standing | None = None
) -> list[str]:
    """The facts the body does not confirm, said as uncertain, with where to check; and,
    only when the bot computed the deadline, that it did."""
    _ = tr.gettext
    if entry is None:
        return []
    computed = standing is not None and standing.deadline_from_rule
    facts = [
        tr.gettext(UNCERTAIN_FACTS[name])
        for name in entry.uncertain
        if name in UNCERTAIN_FACTS and (computed or name not in DATE_FACTS)
    ]
    lines = []
    if computed and standing is not None and not standing.card_only:
        lines.append(
            _(
                "(Worked out from {body}'s published rule; please compare it with your card.)"
            ).format(body=html.escape(entry.body))
        )
    if facts:
        url = entry.check_url or entry.renew_url or next(iter(entry.sources), None)
        template = (
            _("❔ Not confirmed by {body}: {facts}. Check at {url}")
            if url
            else _("❔ Not confirmed by {body}: {facts}. Check with {body}.")
        )
        lines.append(
            template.format(
                body=html.escape(entry.body), facts=", ".join(facts), url=html.escape(url or "")
            )
        )
    return lines


def no_deadline_text(tr: Translator, entry: CatalogEntry | None, short: bool = False) -> str:
    """A credential without an expiry date: unknown for a catalog entry that publishes no
    cycle (ask for the card's date), none for a custom one that does not expire."""
    _ = tr.gettext
    if entry is None:
        return _("no expiry") if short else _("It does not expire.")
    if short:
        return _("expiry date unknown")
    return _(
        "Expiry date unknown: {body} publishes no renewal rule for it. Check the date in your "
        "{body} account, then add it in /credentials."
    ).format(body=html.escape(entry.body))


def renewal_lines(tr: Translator, standing: Standing, entry: CatalogEntry | None) -> list[str]:
    """Before "I renewed" is confirmed: what is still missing, and the one rule for renewing
    early (the new cycle starts when the current one ends)."""
    _ = tr.gettext
    lines = []
    if standing.owed and standing.remaining:
        lines.append(
            _(
                "⚠️ Your credits look short: {earned} of {required} on file, {left} missing. "
                "Renew only if the body accepted your renewal; otherwise log them first."
            ).format(
                earned=units(tr, standing.counted, entry),
                required=units(tr, standing.owed, entry),
                left=units(tr, standing.remaining, entry),
            )
        )
    if standing.deadline is not None and standing.today < standing.deadline:
        lines.append(
            _(
                "Renewing early: the new cycle starts when this one ends, on {date}; credits "
                "earned until then count toward this cycle."
            ).format(date=tr.date(standing.deadline, "long"))
        )
    return lines


def cost_currency(context: RecertContext, credit: Credit) -> str | None:
    """The currency of a credit's cost: as logged, or (logged before currencies were kept)
    the trainer's; None without a cost."""
    if credit.cost is None:
        return None
    chosen = context.trainer.currency if context.trainer else None
    return credit.cost_currency or currency_for(chosen, context.tr.language)


def spent(context: RecertContext, costs: dict[str | None, Decimal]) -> str:
    """`$129.00 + €120.00`: a cycle's costs, one amount per currency, the trainer's first."""
    chosen = context.trainer.currency if context.trainer else None
    default = currency_for(chosen, context.tr.language)
    totals: dict[str, Decimal] = {}
    for currency, amount in costs.items():
        totals[currency or default] = totals.get(currency or default, Decimal(0)) + amount
    order = sorted(totals, key=lambda code: (code != default, code))  # the trainer's first
    return " + ".join(context.tr.money(totals[code], code) for code in order)
