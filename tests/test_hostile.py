"""Random and hostile updates into every conversation state (hypothesis): text of every
length and script, stickers, edits, forged callback data, photos and documents, commands
with junk arguments. Nothing may raise, every message is answered, and nobody's data changes
where nothing valid was said (the forged buttons name other people's rows too)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.i18n import I18n
from bot.offline import Chat, OfflineBotAPI, Person
from scheduler.cycles import Cycle
from storage import credentials
from storage.models import Credential, Credit, Nudge, PastCycle, Team, TeamMember, Trainer
from tests.conftest import make_settings, start_bot, stop_bot

# How to reach each state: the steps a person takes (send text, or press a button).
ONBOARDED = [("send", "/start"), ("press", "✓ English"), ("send", "Madrid")]
STATES: dict[str, list[tuple[str, str]]] = {
    "new": [],
    "language": [("send", "/start")],
    "zone": [("send", "/start"), ("press", "✓ English")],
    "idle": ONBOARDED,
    "add-body": [*ONBOARDED, ("send", "/add")],
    "add-credential": [*ONBOARDED, ("send", "/add"), ("press", "NCSF")],
    "add-date": [*ONBOARDED, ("send", "/add"), ("press", "NCSF"), ("press", "NCSF-CPT")],
    "add-number": [
        *ONBOARDED,
        ("send", "/add"),
        ("press", "NCSF"),
        ("press", "NCSF-CPT"),
        ("send", "2/3/25"),
    ],
    "add-confirm": [
        *ONBOARDED,
        ("send", "/add"),
        ("press", "NCSF"),
        ("press", "NCSF-CPT"),
        ("send", "2/3/25"),
        ("send", "NC-1"),
    ],
    "log-units": [*ONBOARDED, ("send", "/log")],
    "settings": [*ONBOARDED, ("send", "/settings")],
    "credentials": [*ONBOARDED, ("send", "/credentials")],
    "history": [*ONBOARDED, ("send", "/history")],
    "delete-confirm": [*ONBOARDED, ("send", "/delete_me")],
    # In the team's group, as a member who is not an administrator.
    "group": [("join", "")],
    "group-onboarded": [*ONBOARDED, ("join", "")],
}
GROUP_STATES = {"group", "group-onboarded"}
# Where typed text or a shared place may validly change the person's own settings.
SETTING_STATES = {"language", "zone"}
COMMANDS = [
    "start", "add", "log", "status", "credentials", "history", "export", "audit", "settings",
    "language", "help", "cancel", "delete_me", "team", "roster", "leave", "announce", "nope",
]  # fmt: skip
PREFIXES = [
    "add:", "log:", "cred:", "hist:", "audit:", "status:", "nudge:", "lang:", "hour:", "tz:",
    "set:", "intensity:", "quiet:", "erase:", "team:", "",
]  # fmt: skip
ID_OPS = ["cred:v:", "cred:x:", "cred:xy:", "cred:r:", "cred:ry:", "cred:d:", "cred:n:",
          "hist:eu:", "hist:ed:", "hist:x:", "hist:v:", "audit:", "nudge:log:", "nudge:resume:",
          "nudge:snooze:", "nudge:renewed:", "nudge:stop:", "team:grant:", "team:revoke:",
          "log:undo:"]  # fmt: skip

TEXT = st.one_of(
    st.text(min_size=1, max_size=300),
    st.text(
        alphabet=st.characters(categories=["L", "M", "N", "P", "S", "Zs"]),
        min_size=1,
        max_size=4096,
    ),
    st.builds(lambda c, n: (c * n)[:4096], st.characters(), st.integers(3000, 4096)),
    st.sampled_from(["0", "-1", "1e999", "NaN", "31/02/2025", "UTC+99", "<b>x</b>", "&amp;"]),
).filter(lambda t: t.strip() != "" and not t.startswith("/"))


def _bytes64(text: str) -> str:
    return text.encode()[:64].decode(errors="ignore")


FORGED = st.one_of(
    # A feature's prefix and junk that no real button carries (its last character never does).
    st.builds(lambda p, j: _bytes64(p + j + "¿"[:1]) or "¿", st.sampled_from(PREFIXES), st.text()),
    # A real-looking button naming any row, other people's included.
    st.builds(lambda p, n: f"{p}{n}", st.sampled_from(ID_OPS), st.integers(0, 60)),
)
ACTION = st.one_of(
    st.tuples(st.just("text"), TEXT),
    st.tuples(
        st.just("command"),
        st.builds(
            lambda c, a: f"/{c} {a}".strip(),
            st.sampled_from(COMMANDS),
            st.text(alphabet=st.characters(categories=["L", "P", "S"]), max_size=80),
        ),
    ),
    st.tuples(st.just("sticker"), st.just("")),
    st.tuples(st.just("photo"), st.binary(min_size=0, max_size=64)),
    st.tuples(
        st.just("document"),
        st.sampled_from(["a.pdf", "x.exe", "", "отчёт.docx", "../../etc/passwd"]),
    ),
    st.tuples(st.just("edit"), TEXT),
    st.tuples(st.just("forged"), FORGED),
    st.tuples(st.just("location"), st.tuples(st.floats(-90, 90), st.floats(-180, 180))),
)
SENDING = {
    "sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery",
    "sendDocument", "sendPhoto",
}  # fmt: skip


def snapshot(session: Session, actor: int, allow_own_trainer: bool) -> list[Any]:
    """Everyone's data; the acting person's settings (and the reminder plan that follows
    them) left out where they may change them."""
    rows: list[Any] = []
    for model in (Credential, Credit, Nudge, PastCycle, Team, TeamMember, Trainer):
        for row in session.exec(select(model)).all():
            if model is Trainer and allow_own_trainer and row.id == actor:
                continue
            dump = row.model_dump(exclude={"updated_at", "created_at"})
            if model is Credential and allow_own_trainer and row.trainer_id == actor:
                dump.pop("next_nudge_at")  # a new zone or hour replans the reminders
            rows.append((model.__name__, sorted(dump.items(), key=lambda kv: kv[0])))
    return sorted(rows, key=repr)


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class World:
    api: OfflineBotAPI
    application: Any
    people: int = 0
    group: Chat | None = None

    async def team_group(self) -> Chat:
        """One group with a team, set up by its creator, that people join."""
        if self.group is None:
            self.group = self.api.new_group("Hostile Gym")
            boss = Person(self.api, 9_999, "Boss")
            await boss.send("/start")
            await self.api.join(self.group, boss, "creator")
            await self.api.add_bot(self.group, boss)
            await boss.send("/team@recert_bot", chat=self.group)
        return self.group


async def _setup(world: World, state: str) -> Person:
    world.people += 1
    person = Person(world.api, 10_000 + world.people, f"P{world.people}")
    if state != "new":
        # Everyone owns a credential with a credit, so forged ids find real rows of others.
        def own(session: Session) -> None:
            from storage import trainers

            trainers.start(session, person.id, person.user["first_name"], "en", 9)
            session.flush()
            today = datetime.now(UTC).date()
            end = today + timedelta(days=40)
            saved = credentials.add(
                session,
                person.id,
                Cycle(end - timedelta(days=730), end, Decimal(2)),
                catalog_id="nasm-cpt",
                number=f"SECRET-{person.id}",
            )
            credentials.add_credit(session, person.id, saved.id, Decimal(1), today, "T")

        await world.application.bot_data["db"].run(own)
    for kind, value in STATES[state]:
        if kind == "join":
            await world.api.join(await world.team_group(), person)
        elif kind == "send":
            await person.send(value)
        else:
            await person.press(value)
    return person


async def _act(person: Person, kind: str, value: Any, chat: Chat | None) -> None:
    if chat is not None:  # in the group: what a member can send there
        if kind in ("text", "command", "edit"):
            await person.send(value, chat=chat)
        elif kind == "forged":
            await person.press_data(value, chat.messages[-1], chat)
        elif kind == "location":
            latitude, longitude = value
            location = {"latitude": latitude, "longitude": longitude}
            await person._send_message(chat, {"location": location})
        else:  # a sticker, photo or document: media in the group
            stored = person.api._store_file(b"\xff\xd8\xff junk", None, "image/jpeg")
            await person._send_message(chat, {"photo": person.api._photo_sizes(stored)})
        return
    if kind in ("text", "command"):
        await person.send(value)
    elif kind == "sticker":
        await person.send_sticker()
    elif kind == "photo":
        await person.send_photo(b"\xff\xd8\xff" + value)
    elif kind == "document":
        await person.send_document(b"%PDF-1.4 junk", value or "file", "application/pdf")
    elif kind == "edit":
        mine = [m for m in person.chat.messages if m["from"]["id"] == person.id]
        if mine:
            await person.edit(mine[-1], value)
        else:
            await person.send(value)
    elif kind == "forged":
        shown = [m for m in person.chat.messages if m["from"]["id"] != person.id]
        message = shown[-1] if shown else {"message_id": 1, "date": 0, "chat": person.chat.info}
        await person.press_data(value, message)
    elif kind == "location":
        await person.share_location(*value)


def test_hostile_updates_in_every_state(tmp_path: Path, i18n: I18n) -> None:
    loop = asyncio.new_event_loop()
    api = OfflineBotAPI()
    application = loop.run_until_complete(
        start_bot(make_settings(f"sqlite:///{tmp_path / 'hostile.db'}"), i18n, api)
    )
    world = World(api, application)
    errors = Errors()
    logging.getLogger().addHandler(errors)
    db = application.bot_data["db"]

    @settings(
        max_examples=100,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(state=st.sampled_from(sorted(STATES)), action=ACTION)
    def check(state: str, action: tuple[str, Any]) -> None:
        async def run() -> None:
            person = await _setup(world, state)
            kind, value = action
            may_change_own = (state in SETTING_STATES and kind in ("text", "location")) or (
                kind == "command"
            )
            in_group = state in GROUP_STATES
            if in_group:
                may_change_own = False  # a member who is no administrator changes nothing
            before = await db.run(lambda s: snapshot(s, person.id, may_change_own))
            calls = len(api.calls)
            await _act(person, kind, value, world.group if in_group else None)
            sent = [c for c in api.calls[calls:] if c.method in SENDING]
            # In a group, chatter is sensibly ignored; a button is always answered.
            if not in_group:
                assert sent, f"{state}: {kind} {value!r} was not answered"
            # A command may validly change things (/start creates a row, /log 1 x logs);
            # anything else said here is not a valid step that stores data.
            if (kind != "command" or in_group) and not (
                state == "delete-confirm" and kind == "forged"
            ):
                after = await db.run(lambda s: snapshot(s, person.id, may_change_own))
                assert after == before, f"{state}: {kind} {value!r} changed stored data"
            assert not errors.messages, f"{state}: {kind} {value!r}: {errors.messages}"

        loop.run_until_complete(run())

    try:
        check()
        assert world.group is not None  # the group states were among those tried
        members = {m["from"]["id"] for m in world.group.messages}
        assert len(members) > 3  # several people acted there
    finally:
        logging.getLogger().removeHandler(errors)
        loop.run_until_complete(stop_bot(application))
        loop.close()
