"""Fine print, caps, pace and reminder days as pure functions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from scheduler.credits import (
    Earned,
    Fineprint,
    Refusal,
    counted,
    excess,
    over_cap,
    pace,
    refusal,
)
from scheduler.cycles import Cycle

CYCLE = Cycle(date(2025, 3, 15), date(2027, 3, 15), D("2.0"))
TODAY = date(2026, 11, 24)


def test_refusals() -> None:
    ace = Fineprint(no_repeats=True)
    webinar = Earned(D("0.5"), date(2026, 1, 10), "Core Stability Webinar")
    assert refusal(CYCLE, [], webinar, ace, TODAY) is None
    assert refusal(CYCLE, [], Earned(D(1), date(2026, 12, 1), "x"), ace, TODAY) is Refusal.FUTURE
    assert (
        refusal(CYCLE, [], Earned(D(1), date(2025, 3, 14), "x"), ace, TODAY)
        is Refusal.BEFORE_CYCLE
    )
    again = Earned(D("0.5"), date(2026, 6, 1), "core stability  webinar")
    assert refusal(CYCLE, [webinar], again, ace, TODAY) is Refusal.REPEAT
    assert refusal(CYCLE, [webinar], again, Fineprint(), TODAY) is None
    short = Cycle(date(2024, 1, 1), date(2025, 1, 1), D(1))
    assert (
        refusal(short, [], Earned(D(1), date(2025, 2, 1), "x"), ace, TODAY) is Refusal.AFTER_CYCLE
    )


def test_nsca_category_caps() -> None:
    caps = Fineprint(caps={"A": D("3.5"), "B": D("3.0")}, min_categories=2)
    earned = [
        Earned(D(3), date(2025, 1, 1), "Conf", "A"),
        Earned(D(1), date(2025, 2, 1), "Q", "B"),
    ]
    new = Earned(D(1), date(2025, 3, 1), "Clinic", "A")
    assert over_cap(earned, new, caps) == D("0.5")
    assert counted([*earned, new], caps) == D("4.5")  # A capped at 3.5, plus B 1
    assert counted([*earned, new], Fineprint()) == D(5)


def test_excess_and_pace() -> None:
    assert excess(D(2), D("1.5"), D(1)) == D("0.5")
    assert excess(D(2), D(3), D(1)) == D(1)
    assert excess(None, D(0), D(1)) == D(0)
    behind = pace(CYCLE, D("0.5"), TODAY)
    assert behind is not None and behind.behind and behind.remaining == D("1.5")
    assert behind.per_month == D("0.41")  # 1.5 over the 111 days (3.65 months) left
    ahead = pace(CYCLE, D("1.8"), TODAY)
    assert ahead is not None and not ahead.behind
    assert pace(Cycle(date(2025, 1, 1), None, D(1)), D(0), TODAY) is None
