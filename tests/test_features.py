"""One declaration per feature: the menus, /help, the descriptions and the private-chat guards
all come from `bot.app.FEATURES`, so a command cannot be in a menu and missing elsewhere."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.app import FEATURES
from bot.commands import DESCRIPTION, SHORT_DESCRIPTION
from bot.i18n import I18n
from bot.offline import OfflineBotAPI
from handlers import command
from handlers.feature import Command, Feature, commands
from tests.conftest import Bot, make_settings, stop_bot

LOCALES = Path(__file__).parent.parent / "locales"
LANGUAGES = ("en", "es", "ru")


def translations(language: str) -> dict[str, str]:
    with open(LOCALES / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id and isinstance(m.id, str)}


async def test_every_command_in_a_menu_is_in_help_and_in_every_catalog(bot: Bot) -> None:
    menus = bot.api.commands
    scopes = {scope for scope, _language in menus}
    assert {"all_private_chats", "all_group_chats", "all_chat_administrators"} <= {
        scope.split('"type": "')[1].split('"')[0] for scope in scopes
    }
    for language in LANGUAGES:
        person = bot.person(f"Help {language}", language_code=language)
        await person.send("/help")
        shown = person.last_text
        catalog = translations(language)
        for scope in scopes:
            menu = menus[(scope, language)]
            assert menu, (scope, language)
            for entry in menu:
                assert f"/{entry['command']}:" in shown, (language, entry["command"])
                assert entry["description"] in shown, (language, entry["description"])
        if language != "en":
            declared = commands(FEATURES)
            for cmd in declared:
                for text in filter(None, (cmd.description, cmd.group_description)):
                    assert catalog.get(text), (language, text)
            assert catalog.get(DESCRIPTION) and catalog.get(SHORT_DESCRIPTION)


async def test_help_lists_the_commands_it_used_to_leave_out(bot: Bot) -> None:
    ana = bot.person("Ana")
    await ana.send("/help")
    for name in ("/status", "/log", "/history", "/audit", "/team", "/announce", "/event"):
        assert f"{name}:" in ana.last_text, name


async def test_team_and_announce_are_in_administrators_menus_only(bot: Bot) -> None:
    for language in ("", *LANGUAGES):
        names = {
            kind: [c["command"] for c in bot.api.commands[(f'{{"type": "{kind}"}}', language)]]
            for kind in ("all_private_chats", "all_group_chats", "all_chat_administrators")
        }
        for kind in ("all_private_chats", "all_group_chats"):
            assert "team" not in names[kind] and "announce" not in names[kind], (kind, language)
        assert names["all_chat_administrators"] == ["team", "announce", "roster", "leave", "event"]
        assert names["all_private_chats"][:3] == ["start", "add", "status"]


async def test_descriptions_are_set_per_language(bot: Bot) -> None:
    long, short = bot.api.descriptions, bot.api.short_descriptions
    assert set(long) == set(short) == {"", *LANGUAGES}
    assert long[""] == long["en"] and long["en"].startswith("I keep fitness certifications")
    assert len({long[language] for language in LANGUAGES}) == 3
    assert len({short[language] for language in LANGUAGES}) == 3
    assert "Я не даю" in long["ru"] and "Evito que caduquen" in long["es"]
    assert all(len(text) <= 120 for text in short.values())


async def ping(update: Update, context: object) -> None:
    """The new command: a button of its own."""
    assert update.effective_chat is not None
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Pong", callback_data="ping:pong")]])
    await update.effective_chat.send_message("ping?", reply_markup=markup)


async def pong(update: Update, context: object) -> None:
    """Its button."""
    assert update.callback_query is not None and update.effective_chat is not None
    await update.callback_query.answer()
    await update.effective_chat.send_message("pong!")


async def test_a_new_command_is_one_declaration(database_url: str, i18n: I18n) -> None:
    """A feature added with one declaration is in the private menu and /help, answered in
    private, pointed to the private chat in a group, and its buttons refused there."""
    from tests.conftest import start_bot

    feature = Feature(
        "ping",
        lambda: [command("ping", ping), CallbackQueryHandler(pong, pattern="^ping:pong$")],
        commands=(Command("ping", "Start, or start again"),),  # a translated text, for the test
        prefixes=("ping:",),
    )
    api = OfflineBotAPI()
    settings = make_settings(database_url)
    application = await start_bot(settings, i18n, api, features=(feature, *FEATURES))
    try:
        ana = Bot(api, application).person("Ana")
        private = api.commands[('{"type": "all_private_chats"}', "")]
        assert private[0]["command"] == "ping"
        await ana.send("/help")
        assert "/ping:" in ana.last_text
        await ana.send("/ping")
        assert ana.last_text == "ping?"
        await ana.press("Pong")
        assert ana.last_text == "pong!"
        pressed = ana.last
        group = api.new_group("Gym")
        await api.join(group, ana)
        await api.add_bot(group, ana)
        await ana.send("/ping@recert_bot", chat=group)
        said = [m.get("text", "") for m in group.messages if m["from"]["id"] != ana.id]
        assert any("let's talk in private" in text for text in said)
        assert not any(text in ("ping?", "pong!") for text in said)
        # The button on a message forwarded into the group: refused, nothing sent anywhere.
        forwarded = {**pressed, "chat": group.info}
        await ana.press_data("ping:pong", forwarded, chat=group)
        answer = list(api.answered_callbacks.values())[-1]
        assert answer.get("text") == "This only works in your private chat with me."
        assert [m for m in ana.chat.messages if m.get("text") == "pong!"] == [pressed]
        assert not any(m.get("text") == "pong!" for m in group.messages)
    finally:
        await stop_bot(application)
