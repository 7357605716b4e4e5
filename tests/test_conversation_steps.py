"""The other conversations driven step by step in English, Spanish and Russian (issue 13), as
tests/test_add_steps.py drives /add: each step's question is shown, « Back at each step shows
the previous screen again, Cancel ends, and what is stored at the end is what was answered.

Onboarding (/start), /settings (time zone with Back and Keep, reminder hour, how often, quiet
hours, currency, language), /credentials (edit dates and number, renew, remove) and /history
(edit credits as /log takes them, "3h" too, the date and the title, delete); and a nudge's
buttons, forged or stale, answered in the person's language."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import I18n
from bot.offline import Person
from scheduler.cycles import Cycle, cycle_from_start, next_cycle
from storage import credentials, trainers
from storage.credentials import rule_for
from storage.models import Credential, Credit
from tests.conftest import Bot
from tests.helpers import onboard
from tests.test_snooze_time import nudged

# Language button, a city (the first suggestion), another city typed, and 3 February 2025 typed
# as people there type it.
PEOPLE = {
    "en": ("✓ English", "New York", "Chicago", "America/Chicago", "2/3/25"),
    "es": ("✓ Español", "Madrid", "Bogotá", "America/Bogota", "3/2/25"),
    "ru": ("✓ Русский", "Москва", "Новосибирск", "Asia/Novosibirsk", "03.02.2025"),
}
LANGUAGES = list(PEOPLE)
FEB_3 = date(2025, 2, 3)
# Where onboarding puts each (the first city suggested): their today is the bot's.
ZONES = {"en": "America/New_York", "es": "Europe/Madrid", "ru": "Europe/Moscow"}


def today_in(language: str) -> date:
    return datetime.now(ZoneInfo(ZONES[language])).date()


async def newcomer(bot: Bot, language: str) -> Person:
    person = bot.person(f"Trainer {language}", language_code=language)
    await onboard(person, PEOPLE[language][0], PEOPLE[language][1])
    return person


async def trainer_row(bot: Bot, person: Person):  # type: ignore[no-untyped-def]
    return await bot.db.run(lambda s: trainers.get(s, person.id))


async def ncsf(bot: Bot, person: Person, certified: date = date(2024, 6, 10)) -> int:
    """An NCSF-CPT (CEU, 2 hours each), certified on `certified`, with its number."""
    entry = bot.catalog.get("ncsf-cpt")
    assert entry is not None
    today = today_in(person.user.get("language_code") or "en")
    saved = await bot.db.run(
        lambda s: credentials.add(
            s,
            person.id,
            cycle_from_start(entry.rule, certified, today),
            catalog_id="ncsf-cpt",
            certified_on=certified,
            number="N-1",
        )
    )
    assert saved.id is not None
    return saved.id


async def stored_credential(bot: Bot, person: Person, credential_id: int) -> Credential | None:
    return await bot.db.run(lambda s: credentials.owned(s, person.id, credential_id))


# -- /start --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
async def test_onboarding_step_by_step(bot: Bot, i18n: I18n, language: str) -> None:
    _ = i18n.translator(language).gettext
    button, city, typed_city, zone, _date = PEOPLE[language]
    person = bot.person(f"New {language}", language_code=language)
    await person.send("/start")
    assert button in person.buttons
    # Text where a language button is awaited: the question again.
    await person.send("hello")
    assert person.last_text == _("Please pick a language with one of the buttons.")
    await person.press(button)
    assert person.last_text == _("Or pick one of these:")
    assert person.buttons[-1] == _("« Back") and any(b.startswith(city) for b in person.buttons)
    assert person.keyboard == [_("📍 Share my location")]
    # Back: the language question again; forward again: the time zone again.
    await person.press(_("« Back"))
    assert person.last_text == _("Which language should I speak?")
    assert button in person.buttons
    await person.press(button)
    assert person.last_text == _("Or pick one of these:")
    # /cancel ends it: a city typed now is not taken as the zone.
    await person.send("/cancel")
    assert person.last_text == _("Okay, stopped. Send /help to see what I can do.")
    await person.send(typed_city)
    stored = await trainer_row(bot, person)
    assert stored is not None and stored.time_zone is None and stored.language == language
    # /start again goes to the end: the zone typed is stored.
    await person.send("/start")
    await person.press(button)
    await person.send(typed_city)
    assert person.last_text.startswith(
        _("You're all set. I'll send reminders at {hour} your time.").split("{hour}")[0]
    )
    stored = await trainer_row(bot, person)
    assert stored is not None and (stored.language, stored.time_zone) == (language, zone)


# -- /settings -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
async def test_settings_step_by_step(bot: Bot, i18n: I18n, language: str) -> None:
    tr = i18n.translator(language)
    _ = tr.gettext
    person = await newcomer(bot, language)
    await person.send("/settings")
    settings = person.last_text
    assert settings.startswith(_("<b>Your settings</b>").removeprefix("<b>").split("<")[0])

    # Each section: its question, « Back to the settings as they were, then a choice stored.
    for section, question in (
        (_("Reminder hour"), _("At what hour should reminders arrive?")),
        (_("How often"), _("How often should I remind you before a deadline?")),
        (_("Quiet hours"), _("When should repeated reminders wait until morning?")),
        (
            _("Currency"),
            _(
                "Which currency are your costs in? You can still type another with an amount, "
                "such as 120 € or 129 USD."
            ),
        ),
        (_("Language"), _("Which language should I speak?")),
    ):
        await person.press(section)
        assert person.last_text.startswith(question), (section, person.last_text)
        assert person.buttons[-1] == _("« Back")
        await person.press(_("« Back"))
        assert person.last_text == settings
    await person.press(_("Reminder hour"))
    await person.press(tr.hour(7))
    await person.press(_("How often"))
    await person.press(_("Gentle"))
    await person.press(_("Quiet hours"))
    await person.press(f"{tr.hour(22)}–{tr.hour(8)}")
    await person.press(_("Currency"))
    await person.press(next(b for b in person.buttons if "EUR" in b))
    stored = await trainer_row(bot, person)
    assert stored is not None
    assert (
        stored.reminder_hour,
        stored.nudge_intensity,
        stored.quiet_start,
        stored.quiet_end,
        stored.currency,
    ) == (7, "gentle", 22, 8, "EUR")

    # The time zone: « Back, Keep, /cancel, then a city typed.
    _button, _city, typed_city, zone, _date = PEOPLE[language]
    before = stored.time_zone
    await person.press(_("Time zone"))
    assert person.last_text == _("Or pick one of these:")
    keep = person.buttons[-2]
    assert person.buttons[-1] == _("« Back") and keep.startswith(_("Keep {zone}").split("{")[0])
    await person.press(_("« Back"))
    assert _("Reminder hour") in person.buttons  # the settings again
    assert person.keyboard == []  # and the location button is gone
    await person.send(typed_city)  # no longer asked: not taken as a city
    await person.press(_("Time zone"))
    await person.press(keep)
    assert _("Reminder hour") in person.buttons
    await person.press(_("Time zone"))
    await person.send("/cancel")
    assert person.last_text == _("Okay, stopped. Send /help to see what I can do.")
    await person.send(typed_city)
    stored = await trainer_row(bot, person)
    assert stored is not None and stored.time_zone == before
    await person.send("/settings")
    await person.press(_("Time zone"))
    await person.send(typed_city)
    stored = await trainer_row(bot, person)
    assert stored is not None and stored.time_zone == zone

    # The language last: from here on the bot speaks the other one.
    other = "es" if language != "es" else "ru"
    await person.press(_("Language"))
    await person.press({"en": "English", "es": "Español", "ru": "Русский"}[other])
    stored = await trainer_row(bot, person)
    assert stored is not None and stored.language == other
    assert i18n.translator(other).gettext("Reminder hour") in person.buttons


# -- /credentials --------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
async def test_credentials_edit_dates_and_number_step_by_step(
    bot: Bot, i18n: I18n, language: str
) -> None:
    _ = i18n.translator(language).gettext
    person = await newcomer(bot, language)
    credential_id = await ncsf(bot, person)
    await person.send("/credentials")
    listing = person.last_text
    await person.press("NCSF-CPT")
    detail = person.last_text
    assert "N-1" in detail

    # Edit dates: the question, the other kind of date, back to the first, « Back, Cancel.
    await person.press(_("Edit dates"))
    when = person.last_text
    assert person.buttons[-2:] == [_("« Back"), _("Cancel")]
    await person.press(_("I have the expiry date instead"))
    assert person.last_text != when
    await person.press(_("I have the date I certified"))
    assert person.last_text == when
    await person.press(_("« Back"))
    assert person.last_text == detail
    await person.press(_("Edit dates"))
    await person.press(_("Cancel"))
    assert person.last_text == _("Cancelled: nothing was saved.")
    await person.send(PEOPLE[language][4])  # no longer asked: not taken as a date
    assert (await stored_credential(bot, person, credential_id)).certified_on == date(  # type: ignore[union-attr]
        2024, 6, 10
    )
    # A date that cannot be read: why, and the question again; then the date stored.
    await person.send("/credentials")
    await person.press("NCSF-CPT")
    await person.press(_("Edit dates"))
    await person.send("soon")
    assert person.last_text.endswith(when) and person.last_text != when
    await person.send(PEOPLE[language][4])
    assert person.last_text.startswith(_("Dates updated."))
    stored = await stored_credential(bot, person, credential_id)
    entry = bot.catalog.get("ncsf-cpt")
    assert entry is not None and stored is not None
    expected = cycle_from_start(entry.rule, FEB_3, today_in(language))
    assert (stored.certified_on, stored.cycle_end) == (FEB_3, expected.end)

    # Edit number: « Back, then a number typed, then removed.
    detail = person.last_text.split("\n\n", 1)[1]
    await person.press(_("Edit number"))
    assert person.buttons == [_("Remove the number"), _("« Back"), _("Cancel")]
    await person.press(_("« Back"))
    assert person.last_text == detail
    await person.press(_("Edit number"))
    await person.send("NC-2025")
    assert person.last_text.startswith(_("Number updated."))
    assert (await stored_credential(bot, person, credential_id)).number == "NC-2025"  # type: ignore[union-attr]
    await person.press(_("Edit number"))
    await person.press(_("Remove the number"))
    assert person.last_text.startswith(_("Number removed."))
    assert (await stored_credential(bot, person, credential_id)).number is None  # type: ignore[union-attr]

    # « All credentials: the list again.
    await person.press(_("« All credentials"))
    assert person.last_text.split("\n")[0] == listing.split("\n")[0]
    assert not bot.application.user_data.get(person.id, {}).get("edit")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_credentials_renew_and_remove_step_by_step(
    bot: Bot, i18n: I18n, language: str
) -> None:
    _ = i18n.translator(language).gettext
    person = await newcomer(bot, language)
    credential_id = await ncsf(bot, person)
    before = await stored_credential(bot, person, credential_id)
    assert before is not None
    await person.send("/credentials")
    await person.press("NCSF-CPT")
    detail = person.last_text
    # I renewed: the question; "Not yet" goes back; "Yes, I renewed" rolls the cycle forward.
    await person.press(_("I renewed"))
    assert person.buttons == [_("Yes, I renewed"), _("Not yet")]
    await person.press(_("Not yet"))
    assert person.last_text == detail
    await person.press(_("I renewed"))
    await person.press(_("Yes, I renewed"))
    renewed = await stored_credential(bot, person, credential_id)
    following = next_cycle(
        rule_for(before, bot.catalog),
        Cycle(before.cycle_start, before.cycle_end, before.units_required),
    )
    assert renewed is not None and renewed.cycle_end == following.end
    # Remove: the question; "Keep it" goes back; "Yes, remove it" removes it.
    await person.press(_("Remove"))
    assert person.buttons == [_("Yes, remove it"), _("Keep it")]
    shown = person.last_text
    await person.press(_("Keep it"))
    assert _("Edit dates") in person.buttons and person.last_text != shown
    await person.press(_("Remove"))
    await person.press(_("Yes, remove it"))
    assert await stored_credential(bot, person, credential_id) is None


# -- /history ------------------------------------------------------------------------------


async def credits_of(bot: Bot, person: Person, credential_id: int) -> list[Credit]:
    from sqlmodel import select

    return await bot.db.run(
        lambda s: list(s.exec(select(Credit).where(Credit.credential_id == credential_id)))
    )


@pytest.mark.parametrize("language", LANGUAGES)
async def test_history_edit_and_delete_step_by_step(bot: Bot, i18n: I18n, language: str) -> None:
    tr = i18n.translator(language)
    _ = tr.gettext
    person = await newcomer(bot, language)
    credential_id = await ncsf(bot, person)
    await bot.db.run(
        lambda s: credentials.add_credit(
            s, person.id, credential_id, Decimal(1), date(2025, 6, 1), "Kettlebells"
        )
    )
    await person.send("/history")
    page = person.last_text
    await person.press(next(b for b in person.buttons if "Kettlebells" in b))
    entry = person.last_text

    # Credits: the question, « Back, then "3h" (as /log takes it): 1.5 CEU at 2 hours each.
    await person.press(_("Edit credits"))
    question = person.last_text
    assert person.buttons == [_("« Back"), _("Cancel")]
    await person.press(_("« Back"))
    assert person.last_text == entry
    await person.press(_("Edit credits"))
    await person.send("lots")
    assert person.last_text.endswith(question) and person.last_text != question
    await person.send("3h")
    assert person.last_text.startswith(_("Saved."))
    [credit] = await credits_of(bot, person, credential_id)
    assert credit.units == Decimal("1.5")

    # The date: « Back, then typed as people there type it.
    entry = person.last_text.split("\n\n", 1)[1]
    await person.press(_("Edit date"))
    assert person.last_text == _("When was it earned? Type the date.")
    await person.press(_("« Back"))
    assert person.last_text == entry
    await person.press(_("Edit date"))
    await person.send(PEOPLE[language][4])
    [credit] = await credits_of(bot, person, credential_id)
    assert credit.earned_on == FEB_3

    # The title: Cancel ends, and what is typed next is not taken.
    await person.press(_("Edit title"))
    assert person.last_text == _("What was the course or event called?")
    await person.press(_("Cancel"))
    assert person.last_text == _("Cancelled: nothing was saved.")
    await person.send("Not a title")
    [credit] = await credits_of(bot, person, credential_id)
    assert credit.title == "Kettlebells"
    assert not bot.application.user_data.get(person.id, {}).get("history_edit")

    # Delete: "Keep it" goes back to the entry; "Yes, delete it", then « Back to the page.
    await person.send("/history")
    await person.press(next(b for b in person.buttons if "Kettlebells" in b))
    entry = person.last_text
    await person.press(_("Delete"))
    assert person.buttons == [_("Yes, delete it"), _("Keep it")]
    await person.press(_("Keep it"))
    assert person.last_text == entry
    await person.press(_("Delete"))
    await person.press(_("Yes, delete it"))
    assert await credits_of(bot, person, credential_id) == []
    await person.press(_("« Back"))
    assert person.last_text != page  # nothing left on the page
    assert "NCSF-CPT" in person.last_text


# -- nudges --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
async def test_forged_and_stale_nudge_buttons_get_a_clear_answer(
    bot: Bot, i18n: I18n, language: str
) -> None:
    from sqlmodel import select

    from storage.models import Nudge

    _ = i18n.translator(language).gettext
    person = await newcomer(bot, language)
    await bot.db.run(lambda s: trainers.update(s, person.id, time_zone="Asia/Kathmandu"))
    await nudged(bot, person, ZoneInfo("Asia/Kathmandu"), 9, 40)
    nudge = person.last
    [row] = await bot.db.run(lambda s: list(s.exec(select(Nudge))))
    stale = _("This button no longer works. Please start again.")
    for forged in (
        f"nudge:snz:{row.id}:3",  # a snooze of no offered length
        f"nudge:snooze:{row.id}",  # an older release's shape
        f"nudge:renewed:{row.id}",
        f"nudge:snz:{(row.id or 0) + 1000}:1",  # no such reminder
        f"nudge:stopy:{(row.id or 0) + 1000}",
        f"nudge:back:{2**40}",  # past the column's range
        "nudge:",
        "nudge:stop",
    ):
        shown = len(person.inbox)
        await person.press_data(forged, nudge)
        answer = list(bot.api.answered_callbacks.values())[-1]
        assert (answer.get("text"), answer.get("show_alert")) == (stale, True), forged
        assert len(person.inbox) == shown
    credential = (await bot.db.run(lambda s: credentials.held_by(s, person.id, bot.catalog)))[0]
    assert credential.credential.snoozed_until is None
    assert not credential.credential.nudges_stopped
    # The real buttons still work: "Stop these reminders", then "Keep them" (back).
    text = nudge["text"]
    await person.press(_("Stop these reminders"))
    assert person.buttons == [_("Yes, stop them"), _("Keep them")]
    await person.press(_("Keep them"))
    assert person.last_text == text and _("Snooze a day") in person.buttons
    # Pressed again after the credential was removed: stale, answered.
    await bot.db.run(lambda s: credentials.remove(s, person.id, credential.credential.id or 0))
    await person.press(_("Snooze a day"))
    answer = list(bot.api.answered_callbacks.values())[-1]
    assert answer.get("text") == stale


# -- conversations persisted before their states had names -----------------------------------


def _conversation(bot: Bot, name: str):  # type: ignore[no-untyped-def]
    from telegram.ext import ConversationHandler

    [found] = [
        h
        for h in bot.application.handlers[0]
        if isinstance(h, ConversationHandler) and h.name == name
    ]
    return found


async def test_conversations_stored_by_step_number_go_on_after_the_deploy(bot: Bot) -> None:
    """Stored as numbers before (/start's 1: the time zone; /settings' 0: the time zone;
    /credentials' 1: the number; /history's 0 with the field in the draft)."""
    from handlers import flows

    ana = await newcomer(bot, "en")
    key = (ana.id, ana.id)
    flows.states(_conversation(bot, "start")).update_no_track({key: 1})
    await ana.send("Chicago")
    assert (await trainer_row(bot, ana)).time_zone == "America/Chicago"  # type: ignore[union-attr]
    flows.states(_conversation(bot, "settings")).update_no_track({key: 0})
    await ana.send("Denver")
    assert (await trainer_row(bot, ana)).time_zone == "America/Denver"  # type: ignore[union-attr]

    credential_id = await ncsf(bot, ana)
    flows.states(_conversation(bot, "credentials")).update_no_track({key: 1})
    bot.application.user_data[ana.id]["edit"] = {"id": credential_id, "expiry": False}
    await ana.send("NC-9")
    assert ana.last_text.startswith("Number updated.")
    assert (await stored_credential(bot, ana, credential_id)).number == "NC-9"  # type: ignore[union-attr]

    credit = await bot.db.run(
        lambda s: credentials.add_credit(s, ana.id, credential_id, Decimal(1), FEB_3, "Old")
    )
    flows.states(_conversation(bot, "history")).update_no_track({key: 0})
    bot.application.user_data[ana.id]["history_edit"] = {"id": credit.id, "field": "title"}
    await ana.send("Renamed")
    assert ana.last_text.startswith("Saved.")
    [stored] = await credits_of(bot, ana, credential_id)
    assert stored.title == "Renamed"
