"""The command menus, per language and scope (private chats, groups); descriptions are
translated when registered."""

from __future__ import annotations

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)

from bot.i18n import N_, I18n, Translator

PRIVATE_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Start, or start again")),
    ("add", N_("Add a certification")),
    ("status", N_("Deadlines and credits at a glance")),
    ("log", N_("Log credits earned")),
    ("credentials", N_("Your credentials")),
    ("history", N_("Credits logged, with their proofs")),
    ("export", N_("Spreadsheet and calendar files")),
    ("audit", N_("Proof pack for an audit")),
    ("settings", N_("Time zone, reminder hour, language")),
    ("language", N_("Change the language")),
    ("roster", N_("Your team's roster (managers)")),
    ("announce", N_("Post to your team's group (managers)")),
    ("leave", N_("Stop sharing with a team")),
    ("delete_me", N_("Erase all my data")),
    ("help", N_("What I can do")),
    ("cancel", N_("Stop what we are doing")),
)
# In groups the bot sees commands only (privacy mode on): these are the team's.
GROUP_COMMANDS: tuple[tuple[str, str], ...] = (
    ("team", N_("Set up the team, or its digest day, hour and time zone")),
    ("announce", N_("Post an announcement (managers)")),
    ("roster", N_("The roster, in private (managers)")),
    ("leave", N_("Stop sharing your deadlines with this team")),
)


def menu(
    translator: Translator, commands: tuple[tuple[str, str], ...] = PRIVATE_COMMANDS
) -> list[BotCommand]:
    return [BotCommand(name, translator.gettext(text)) for name, text in commands]


async def register_menus(bot: Bot, i18n: I18n) -> None:
    """One menu per shipped language (Telegram picks it by the client's language), and the
    default language's menu for everyone else."""
    scope = BotCommandScopeAllPrivateChats()
    for language in i18n.languages:
        await bot.set_my_commands(
            menu(i18n.translator(language)), scope=scope, language_code=language
        )
    await bot.set_my_commands(menu(i18n.translator(i18n.default)), scope=scope)
    groups = BotCommandScopeAllGroupChats()
    for language in i18n.languages:
        await bot.set_my_commands(
            menu(i18n.translator(language), GROUP_COMMANDS), scope=groups, language_code=language
        )
    await bot.set_my_commands(menu(i18n.translator(i18n.default), GROUP_COMMANDS), scope=groups)


async def set_chat_menu(bot: Bot, chat_id: int, translator: Translator) -> None:
    """After /language: this chat's menu follows the chosen language, whatever the client's."""
    await bot.set_my_commands(menu(translator), scope=BotCommandScopeChat(chat_id))
