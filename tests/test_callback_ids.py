"""Forged buttons whose numbers are at and past the range of the column they name, on both
databases: every kind of button that carries an id answers as for a row that is gone (never
the apology, a traceback or a spinner left turning), and nothing stored changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.offline import Person
from storage.models import Credential, Credit, Nudge
from tests.conftest import Bot
from tests.test_hostile import snapshot
from tests.test_teams import gym

# The answers a button gets when what it names is not (or no longer) there.
STALE = {
    "This button no longer works. Please start again.",
    "That credential is not on file (any more).",
    "That entry is not on file (any more).",
    "This team is no longer active.",
    "That person is not on this team's roster.",
    "Only a role that was granted can be revoked: chat administrators are managers while "
    "they are administrators.",
}
ROW_LIMIT = 2**31  # INTEGER ids
USER_LIMIT = 2**63  # BIGINT user ids
ROW_NUMBERS = [ROW_LIMIT - 1, ROW_LIMIT, USER_LIMIT, 10**54]
USER_NUMBERS = [USER_LIMIT - 1, USER_LIMIT, 10**54]

# {n}: a number for an INTEGER id; {u}: for a BIGINT user id. {C}, {K}, {N}, {T}: Ana's
# credential, credit and reminder and the team, so only the field under test is forged.
MINE = [
    "cred:v:{n}", "cred:r:{n}", "cred:ry:{n}:2030-01-01", "cred:x:{n}", "cred:xy:{n}",
    "cred:d:{n}", "cred:n:{n}",
    "hist:c:{n}:0", "hist:c:{C}:{past}", "hist:i:{n}", "hist:p:{n}", "hist:x:{n}",
    "hist:xy:{n}", "hist:eu:{n}", "hist:ed:{n}", "hist:et:{n}",
    "audit:{n}:c", "audit:{C}:p{n}",
    "nudge:log:{n}", "nudge:resume:{n}", "nudge:snz:{n}:1", "nudge:renew:{n}",
    "nudge:stop:{n}", "nudge:stopy:{n}", "nudge:back:{n}",
    "add:spec:{n}:{C}", "add:spec:{C}:{n}",
]  # fmt: skip
MANAGER = [
    "team:r:{n}:0", "team:r:{T}:{past}", "team:csv:{n}", "team:mg:{n}", "team:day:{n}",
    "team:hour:{n}", "team:d:{T}:{past}", "team:link:{n}", "team:lv:{n}", "team:ann:{n}",
    "team:m:{n}:{A}:0", "team:m:{T}:{u}:0", "team:g:{T}:{u}", "team:v:{T}:{u}",
]  # fmt: skip


def _cases(patterns: list[str], ids: dict[str, int]) -> list[tuple[str, bool]]:
    """(data, whether it must be answered as stale): a page or a choice out of range may
    also be answered by the first page, or the question again."""
    cases = []
    for pattern in patterns:
        if "{u}" in pattern:
            numbers = USER_NUMBERS
        elif "{past}" in pattern:  # a page or a choice: only past the range is impossible
            numbers = [ROW_LIMIT, 10**54]
        else:
            numbers = ROW_NUMBERS
        for number in numbers:
            data = pattern.format(n=number, u=number, past=number, **ids)
            data = data.encode()[:64].decode()  # Telegram's limit on callback data
            cases.append((data, "{past}" not in pattern))
    return cases


async def _press_all(bot: Bot, person: Person, cases: list[tuple[str, bool]]) -> None:
    message = person.inbox[-1]
    before = await bot.db.run(lambda s: snapshot(s, 0, False))
    for data, stale in cases:
        answered = len(bot.api.answered_callbacks)
        sent = len(person.inbox)
        await person.press_data(data, message)  # fails if the button is left unanswered
        answer = list(bot.api.answered_callbacks.values())[answered]
        if stale:
            assert answer.get("text") in STALE and answer.get("show_alert"), (data, answer)
        assert len(person.inbox) == sent, (data, person.last_text)  # no apology
    assert await bot.db.run(lambda s: snapshot(s, 0, False)) == before


async def test_ids_past_their_columns_range_are_stale_buttons(bot: Bot) -> None:
    club = await gym(bot)
    ana, boss = club.ana, club.boss

    def ids(session):  # type: ignore[no-untyped-def]
        credential = session.exec(select(Credential).where(Credential.trainer_id == ana.id)).one()
        credit = session.exec(select(Credit).where(Credit.credential_id == credential.id)).one()
        nudge = Nudge(
            credential_id=credential.id,
            cycle_end=credential.cycle_end,
            milestone="d30",
            due_at=datetime.now(UTC) - timedelta(hours=1),
            status="sent",
        )
        session.add(nudge)
        session.flush()
        return {"C": credential.id, "K": credit.id, "N": nudge.id}

    mine = await bot.db.run(ids)
    await ana.send("/status")
    await _press_all(bot, ana, _cases(MINE, mine))
    await boss.send("/roster")
    await _press_all(bot, boss, _cases(MANAGER, {"T": club.team.id or 0, "A": ana.id}))


@pytest.mark.parametrize("page", ["3", str(ROW_LIMIT - 1)])
async def test_a_history_page_past_the_last_shows_the_last(bot: Bot, page: str) -> None:
    club = await gym(bot)
    ana = club.ana
    credential_id = await bot.db.run(
        lambda s: s.exec(select(Credential.id).where(Credential.trainer_id == ana.id)).one()
    )
    await ana.send("/history")
    await ana.press_data(f"hist:c:{credential_id}:{page}", ana.inbox[-1])
    assert "page 1 of 1" in ana.last_text and "Workshop" in ana.last_text
