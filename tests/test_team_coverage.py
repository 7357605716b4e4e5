"""Coverage at a glance, through the real Application and the offline Bot API, on both
databases: the roster and the digest open with the team's figures (checked against each
member's credentials' standings), the change since last week, the roster's filters, and the
roster, its CSV and the digest costing as many statements for 500 members as for 5."""

from __future__ import annotations

import csv
import io
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from PIL import Image
from sqlalchemy import event
from sqlmodel import select

from bot.offline import Chat, Person
from handlers import card
from scheduler.cycles import Cycle
from scheduler.entries import needs_card
from scheduler.standing import Urgency, standing_on
from scheduler.team_job import run_team_tick
from storage import credentials, credits, teams, trainers
from storage.models import Team, TeamCoverage, TeamMember
from tests.conftest import Bot
from tests.test_teams import MADRID, bot_texts, madrid, madrid_trainer, stored_team

# Five kinds of member, as of the team's today (none on a day an alert would fall on):
# 0 current, with a current CPR/AED card; 1 due in 20 days, its CPR/AED card lapsed;
# 2 due in 60 days, no card; 3 in ACE's grace period; 4 lapsed past NASM's grace.
KINDS = (
    (("ace-cpt", 400, Decimal("2.0")), ("aha-cpr", 500, None)),
    (("nasm-cpt", 20, None), ("aha-cpr", -30, None)),
    (("ace-cpt", 60, Decimal("0.5")),),
    (("ace-cpt", -30, None),),
    (("nasm-cpt", -400, None),),
)


def add_members(bot: Bot, team_id: int, count: int, today: date, first_id: int) -> object:
    def add(session):  # type: ignore[no-untyped-def]
        for number in range(count):
            uid = first_id + number
            trainers.start(session, uid, f"Member {number:03d}", "en", 9)
            session.flush()
            for catalog_id, days, earned in KINDS[number % len(KINDS)]:
                end = today + timedelta(days=days)
                units = Decimal("2.0") if catalog_id != "aha-cpr" else None
                saved = credentials.add(
                    session,
                    uid,
                    Cycle(end - timedelta(days=730), end, units),
                    catalog_id=catalog_id,
                )
                if earned:
                    credentials.add_credit(
                        session, uid, saved.id, earned, end - timedelta(days=100), "Course"
                    )
            teams.answer(session, team_id, uid, True)

    return bot.db.run(add)


async def group_with_team(bot: Bot, boss: Person, title: str) -> tuple[Chat, Team]:
    group = bot.api.new_group(title)
    await bot.api.join(group, boss, "creator")
    await bot.api.add_bot(group, boss)
    await boss.send("/team@recert_bot", chat=group)
    team = await stored_team(bot, group)
    assert team is not None and team.id is not None
    return group, team


async def expected_figures(bot: Bot, team: Team, today: date) -> dict[str, int]:
    """The figures worked out here from each member's own credentials and standings (what
    /status reads), not from the team's code."""
    catalog = bot.catalog
    team_id = team.id

    def read(session):  # type: ignore[no-untyped-def]
        ids = session.exec(
            select(TeamMember.trainer_id).where(
                TeamMember.team_id == team_id, TeamMember.status == teams.SHARED
            )
        ).all()
        return {uid: credits.status(session, uid, catalog) for uid in ids}

    by_member = await bot.db.run(read)
    figures = dict.fromkeys(
        ("members", "current", "due_30", "due_90", "grace", "lapsed", "cpr", "cpr_needed"), 0
    )
    for held in by_member.values():
        figures["members"] += 1
        rows = []
        for progress in held:
            entry = catalog.get(progress.credential.catalog_id)
            standing = standing_on(progress.holding, progress.earned, today)
            rows.append((entry, standing))
        before_deadline = [s.urgency not in (Urgency.GRACE, Urgency.LAPSED) for _e, s in rows]
        figures["current"] += bool(rows) and all(before_deadline)
        left = [s.days_left for _e, s in rows if s.urgency not in (Urgency.GRACE, Urgency.LAPSED)]
        figures["due_30"] += any(d is not None and d <= 30 for d in left)
        figures["due_90"] += any(d is not None and d <= 90 for d in left)
        figures["grace"] += any(s.urgency is Urgency.GRACE for _e, s in rows)
        figures["lapsed"] += any(s.urgency is Urgency.LAPSED for _e, s in rows)
        cards = [s for e, s in rows if e is not None and e.is_cpr]
        figures["cpr"] += any(s.urgency not in (Urgency.GRACE, Urgency.LAPSED) for s in cards)
        figures["cpr_needed"] += bool(cards) or any(needs_card(e) for e, _s in rows)
    return figures


