"""Team rules as pure functions: member state and roster order, the digest, once-only alerts,
the escalation rule, the weekly and daily schedule in the team's zone, and message pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from scheduler.cycles import State
from scheduler.team import (
    ESCALATE_AFTER,
    Member,
    MemberState,
    Renewal,
    Shared,
    alert_owed,
    digest,
    escalation_due,
    next_daily,
    next_digest,
    next_weekly,
    paginate,
    roster_order,
    same_week,
)

TODAY = date(2027, 3, 10)


def shared(cid: int, days: int | None, state: State, name: str = "ACE-CPT") -> Shared:
    end = None if days is None else TODAY + timedelta(days=days)
    return Shared(cid, name, end, state, Decimal(1), Decimal(2), "CEC")


def member(uid: int, name: str, *credentials: Shared, joined: date = date(2027, 1, 1)) -> Member:
    return Member(uid, name, joined, tuple(credentials))


def test_member_state_is_the_most_urgent_credential() -> None:
    assert member(1, "A").state is MemberState.NO_CREDENTIALS
    assert member(1, "A", shared(1, 400, State.ON_TRACK)).state is MemberState.OK
    mixed = member(1, "A", shared(1, 400, State.ON_TRACK), shared(2, -10, State.IN_GRACE))
    assert mixed.state is MemberState.IN_GRACE
    assert (
        member(1, "A", shared(1, 20, State.DUE_SOON), shared(2, -400, State.EXPIRED)).state
        is MemberState.EXPIRED
    )


def test_roster_order_by_urgency_then_deadline_then_name() -> None:
    people = [
        member(1, "ok", shared(1, 400, State.ON_TRACK)),
        member(2, "none"),
        member(3, "soon later", shared(3, 60, State.DUE_SOON)),
        member(4, "soon first", shared(4, 5, State.DUE_SOON)),
        member(5, "grace", shared(5, -3, State.IN_GRACE)),
        member(6, "expired", shared(6, -400, State.EXPIRED)),
        member(7, "Bea", shared(7, 60, State.DUE_SOON)),
    ]
    assert [m.name for m in roster_order(people)] == [
        "expired",
        "grace",
        "soon first",
        "Bea",
        "soon later",
        "none",
        "ok",
    ]


def test_digest_lists_30_days_grace_expired_and_renewals() -> None:
    people = [
        member(1, "Ana", shared(1, 30, State.DUE_SOON), shared(2, 31, State.DUE_SOON)),
        member(2, "Ben", shared(3, -5, State.IN_GRACE)),
        member(3, "Cai", shared(4, -500, State.EXPIRED), shared(5, None, State.ON_TRACK)),
        member(4, "Dan", shared(6, 2, State.DUE_SOON)),
    ]
    result = digest(people, TODAY, [Renewal("Eva", "NASM-CPT")])
    assert [(m.member.name, m.credential.credential_id) for m in result.due] == [
        ("Dan", 6),
        ("Ana", 1),
    ]
    assert [m.member.name for m in result.grace] == ["Ben"]
    assert [m.member.name for m in result.expired] == ["Cai"]
    assert result.renewed == (Renewal("Eva", "NASM-CPT"),) and result.members == 4
    assert not result.all_clear
    assert digest([member(1, "Ok", shared(1, 300, State.ON_TRACK))], TODAY).all_clear


def test_alerts_once_and_never_for_what_happened_before_joining() -> None:
    soon = shared(1, 30, State.DUE_SOON)
    assert alert_owed(soon, date(2027, 1, 1), TODAY, set()) == "d30"
    assert alert_owed(soon, date(2027, 1, 1), TODAY, {"d30"}) is None
    assert alert_owed(shared(1, 31, State.DUE_SOON), date(2027, 1, 1), TODAY, ()) is None
    # Joined when already inside the last 30 days: the digest shows it, no alert.
    inside = shared(1, 10, State.DUE_SOON)
    assert alert_owed(inside, TODAY - timedelta(days=5), TODAY, ()) is None
    lapsed = shared(1, -1, State.IN_GRACE)
    assert alert_owed(lapsed, date(2027, 1, 1), TODAY, {"d30"}) == "lapsed"
    assert alert_owed(lapsed, date(2027, 1, 1), TODAY, {"lapsed"}) is None
    assert alert_owed(lapsed, TODAY, TODAY, ()) is None  # lapsed the day before joining
    assert alert_owed(lapsed, TODAY - timedelta(days=1), TODAY, ()) == "lapsed"
    assert alert_owed(shared(1, None, State.ON_TRACK), date(2027, 1, 1), TODAY, ()) is None


def test_escalation_only_after_a_day_without_an_answer() -> None:
    sent = datetime(2027, 3, 10, 8, tzinfo=UTC)
    end = date(2027, 3, 10)
    assert not escalation_due(sent, False, end, end, sent + ESCALATE_AFTER - timedelta(minutes=1))
    assert escalation_due(sent, False, end, end, sent + ESCALATE_AFTER)
    assert not escalation_due(sent, True, end, end, sent + timedelta(days=2))  # answered
    renewed = date(2029, 3, 10)
    assert not escalation_due(sent, False, end, renewed, sent + timedelta(days=2))
    assert not escalation_due(None, False, end, end, sent + timedelta(days=2))
    assert not escalation_due(sent, False, end, end, sent + timedelta(days=30))  # history


def test_weekly_and_daily_times_at_the_local_hour_across_dst() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    # Saturday 28 March 2026, noon in Madrid; clocks go forward that night.
    now = datetime(2026, 3, 28, 12, tzinfo=madrid).astimezone(UTC)
    monday = next_weekly("Europe/Madrid", 0, 9, now)
    assert monday.astimezone(madrid) == datetime(2026, 3, 30, 9, tzinfo=madrid)
    assert monday == datetime(2026, 3, 30, 7, tzinfo=UTC)  # UTC+2 after the change
    saturday = next_weekly("Europe/Madrid", 5, 9, now)  # today's 9:00 is past: next week
    assert saturday.astimezone(madrid).date() == date(2026, 4, 4)
    assert next_weekly("Europe/Madrid", 5, 13, now).astimezone(madrid).date() == date(2026, 3, 28)
    assert next_daily("Europe/Madrid", 9, now) == datetime(2026, 3, 29, 7, tzinfo=UTC)
    exactly = datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert next_daily("Europe/Madrid", 9, exactly) == datetime(2026, 3, 30, 7, tzinfo=UTC)


def test_never_two_digests_in_one_local_week() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    monday = date(2027, 3, 8)
    after = datetime(2027, 3, 8, 10, tzinfo=madrid)  # an hour after Monday's 9:00 digest
    assert same_week(monday, date(2027, 3, 14)) and not same_week(monday, date(2027, 3, 15))

    def local(moment: datetime) -> tuple[date, int]:
        local = moment.astimezone(madrid)
        return local.date(), local.hour

    # The hour moved to 11, or the day to Wednesday: next week's, not this week's.
    assert local(next_digest("Europe/Madrid", 0, 11, after, monday)) == (date(2027, 3, 15), 11)
    assert local(next_digest("Europe/Madrid", 2, 9, after, monday)) == (date(2027, 3, 17), 9)
    # No digest yet, or last week's: the coming one.
    assert local(next_digest("Europe/Madrid", 0, 11, after, None)) == (date(2027, 3, 8), 11)
    last_week = date(2027, 3, 1)
    assert local(next_digest("Europe/Madrid", 2, 9, after, last_week)) == (date(2027, 3, 10), 9)
    # Sunday's digest, moved to Monday: Monday starts a new week.
    sunday = date(2027, 3, 14)
    later = datetime(2027, 3, 14, 10, tzinfo=madrid)
    assert local(next_digest("Europe/Madrid", 0, 9, later, sunday)) == (date(2027, 3, 15), 9)


def test_pages_fit_telegrams_limit() -> None:
    assert paginate(["a", "b"]) == ["a\n\nb"]
    blocks = ["x" * 3000, "y" * 3000, "\n".join(["z" * 100] * 50)]
    pages = paginate(blocks)
    assert all(len(page) <= 4096 for page in pages)
    assert "".join(pages).count("x") == 3000 and "".join(pages).count("z") == 5000
    assert len(pages) == 4


def test_ladders_read_and_written() -> None:
    from scheduler.team import (
        DEFAULT_LADDER,
        Audience,
        Step,
        changed_step,
        format_ladder,
        parse_ladder,
    )

    assert format_ladder(DEFAULT_LADDER) == "t60,m30s,g-"
    assert parse_ladder("g7", DEFAULT_LADDER)[2] == Step(Audience.GROUP, 7)
    # Unreadable or unknown days fall back to the default, never to a step at random.
    for junk in ("", "x1,,", "t61", "m-5", "gseven", "t60s60"):
        assert parse_ladder(junk, DEFAULT_LADDER) == DEFAULT_LADDER, junk
    steps = changed_step(DEFAULT_LADDER, Audience.MANAGERS, days=False, short=True)
    assert format_ladder(steps) == "t60,m30,g-"
    steps = changed_step(steps, Audience.TRAINER, days=True, short=False)
    assert format_ladder(steps) == "t45,m30,g-"  # the next choice down
    last = parse_ladder("t1", DEFAULT_LADDER)
    assert changed_step(last, Audience.TRAINER, days=True, short=False)[0].days is None


def test_ladder_steps_owed() -> None:
    from scheduler.standing import Urgency
    from scheduler.team import DEFAULT_CARD_LADDER, DEFAULT_LADDER, steps_owed

    def held(days: int, counted: str = "0", cpr: bool = False) -> Shared:
        return Shared(
            1,
            "X",
            TODAY + timedelta(days=days),
            State.DUE_SOON if days >= 0 else State.IN_GRACE,
            Decimal(counted),
            None if cpr else Decimal(2),
            None,
            urgency=Urgency.SOON if days >= 0 else Urgency.GRACE,
            days_left=days,
            cpr=cpr,
        )

    joined = TODAY - timedelta(days=100)

    def kinds(steps, credential, said=()):  # type: ignore[no-untyped-def]
        return [s.kind for s in steps_owed(steps, credential, joined, TODAY, said)]

    assert kinds(DEFAULT_LADDER, held(61)) == []
    assert kinds(DEFAULT_LADDER, held(60)) == ["ladder:t"]
    assert kinds(DEFAULT_LADDER, held(30)) == ["ladder:t", "ladder:m"]  # short of credits
    assert kinds(DEFAULT_LADDER, held(30, "2")) == ["ladder:t"]  # credits complete
    assert kinds(DEFAULT_LADDER, held(30), said={"ladder:t"}) == ["ladder:m"]  # once only
    assert kinds(DEFAULT_LADDER, held(-1)) == []  # past the deadline: the alerts' business
    assert kinds(DEFAULT_CARD_LADDER, held(60, cpr=True)) == ["ladder:t", "ladder:m"]
    # A step whose day came by the day the member joined is left to the digest.
    assert steps_owed(DEFAULT_LADDER, held(30), TODAY, TODAY, ()) == []
    yesterday = TODAY - timedelta(days=1)
    owed = steps_owed(DEFAULT_LADDER, held(30), yesterday, TODAY, ())
    assert [s.kind for s in owed] == ["ladder:m"]  # the trainer's day (60) came before
