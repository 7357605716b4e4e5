"""Nudge planning as pure functions: milestones at the local hour across DST, grace, pace,
repeats, snoozes, and what is due after downtime."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from scheduler.cycles import Cycle
from scheduler.plan import (
    Milestone,
    Prefs,
    Subject,
    due,
    milestones,
    next_at,
    next_reminder,
    owed,
    snooze_until,
)

MADRID = Prefs("Europe/Madrid", 9)
SET_AT = datetime(2025, 1, 1, tzinfo=UTC)


def subject(end: date, **kwargs: object) -> Subject:
    fields = {
        "cycle": Cycle(end - timedelta(days=730), end, Decimal(2)),
        "grace_end": end + timedelta(days=90),
        "counted": Decimal(2),
        "cycle_set_at": SET_AT,
    }
    fields.update(kwargs)
    return Subject(**fields)  # type: ignore[arg-type]


def test_milestones_stay_at_nine_local_across_dst() -> None:
    plan = {p.milestone.key: p.due_at for p in milestones(subject(date(2026, 4, 15)), MADRID)}
    # 180 days before (17 Oct 2025) Madrid is on summer time (UTC+2); 30 days before (16 Mar
    # 2026) on winter time (UTC+1); 14 days before (1 Apr) on summer time again.
    assert plan["d180"] == datetime(2025, 10, 17, 7, tzinfo=UTC)
    assert plan["d30"] == datetime(2026, 3, 16, 8, tzinfo=UTC)
    assert plan["d14"] == datetime(2026, 4, 1, 7, tzinfo=UTC)
    assert plan["d0"] == datetime(2026, 4, 15, 7, tzinfo=UTC)
    assert [m for m in plan if m.startswith("grace")] == ["grace1", "grace31", "grace61"]
    assert plan["after"] == datetime(2026, 7, 15, 7, tzinfo=UTC)  # 91 days after the end


def test_intensity_changes_the_milestones() -> None:
    gentle = milestones(subject(date(2026, 4, 15)), Prefs("UTC", 9, "gentle"))
    intense = milestones(subject(date(2026, 4, 15)), Prefs("UTC", 9, "intense"))
    assert [p.milestone.key for p in gentle if p.milestone.key.startswith("d")] == [
        "d90",
        "d30",
        "d7",
        "d0",
    ]
    assert len(intense) > len(milestones(subject(date(2026, 4, 15)), MADRID))


def test_after_downtime_only_the_most_urgent_is_sent() -> None:
    credential = subject(date(2026, 4, 15))
    now = datetime(2026, 4, 9, 7, 30, tzinfo=UTC)  # 9:30 in Madrid; d180 ... d7 unrecorded
    owed_now = due(credential, MADRID, now, recorded=set())
    assert owed_now[0].milestone.key == "d7"
    assert {p.milestone.key for p in owed_now} == {"d180", "d90", "d60", "d30", "d14", "d7"}
    assert next_at(credential, MADRID, now, {p.milestone.key for p in owed_now}) == datetime(
        2026, 4, 12, 7, tzinfo=UTC
    )  # d3


def test_a_catch_up_after_downtime_waits_for_the_trainers_hour() -> None:
    credential = subject(date(2026, 4, 15))
    three_am = datetime(2026, 4, 9, 1, tzinfo=UTC)  # 3:00 in Madrid: d7 was due yesterday
    assert due(credential, MADRID, three_am, recorded=set()) == []
    nine = datetime(2026, 4, 9, 7, tzinfo=UTC)
    assert next_at(credential, MADRID, three_am, set()) == nine
    found = next_reminder(credential, MADRID, three_am, set())
    assert found is not None and found[0].milestone.key == "d7" and found[1] == nine
    assert due(credential, MADRID, nine, recorded=set())[0].milestone.key == "d7"


def test_a_catch_up_is_not_repeated_the_same_day() -> None:
    # d3 went out at 9:00 on d2's day (a catch-up): the repeats start the day after.
    sent = subject(date(2026, 4, 15), final_unanswered_since=date(2026, 4, 13))
    later = datetime(2026, 4, 13, 7, 5, tzinfo=UTC)
    assert due(sent, MADRID, later, {"d180", "d90", "d60", "d30", "d14", "d7", "d3"}) == []


def test_snooze_never_passes_the_deadline_day() -> None:
    day_before = datetime(2026, 4, 14, 8, tzinfo=UTC)
    until, shortened = snooze_until(date(2026, 4, 15), MADRID, day_before, 7)
    assert until == datetime(2026, 4, 15, 7, tzinfo=UTC) and shortened
    # In the final week a week's snooze stops at tomorrow: the daily repeats go on.
    until, shortened = snooze_until(
        date(2026, 4, 15), MADRID, datetime(2026, 4, 10, 8, tzinfo=UTC), 7
    )
    assert until == datetime(2026, 4, 11, 7, tzinfo=UTC) and shortened
    # Far from the deadline a week is a week.
    until, shortened = snooze_until(date(2026, 9, 15), MADRID, day_before, 7)
    assert until == datetime(2026, 4, 21, 7, tzinfo=UTC) and not shortened


def test_milestone_keys_round_trip() -> None:
    for key in (
        "d0",
        "d180",
        "repeat-d5",
        "grace31",
        "after",
        "pace-2026-11",
        "snooze-202604090700",
    ):
        assert Milestone.parse(key).key == key
    assert Milestone.parse("d3").final_week and not Milestone.parse("d14").final_week
    assert (
        Milestone.parse("after").urgency
        > Milestone.parse("grace31").urgency
        > Milestone.parse("d0").urgency
    )


def test_new_credentials_are_not_owed_past_milestones() -> None:
    credential = subject(date(2026, 4, 15), cycle_set_at=datetime(2026, 3, 20, tzinfo=UTC))
    assert due(credential, MADRID, datetime(2026, 3, 20, 10, tzinfo=UTC), set()) == []
    assert next_at(credential, MADRID, datetime(2026, 3, 20, 10, tzinfo=UTC), set()) == datetime(
        2026, 4, 1, 7, tzinfo=UTC
    )


def test_snooze_stop_and_pace() -> None:
    snoozed = subject(date(2026, 4, 15), snoozed_until=datetime(2026, 4, 11, tzinfo=UTC))
    assert due(snoozed, MADRID, datetime(2026, 4, 9, 12, tzinfo=UTC), set()) == []
    assert next_at(
        snoozed,
        MADRID,
        datetime(2026, 4, 9, 12, tzinfo=UTC),
        {"d180", "d90", "d60", "d30", "d14", "d7"},
    ) == datetime(2026, 4, 11, tzinfo=UTC)  # the snooze itself is the next reminder
    assert (
        owed(
            subject(date(2026, 4, 15), stopped=True),
            MADRID,
            datetime(2026, 1, 1, tzinfo=UTC),
            set(),
        )
        == []
    )
    behind = subject(date(2027, 4, 15), counted=Decimal(0))
    pace_items = [
        p
        for p in owed(behind, MADRID, datetime(2026, 11, 24, 12, tzinfo=UTC), set())
        if p.milestone.key.startswith("pace")
    ]
    # November's (due on the 1st) is long past: only next month's is owed.
    assert [p.milestone.key for p in pace_items] == ["pace-2026-12"]
    assert pace_items[0].due_at == datetime(2026, 12, 1, 8, tzinfo=UTC)  # 9:00 Madrid


def test_final_week_repeats_while_unanswered_outside_quiet_hours() -> None:
    quiet = Prefs("Europe/Madrid", 8, quiet_start=22, quiet_end=10)
    waiting = subject(date(2026, 4, 15), final_unanswered_since=date(2026, 4, 8))
    repeats = {
        p.milestone.key: p.due_at
        for p in owed(waiting, quiet, datetime(2026, 4, 8, tzinfo=UTC), {"d7"})
        if p.milestone.key.startswith("repeat")
    }
    assert set(repeats) == {"repeat-d6", "repeat-d5", "repeat-d4", "repeat-d2"}
    assert repeats["repeat-d6"] == datetime(2026, 4, 9, 8, tzinfo=UTC)  # 10:00 Madrid
    answered = subject(date(2026, 4, 15))
    assert not [
        p
        for p in owed(answered, quiet, datetime(2026, 4, 8, tzinfo=UTC), {"d7"})
        if p.milestone.key.startswith("repeat")
    ]


def test_a_snooze_is_a_reminder_at_the_time_chosen() -> None:
    # Snoozed at d7 for a day: the reminder comes on d6, not only at d3.
    until = datetime(2026, 4, 9, 7, tzinfo=UTC)
    snoozed = subject(date(2026, 4, 15), snoozed_until=until)
    recorded = {"d180", "d90", "d60", "d30", "d14", "d7"}
    assert next_at(snoozed, MADRID, datetime(2026, 4, 8, 8, tzinfo=UTC), recorded) == until
    [first, *_rest] = due(snoozed, MADRID, until, recorded)
    assert first.milestone.key == "snooze-202604090700"


def test_card_only_credentials_get_every_milestone() -> None:
    from scheduler.cycles import CycleEnd, Rule, cycle_from_expiry

    ces = cycle_from_expiry(Rule(CycleEnd.CARD_ONLY), date(2027, 6, 30))
    planned = [p.milestone.key for p in milestones(Subject(ces, None, Decimal(0), SET_AT), MADRID)]
    assert planned[:3] == ["d180", "d90", "d60"] and "d0" in planned


def test_pace_is_checked_monthly_and_never_late_at_night() -> None:
    # Ahead of pace now: still looked at on the 1st of next month.
    ahead = subject(date(2028, 6, 1), counted=Decimal("1.9"))
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert next_at(ahead, MADRID, now, set()) == datetime(2026, 12, 1, 8, tzinfo=UTC)
    # Behind, but it is the 14th at 23:00 (a credit was just undone): this month's pace
    # reminder is not sent now; next month's is planned.
    behind = subject(date(2028, 6, 1), counted=Decimal(0))
    late = datetime(2026, 11, 14, 22, tzinfo=UTC)
    assert not [p for p in due(behind, MADRID, late, set()) if p.milestone.key.startswith("pace")]
    assert "pace-2026-12" in {p.milestone.key for p in owed(behind, MADRID, late, set())}