def coverage_lines(f: dict[str, int]) -> list[str]:
    return [
        f"✅ Current: {f['current']} of {f['members']}",
        f"🟡 Due within 30 days: {f['due_30']} · within 90 days: {f['due_90']}",
        f"🟠 In the grace period: {f['grace']} · 🔴 Lapsed: {f['lapsed']}",
        f"❤️ CPR/AED current: {f['cpr']} of {f['cpr_needed']} who need a card",
    ]


async def test_coverage_filters_and_the_change_since_last_week(bot: Bot) -> None:
    today = madrid_today()
    noon = madrid(today, 12)
    bot.application.bot_data["clock"] = lambda: noon
    boss = await madrid_trainer(bot, "Maria", 501)
    _group, team = await group_with_team(bot, boss, "Iron Gym trainers")
    assert team.id is not None
    await add_members(bot, team.id, 5, today, 10_000)

    await boss.send("/roster")
    roster = boss.last_text
    expected = await expected_figures(bot, team, today)
    # The kinds above, as a manager would count them: two current (0 and 2), one due within
    # 30 days, two within 90, one in grace, two lapsed (a card and a NASM-CPT), one card.
    assert expected == {
        "members": 5,
        "current": 2,
        "due_30": 1,
        "due_90": 2,
        "grace": 1,
        "lapsed": 2,
        "cpr": 1,
        "cpr_needed": 5,
    }
    for line in coverage_lines(expected):
        assert line in roster, (line, roster)
    assert "change since last week" not in roster  # nothing kept before this week

    # Filters, as buttons; the one in use is ticked, and pressed again shows everyone.
    assert {"Due soon", "Lapsed", "CPR/AED"} <= set(boss.buttons)
    await boss.press("Due soon")
    soon = boss.last_text
    assert "Filter: Due soon · 2 of 5" in soon
    assert "Member 001" in soon and "Member 002" in soon and "Member 000" not in soon
    assert "✓ Due soon" in boss.buttons
    await boss.press("Lapsed")
    lapsed = boss.last_text
    assert "Filter: Lapsed · 3 of 5" in lapsed
    assert all(f"Member 00{n}" in lapsed for n in (1, 3, 4)) and "Member 000" not in lapsed
    await boss.press("CPR/AED")
    cpr = boss.last_text
    # Everyone's certification needs a card; only Member 000 holds a current one (due later).
    assert "Filter: CPR/AED · 4 of 5" in cpr and "Member 000" not in cpr
    # A member opened from a filtered roster goes back to it.
    await boss.press("Member 003")
    await boss.press("◀ Roster")
    assert "Filter: CPR/AED · 4 of 5" in boss.last_text
    # The page as a picture, as filtered: a row per member shown, under the team's figures.
    await boss.press("🖼 As a picture")
    sent = boss.last
    assert sent["caption"] == (
        "Iron Gym trainers · 2 of 5 current · 1 due within 30 days · 2 lapsed"
    )
    picture = Image.open(io.BytesIO(bot.api.files[sent["photo"][-1]["file_id"]].data))
    assert picture.height == card.HEADER + card.ROW * 4 + card.PAD // 2 + 8
    await boss.press("✓ CPR/AED")
    shown = str(boss.inbox[-2]["text"])  # the roster, changed in place above the picture
    assert "Filter:" not in shown and "Member 000" in shown

    # A week later Member 003 renewed (a new cycle) and a sixth member joined: the figures
    # say what changed since the week's snapshot.
    week_later = noon + timedelta(days=7)
    bot.application.bot_data["clock"] = lambda: week_later
    later = today + timedelta(days=7)

    def renew(session):  # type: ignore[no-untyped-def]
        (held,) = credentials.credentials_of(session, 10_003)
        held.cycle_start, held.cycle_end = later, later + timedelta(days=730)

    await bot.db.run(renew)
    await add_members(bot, team.id, 1, later, 20_000)  # kind 0: current, with a card
    await boss.send("/roster")
    roster = boss.last_text
    now_expected = await expected_figures(bot, team, later)
    assert now_expected["members"] == 6 and now_expected["current"] == 4
    assert "📊 Coverage (change since last week)" in roster
    assert "✅ Current: 4 (+2) of 6 (+1)" in roster
    assert "🟠 In the grace period: 0 (−1)" in roster
    assert "❤️ CPR/AED current: 2 (+1) of 6 (+1) who need a card" in roster


def madrid_today() -> date:
    return datetime.now(MADRID).date()


