"""The renewal rules as pure functions: each body's way of ending a cycle."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from scheduler.cycles import (
    Cycle,
    CycleEnd,
    Rule,
    RuleError,
    State,
    counts_on,
    credits_close,
    cycle_from_expiry,
    cycle_from_start,
    grace_end,
    next_cycle,
    state_of,
    waived_period,
)

TODAY = date(2026, 11, 24)
NASM = Rule(CycleEnd.ANNIVERSARY, 24, Decimal("2.0"), grace_period_days=365)
NCSF = Rule(CycleEnd.END_OF_MONTH, 24, Decimal("10"))
ACSM = Rule(CycleEnd.DECEMBER_31, 36, Decimal("45"), grace_period_days=181)
NSCA = Rule(
    CycleEnd.FIXED_PERIOD,
    36,
    Decimal("6.0"),
    period_anchor=date(2024, 1, 1),
    period_years=3,
    prorated=(
        (date(2024, 1, 1), Decimal("6.0")),
        (date(2025, 1, 1), Decimal("4.0")),
        (date(2026, 1, 1), Decimal("2.0")),
        (date(2026, 7, 1), Decimal("1.0")),
        (date(2027, 1, 1), Decimal("0.0")),
    ),
)
CES = Rule(CycleEnd.CARD_ONLY)


def test_anniversary() -> None:
    cycle = cycle_from_start(NASM, date(2025, 3, 15), TODAY)
    assert cycle == Cycle(date(2025, 3, 15), date(2027, 3, 15), Decimal("2.0"))
    assert cycle_from_expiry(NASM, date(2027, 3, 15)).start == date(2025, 3, 15)
    leap = cycle_from_start(NASM, date(2024, 2, 29), TODAY)
    assert leap.end == date(2026, 2, 28)


def test_ncsf_ends_on_the_last_day_of_the_month() -> None:
    assert cycle_from_start(NCSF, date(2025, 2, 3), TODAY).end == date(2027, 2, 28)
    assert cycle_from_start(NCSF, date(2026, 1, 31), TODAY).end == date(2028, 1, 31)


def test_acsm_ends_on_december_31() -> None:
    cycle = cycle_from_start(ACSM, date(2024, 5, 10), TODAY)
    assert cycle.end == date(2027, 12, 31)
    assert cycle_from_expiry(ACSM, date(2027, 12, 31)).start == date(2025, 1, 1)


@pytest.mark.parametrize(
    ("certified", "units"),
    [
        (date(2019, 6, 1), "6.0"),
        (date(2024, 3, 1), "4.0"),
        (date(2025, 12, 31), "2.0"),
        (date(2026, 2, 1), "1.0"),
    ],
)
def test_nsca_shares_one_period_and_prorates_by_certification_date(
    certified: date, units: str
) -> None:
    cycle = cycle_from_start(NSCA, certified, TODAY)
    assert cycle.end == date(2026, 12, 31)
    assert cycle.units_required == Decimal(units)
    assert cycle.start == max(certified, date(2024, 1, 1))


def test_nsca_certified_late_in_the_last_year_owes_nothing_until_the_next_period() -> None:
    # Certified from 1 July to 31 December of 2026 (the 2024-2026 period's last year): 0.0
    # CEUs for 2024-2026, so the real deadline is the end of 2027-2029, with the full 6.0.
    for certified in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 12, 31)):
        cycle = cycle_from_start(NSCA, certified, certified)
        assert cycle == Cycle(date(2027, 1, 1), date(2029, 12, 31), Decimal("6.0"))
        assert waived_period(NSCA, certified, cycle) == (date(2024, 1, 1), date(2026, 12, 31))
    # Certified on 30 June still owes its 1.0 for 2024-2026; nothing is waived.
    june = cycle_from_start(NSCA, date(2026, 6, 30), date(2026, 6, 30))
    assert june == Cycle(date(2026, 6, 30), date(2026, 12, 31), Decimal("1.0"))
    assert waived_period(NSCA, date(2026, 6, 30), june) is None


def test_acsm_grace_ends_on_30_june_in_leap_years_too() -> None:
    acsm = Rule(CycleEnd.DECEMBER_31, 36, Decimal(45), grace_end=(6, 30))
    assert grace_end(acsm, date(2026, 12, 31)) == date(2027, 6, 30)
    assert grace_end(acsm, date(2027, 12, 31)) == date(2028, 6, 30)  # 2028 is a leap year
    assert state_of(
        acsm, Cycle(date(2025, 1, 1), date(2027, 12, 31), None), date(2028, 6, 30)
    ) is (State.IN_GRACE)
    assert state_of(acsm, Cycle(date(2025, 1, 1), date(2027, 12, 31), None), date(2028, 7, 1)) is (
        State.EXPIRED
    )


def test_nasm_credits_count_until_90_days_after_expiry() -> None:
    nasm = Rule(CycleEnd.ANNIVERSARY, 24, Decimal(2), grace_period_days=365, credits_until_days=90)
    cycle = Cycle(date(2024, 5, 1), date(2026, 5, 1), Decimal(2))
    assert credits_close(nasm, date(2026, 5, 1)) == date(2026, 7, 30)
    assert counts_on(nasm, cycle, date(2026, 7, 30)) and not counts_on(
        nasm, cycle, date(2026, 7, 31)
    )


def test_nsca_next_period_and_its_own_proration() -> None:
    following = next_cycle(NSCA, cycle_from_start(NSCA, date(2020, 1, 1), TODAY))
    assert following == Cycle(date(2027, 1, 1), date(2029, 12, 31), Decimal("6.0"))
    # Certified in the second year of the 2027-2029 period: the table moves with the period.
    later = cycle_from_start(NSCA, date(2028, 3, 1), date(2028, 3, 2))
    assert later.units_required == Decimal("2.0") and later.end == date(2029, 12, 31)


def test_renewal_rolls_forward() -> None:
    cycle = cycle_from_start(NASM, date(2025, 3, 15), TODAY)
    assert next_cycle(NASM, cycle) == Cycle(date(2027, 3, 16), date(2029, 3, 15), Decimal("2.0"))
    with pytest.raises(RuleError):
        next_cycle(CES, cycle_from_start(CES, date(2025, 1, 1), TODAY))


def test_card_only_has_no_expiry_unless_the_card_says() -> None:
    assert cycle_from_start(CES, date(2025, 1, 1), TODAY).end is None
    assert cycle_from_expiry(CES, date(2027, 1, 1)).end == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 1), State.ON_TRACK),
        (date(2026, 12, 16), State.DUE_SOON),
        (date(2027, 3, 15), State.DUE_SOON),
        (date(2027, 3, 16), State.IN_GRACE),
        (date(2028, 3, 14), State.IN_GRACE),
        (date(2028, 3, 15), State.EXPIRED),
    ],
)
def test_standing(today: date, expected: State) -> None:
    cycle = Cycle(date(2025, 3, 15), date(2027, 3, 15), Decimal("2.0"))
    assert state_of(NASM, cycle, today) is expected


def test_a_grace_of_a_year_is_a_calendar_year_across_a_leap_day() -> None:
    # NASM and ISSA: "up to one year after expiry"; 365 days would end it on 29 September.
    year = Rule(CycleEnd.ANNIVERSARY, 24, Decimal(2), grace_months=12)
    assert grace_end(year, date(2027, 9, 30)) == date(2028, 9, 30)
    assert grace_end(year, date(2028, 2, 29)) == date(2029, 2, 28)
    six = Rule(CycleEnd.ANNIVERSARY, 24, Decimal(2), grace_months=6)  # ACE, PMA
    assert grace_end(six, date(2027, 8, 31)) == date(2028, 2, 29)
