"""Small steps many chat tests share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from bot.offline import Person


async def onboard(person: Person, language_button: str, zone_button_prefix: str = "") -> None:
    """/start, pick a language, pick the first suggested city (or the one named)."""
    await person.send("/start")
    await person.press(language_button)
    choice = next(b for b in person.buttons if b.startswith(zone_button_prefix))
    await person.press(choice)


def nsca_now(certified: date, today: date | None = None) -> tuple[date, Decimal]:
    """NSCA's shared period as of today, worked out independently of the bot: the end of the
    three-year period (2024-2026, 2027-2029, ...) and what someone certified then owes; one
    certified from 1 July of the period's last year owes nothing for it: the next period's."""
    today = today or datetime.now(UTC).date()
    start_year = 2024 + 3 * ((today.year - 2024) // 3)
    end = date(start_year + 2, 12, 31)
    if certified < date(start_year, 1, 1):
        return end, Decimal("6.0")
    year_in = certified.year - start_year
    if year_in == 0:
        return end, Decimal("4.0")
    if year_in == 1:
        return end, Decimal("2.0")
    if certified.month < 7:
        return end, Decimal("1.0")
    # Certified in the last year's second half: nothing owed for this period, so the deadline
    # is the next period's end, with the full requirement.
    return date(start_year + 5, 12, 31), Decimal("6.0")