async def test_digest_opens_with_the_figures(bot: Bot) -> None:
    today = madrid_today()
    boss = await madrid_trainer(bot, "Maria", 501)
    group, team = await group_with_team(bot, boss, "Iron Gym trainers")
    assert team.id is not None
    await add_members(bot, team.id, 5, today, 10_000)
    tomorrow = today + timedelta(days=1)
    team_id = team.id
    await bot.db.run(
        lambda s: teams.configure(s, team_id, madrid(today, 0), weekday=tomorrow.weekday())
    )
    await run_team_tick(bot.application, madrid(tomorrow, 8))  # any check owed before
    posted = len(bot_texts(bot, group))
    tick = await run_team_tick(bot.application, madrid(tomorrow, 9))
    assert tick.digests == 1
    digest = "\n".join(bot_texts(bot, group)[posted:])
    expected = await expected_figures(bot, team, tomorrow)
    assert "Weekly digest for Iron Gym trainers" in digest
    for line in coverage_lines(expected):
        assert line in digest, (line, digest)
    stored = await bot.db.run(lambda s: s.get(TeamCoverage, (team_id, teams.week_of(tomorrow))))
    assert stored is not None and (stored.members, stored.current) == (5, expected["current"])


# Set while a unit of work of PTB's persistence runs: its five-second flush of what changed
# (the manager's own user data) may fall inside any measured window, and is no cost of the
# team's size.
QUIET: ContextVar[bool] = ContextVar("quiet", default=False)


class QuietDatabase:
    """The database as the persistence sees it in this test: its statements are not counted."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    async def run(self, work: Any) -> Any:
        def quiet(session: Any) -> Any:
            token = QUIET.set(True)
            try:
                result = work(session)
                session.flush()  # its writes inside, not at the commit after
                return result
            finally:
                QUIET.reset(token)

        return await self._db.run(quiet)


def count_statements(bot: Bot) -> list[int]:
    """A counter of the statements the bot runs, outside the persistence's flushes."""
    counter = [0]

    def count(*_args: Any) -> None:
        if not QUIET.get():
            counter[0] += 1

    event.listen(bot.db.sync_engine, "before_cursor_execute", count)
    persistence = bot.application.persistence
    quiet = QuietDatabase(bot.db)
    persistence.db = quiet
    persistence._user_data._db = quiet
    persistence._states._db = quiet
    return counter


async def test_statements_do_not_grow_with_the_team(bot: Bot) -> None:
    """The roster, its CSV and the digest for 500 members take as many statements as for 5."""
    statements = count_statements(bot)
    today = madrid_today()
    tomorrow = today + timedelta(days=1)
    boss = await madrid_trainer(bot, "Maria", 501)
    _small_group, small = await group_with_team(bot, boss, "Small gym")
    _big_group, big = await group_with_team(bot, boss, "Big gym")
    assert small.id is not None and big.id is not None
    await add_members(bot, small.id, 5, today, 10_000)
    await add_members(bot, big.id, 500, today, 20_000)
    for team, hour in ((small, 9), (big, 11)):
        team_id = team.id
        await bot.db.run(
            lambda s, t=team_id, h=hour: teams.configure(
                s, t, madrid(today, 0), weekday=tomorrow.weekday(), hour=h
            )
        )
    await run_team_tick(bot.application, madrid(tomorrow, 8))  # checks owed before, if any

    async def counted(action) -> int:  # type: ignore[no-untyped-def]
        before = statements[0]
        await action()
        return statements[0] - before

    async def open_roster(title: str) -> None:
        await boss.send("/roster")
        await boss.press(title)

    roster = {}
    csv_cost = {}
    for team in (small, big):
        roster[team.title] = await counted(lambda t=team.title: open_roster(t))
        size = 5 if team is small else 500
        assert f"{size} members share" in boss.last_text
        csv_cost[team.title] = await counted(lambda: boss.press("⬇️ CSV"))
        document = boss.last["document"]
        data = bot.api.files[document["file_id"]].data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(data)))
        # A row per credential: kinds 0 and 1 hold two.
        assert len(rows) - 1 == size * 7 // 5
    assert roster["Small gym"] == roster["Big gym"], roster
    assert csv_cost["Small gym"] == csv_cost["Big gym"], csv_cost

    digest = {}
    for title, hour in (("Small gym", 9), ("Big gym", 11)):
        before = statements[0]
        tick = await run_team_tick(bot.application, madrid(tomorrow, hour))
        digest[title] = statements[0] - before
        assert tick.digests == 1 and tick.alerts == 0
    assert digest["Small gym"] == digest["Big gym"], digest
    assert "✅ Current: 200 of 500" in "\n".join(text for _chat, text in tick.messages)
