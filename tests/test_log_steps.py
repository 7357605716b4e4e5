"""/log driven step by step in English, Spanish and Russian: Back at every step shows the
previous question asked again (what the one-liner or a single credential answered is skipped
going back too) and drops the answer being changed; what a step does not take gets one line or
a note with the question again; the credit saved is the one answered."""

from __future__ import annotations

import ast
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from telegram.ext import ConversationHandler

from bot.i18n import I18n
from bot.offline import Person
from handlers import flows
from handlers import log as log_module
from storage.models import Credit
from tests.conftest import Bot
from tests.helpers import nsca_now, onboard
from tests.test_log import give, stored_credits

# Language button, the city onboard() picks, its zone, and how a date is typed there.
PEOPLE = {
    "en": ("✓ English", "New York", "America/New_York", "M/d/yy"),
    "es": ("✓ Español", "Madrid", "Europe/Madrid", "d/M/yy"),
    "ru": ("✓ Русский", "Москва", "Europe/Moscow", "dd.MM.yyyy"),
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40


def today_of(language: str) -> date:
    return datetime.now(ZoneInfo(PEOPLE[language][2])).date()


async def newcomer(bot: Bot, language: str) -> Person:
    person = bot.person(f"Trainer {language}", language_code=language)
    await onboard(person, PEOPLE[language][0], PEOPLE[language][1])
    return person


def draft(bot: Bot, person: Person) -> dict[str, Any]:
    return dict(bot.application.user_data.get(person.id, {}).get("log", {}))


async def three_credentials(bot: Bot, person: Person, today: date) -> tuple[int, int, int]:
    """ACE (10 hours a CEC), ACSM (1 hour a CEC) and NSCA's CSCS (its categories capped)."""
    span = (today - timedelta(days=100), today + timedelta(days=600))
    ace = await give(bot, person, "ace-cpt", *span, "2.0")
    acsm = await give(bot, person, "acsm-cpt", *span, "45")
    period_end, _owed = nsca_now(date(2000, 1, 1), today)
    period_start = date(period_end.year - 2, 1, 1)
    certified = date(period_start.year - 2, 3, 1)  # an earlier period: the full requirement
    nsca = await give(bot, person, "nsca-cscs", period_start, period_end, "6.0", certified)
    return ace, acsm, nsca


async def back(person: Person, label: str, shown: str) -> None:
    await person.press(label)
    assert person.last_text == shown


@pytest.mark.parametrize("language", list(PEOPLE))
async def test_every_step_with_back_toward_three_credentials(
    bot: Bot, i18n: I18n, language: str
) -> None:
    _ = i18n.translator(language).gettext
    back_label = _("« Back")
    today = today_of(language)
    person = await newcomer(bot, language)
    ace, acsm, nsca = await three_credentials(bot, person, today)

    await person.send("/log")
    amount = person.last_text
    assert person.buttons == [_("Cancel")]  # the first question: nothing to go back to
    await person.send_sticker()  # at a step that waits for text: a note, the question again
    assert person.last_text == (
        _("I can't use that here; please answer the question below.") + "\n\n" + amount
    )
    await person.send("2")
    which = person.last_text
    assert person.buttons[-3:] == [_("Done"), back_label, _("Cancel")]
    await person.send("ACE")  # typed where only a tap answers: one line
    assert person.last_text == _("Please tap one of the buttons above.")
    await back(person, back_label, amount)
    assert "amount" not in draft(bot, person)

    await person.send("3")
    assert person.last_text == which
    await person.press(_("All of them"))
    unit = person.last_text
    assert "3" in unit and unit != which
    # Back to the credentials: the ticks stay, to be changed; Done is to be pressed again.
    await back(person, back_label, which)
    assert sum(b.startswith("✓ ") for b in person.buttons) == 3
    assert sorted(draft(bot, person)["ids"]) == sorted([ace, acsm, nsca])
    assert "ids_done" not in draft(bot, person)
    await person.press(_("Done"))
    assert person.last_text == unit
    ten_hours = next(b for b in person.buttons if "(30 " in b)  # ACE's or NSCA's: 10 hours
    await person.press(ten_hours)
    category = person.last_text
    await back(person, back_label, unit)
    assert "unit" not in draft(bot, person)
    await person.press(ten_hours)
    d_label = _("D: home study, other certifications")
    await person.press(d_label)
    when = person.last_text
    await back(person, back_label, category)
    assert "category" not in draft(bot, person)
    await person.press(d_label)
    assert person.last_text == when

    await person.send(format_date(today - timedelta(days=2), PEOPLE[language][3], language))
    assert draft(bot, person)["date"] == (today - timedelta(days=2)).isoformat()
    title = person.last_text
    await back(person, back_label, when)
    assert "date" not in draft(bot, person)
    await person.press(_("Today"))
    assert person.last_text == title
    await person.send_sticker()
    assert person.last_text == (
        _("I can't use that here; please answer the question below.") + "\n\n" + title
    )
    await person.send("Old title")
    provider = person.last_text
    await back(person, back_label, title)
    assert "title" not in draft(bot, person)
    await person.send("Strength summit")
    await person.send("FitEd")
    cost = person.last_text
    for example in ("$129", "120 €", "1 500 ₽", "129 USD"):
        assert example in cost, example
    await back(person, back_label, provider)
    assert "provider" not in draft(bot, person)
    await person.press(_("Skip"))
    assert person.last_text == cost
    await person.send("99 USD")
    proof = person.last_text
    await back(person, back_label, cost)
    assert "cost" not in draft(bot, person) and "currency" not in draft(bot, person)
    await person.send("120 €")
    assert person.last_text == proof
    await person.send("here it is")  # text where a file or Skip answers: one line
    assert person.last_text == _("Please send the certificate as a photo or a PDF, or tap Skip.")
    await person.send_photo(PNG)

    assert _("Undo") in person.buttons
    assert not draft(bot, person)
    rows: dict[int, Credit] = {}
    for credential in (ace, acsm, nsca):
        [rows[credential]] = await stored_credits(bot, credential)
    assert (rows[ace].units, rows[acsm].units, rows[nsca].units) == (
        Decimal(3),
        Decimal(30),
        Decimal(3),
    )
    for row in rows.values():
        assert (row.earned_on, row.title, row.provider) == (today, "Strength summit", None)
        assert (row.cost, row.cost_currency, row.proof_kind) == (Decimal(120), "EUR", "photo")
    assert rows[nsca].category == "D"
    assert len({row.batch for row in rows.values()}) == 1


@pytest.mark.parametrize("language", list(PEOPLE))
async def test_back_skips_what_the_one_liner_answered(bot: Bot, i18n: I18n, language: str) -> None:
    """`/log 0.5 <a title too long>` toward two credentials asks which ones, then the title,
    then the proof: Back goes proof → title → credentials, never to the amount or the date."""
    _ = i18n.translator(language).gettext
    back_label = _("« Back")
    today = today_of(language)
    person = await newcomer(bot, language)
    span = (today - timedelta(days=100), today + timedelta(days=600))
    nasm = await give(bot, person, "nasm-cpt", *span, "2.0")
    ces = await give(bot, person, "nasm-ces", *span, None)
    await person.send("/log 0.5 " + "x" * 201)
    which = _("Which credentials does it count toward? Tap to choose, then Done.")
    assert person.last_text.endswith(which) and person.last_text != which  # with why
    assert back_label not in person.buttons  # the first question asked
    await person.press("NASM-CES")
    await person.press(_("Done"))
    title = person.last_text
    await back(person, back_label, which)
    assert person.buttons[:2] == ["NASM-CPT", "✓ NASM-CES"]
    await person.press("NASM-CPT")
    await person.press(_("Done"))
    assert person.last_text == title
    await person.send("Mobility")
    proof = person.last_text
    await back(person, back_label, title)
    await back(person, back_label, which)
    await person.press("✓ NASM-CES")
    await person.press(_("Done"))
    await person.send("Mobility basics")
    assert person.last_text == proof
    await person.press(_("Skip"))
    assert not await stored_credits(bot, ces)
    [row] = await stored_credits(bot, nasm)
    assert (row.units, row.earned_on, row.title, row.provider, row.cost) == (
        Decimal("0.50"),
        today,
        "Mobility basics",
        None,
        None,
    )


@pytest.mark.parametrize("language", list(PEOPLE))
async def test_back_skips_a_single_credential_and_a_proof_given_first(
    bot: Bot, i18n: I18n, language: str
) -> None:
    """A PDF sent first ("Yes, log credits") and one credential: the credentials and the
    proof are never asked, so Back from the date goes to the amount; Cancel ends it all."""
    _ = i18n.translator(language).gettext
    back_label = _("« Back")
    today = today_of(language)
    person = await newcomer(bot, language)
    nasm = await give(
        bot, person, "nasm-cpt", today - timedelta(days=100), today + timedelta(days=600), "2.0"
    )
    await person.send_document(b"%PDF-1.7", "cec.pdf", "application/pdf")
    await person.press(_("Yes, log credits"))
    amount = person.last_text
    assert back_label not in person.buttons
    await person.send("0.4")
    assert person.last_text == _("When did you earn it? Type the date, or tap one.")
    await back(person, back_label, amount)
    await person.send("0.2")
    await person.press(_("Yesterday"))
    await person.send("Kettlebells")
    await person.press(_("Skip"))
    await person.press(_("Skip"))  # the cost; the proof was given first: saved
    [row] = await stored_credits(bot, nasm)
    assert (row.units, row.earned_on, row.proof_name) == (
        Decimal("0.20"),
        today - timedelta(days=1),
        "cec.pdf",
    )
    proof = _("Send the certificate as a photo or a PDF, so it is at hand for an audit. Or skip.")
    assert not any(proof in m.get("text", "") for m in person.inbox)

    await person.send("/log")
    await person.send("1")
    await person.press(_("Cancel"))
    assert person.last_text == _("Cancelled: nothing was logged.")
    assert not draft(bot, person) and len(await stored_credits(bot, nasm)) == 1


async def test_a_button_of_another_step_asks_the_current_question_again(bot: Bot) -> None:
    ana = await newcomer(bot, "en")
    today = today_of("en")
    await three_credentials(bot, ana, today)
    await ana.send("/log 1 Course")
    which = ana.last_text
    await ana.press_data("log:d:0", ana.last)  # "Today" belongs to a later step
    assert ana.last_text == "Please use the buttons below.\n\n" + which
    await ana.press_data("log:c:A", ana.last)
    assert ana.last_text.endswith(which)
    await ana.press_data("log:t:99999999", ana.last)  # no credential of hers: nothing ticked
    assert not any(b.startswith("✓") for b in ana.buttons)
    assert "ids_done" not in draft(bot, ana)


def _log_conversation(bot: Bot) -> ConversationHandler[Any]:
    [handler] = [
        h
        for h in bot.application.handlers[0]
        if isinstance(h, ConversationHandler) and h.name == "log"
    ]
    return handler


async def test_a_conversation_stored_by_step_number_goes_on_after_the_deploy(bot: Bot) -> None:
    """Before the states had names they were stored as numbers (5: the provider's question,
    8: what a bare number meant). The next answer goes on, and Back then finds the question
    that was waiting."""
    ana = await newcomer(bot, "en")
    today = today_of("en")
    span = (today - timedelta(days=100), today + timedelta(days=600))
    ace = await give(bot, ana, "ace-cpt", *span, "2.0")
    acsm = await give(bot, ana, "acsm-cpt", *span, "45")
    states = flows.states(_log_conversation(bot))
    states.update_no_track({(ana.id, ana.id): 5})
    before = {"amount": "2", "hours": True, "ids": [ace], "ids_done": True}
    bot.application.user_data[ana.id]["log"] = {
        **before,
        "step": 5,
        "date": today.isoformat(),
        "title": "Old course",
    }
    await ana.send("FitEd")
    assert "What did it cost you?" in ana.last_text
    await ana.press("« Back")
    assert ana.last_text == "Who provided it? (Optional.)"
    await ana.press("Skip")
    await ana.send("$129")
    await ana.press("Skip")
    [row] = await stored_credits(bot, ace)
    assert (row.units, row.provider, row.cost, row.cost_currency) == (
        Decimal("0.20"),
        None,
        Decimal(129),
        "USD",
    )

    # The question of what "2" meant (ACE's CEC or hours), stored as 8, answered after.
    states.update_no_track({(ana.id, ana.id): 8})
    bot.application.user_data[ana.id]["log"] = {
        "step": 8,
        "amount": "2",
        "hours": False,
        "ids": [ace, acsm],
        "ids_done": True,
    }
    await ana.press_data("log:u:10", ana.last)
    assert "When did you earn it?" in ana.last_text
    await ana.press("Today")
    await ana.send("Second course")
    for _step in range(3):
        await ana.press("Skip")
    assert "Logged 2 CEC to ACE-CPT." in ana.last_text
    assert "Logged 20 CEC to ACSM-CPT." in ana.last_text
    [row] = await stored_credits(bot, acsm)
    assert row.units == Decimal(20)


async def test_every_button_built_matches_exactly_one_pattern(bot: Bot) -> None:
    """The callback data of every button the conversation shows is matched by one of its
    patterns, and only one; none uses a negative lookahead."""
    import re

    ana = await newcomer(bot, "en")
    await three_credentials(bot, ana, today_of("en"))
    seen: set[str] = set()

    def shown() -> None:  # before a press takes them off
        rows = ana.last.get("reply_markup", {}).get("inline_keyboard", [])
        seen.update(button["callback_data"] for row in rows for button in row)

    await ana.send("/log")
    shown()
    await ana.send("3")
    shown()
    await ana.press("All of them")
    shown()
    await ana.press(next(b for b in ana.buttons if "(30 " in b))
    shown()
    await ana.press("D: home study, other certifications")
    shown()
    await ana.press("Today")
    shown()
    await ana.send("Course")
    shown()
    assert {"log:all", "log:done", "log:u:h", "log:c:D", "log:d:1", "log:skip"} <= seen
    assert {"log:back", "log:cancel"} <= seen
    for data in seen:
        matched = [p for p in log_module.BUTTONS if re.match(p, data)]
        assert len(matched) == 1, (data, matched)
    assert not any("(?!" in pattern for pattern in log_module.BUTTONS)


def test_log_has_no_long_function_and_no_step_number() -> None:
    """handlers/log.py in PTB's shape: no function over 60 lines; the state is PTB's (named),
    never a step number kept in the draft or compared against; each state has its own
    handlers, and the old numbers lead to the same ones as their names."""
    source = (Path(__file__).parent.parent / "handlers" / "log.py").read_text()
    tree = ast.parse(source)
    functions = [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    assert functions
    long = {f.name: f.end_lineno - f.lineno + 1 for f in functions if f.end_lineno}
    assert max(long.values()) <= 60, long
    assert '"step"' not in source and "['step']" not in source and "range(9)" not in source
    assert "(?!" not in source
    names = {"step", "state", "kind"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
        ):
            operands = [node.left, *node.comparators]
            assert not any(isinstance(o, ast.Name) and o.id in names for o in operands), (
                ast.unparse(node)
            )
    [conversation] = [h for h in log_module.handlers() if isinstance(h, ConversationHandler)]
    named = {key: value for key, value in conversation.states.items() if isinstance(key, str)}
    assert set(named) == {
        "amount", "which", "unit", "category", "date", "title", "provider", "cost", "proof",
    }  # fmt: skip
    assert len({id(handlers) for handlers in named.values()}) == len(named)
    for number, name in enumerate(log_module.NUMBERED):
        assert conversation.states[number] is named[name]
    assert set(conversation.states) == {*named, *range(len(log_module.NUMBERED))}
