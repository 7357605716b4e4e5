"""The command menus, per language and scope, and the bot's descriptions, all derived from the
features' declarations (`handlers.feature`); descriptions are translated when registered.

Telegram shows a group's administrators the administrators' menu instead of the groups' one,
so theirs lists everyone's commands too.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)

from bot.i18n import N_, I18n, Translator
from handlers.feature import Command

# What an empty chat shows before /start (up to 512 characters), and the bot's profile and
# shared links (up to 120).
DESCRIPTION = N_(
    "I keep fitness certifications from lapsing: I know each certifying body's renewal "
    "rules, count your continuing-education credits and remind you before every deadline. "
    "Gyms can add me to their trainers' group to see who is close to a deadline."
)
SHORT_DESCRIPTION = N_("Keeps your fitness certifications from lapsing: credits and reminders.")


def private_menu(commands: Sequence[Command]) -> list[Command]:
    return [command for command in commands if command.private]


def group_menu(commands: Sequence[Command]) -> list[Command]:
    return [command for command in commands if command.groups]


def administrators_menu(commands: Sequence[Command]) -> list[Command]:
    return [command for command in commands if command.groups or command.admins]


def menu(translator: Translator, commands: Sequence[Command], *, group: bool) -> list[BotCommand]:
    return [
        BotCommand(
            command.name,
            translator.gettext(
                (command.group_description or command.description)
                if group
                else command.description
            ),
        )
        for command in commands
    ]


async def register_menus(bot: Bot, i18n: I18n, commands: Sequence[Command]) -> None:
    """One menu per shipped language and scope (Telegram picks it by the client's language),
    the default language's for everyone else; and the descriptions, likewise."""
    scopes: list[tuple[BotCommandScope, list[Command], bool]] = [
        (BotCommandScopeAllPrivateChats(), private_menu(commands), False),
        (BotCommandScopeAllGroupChats(), group_menu(commands), True),
        (BotCommandScopeAllChatAdministrators(), administrators_menu(commands), True),
    ]
    for language in (*i18n.languages, ""):
        translator = i18n.translator(language or i18n.default)
        for scope, listed, group in scopes:
            await bot.set_my_commands(
                menu(translator, listed, group=group), scope=scope, language_code=language or None
            )
        await bot.set_my_description(
            translator.gettext(DESCRIPTION), language_code=language or None
        )
        await bot.set_my_short_description(
            translator.gettext(SHORT_DESCRIPTION), language_code=language or None
        )


async def set_chat_menu(
    bot: Bot, chat_id: int, translator: Translator, commands: Sequence[Command]
) -> None:
    """After /language: this chat's menu follows the chosen language, whatever the client's."""
    await bot.set_my_commands(
        menu(translator, private_menu(commands), group=False), scope=BotCommandScopeChat(chat_id)
    )
