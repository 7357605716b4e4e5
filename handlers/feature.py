"""What each feature declares once, and everything derived from the declarations.

A feature module ends with one `FEATURE = Feature(...)`: its handlers, its commands with their
descriptions, the prefixes of its callback data, and whether it works in private chat only.
`bot.app.FEATURES` lists the features; from them come the routing table (`routing`), the
command menus per language and scope (`bot.commands`), /help (`handlers.basics`), the
private-chat guards (a personal command sent in a group, a personal button pressed there) and
the commands whose handler reads the trainer itself (`handlers.loader`). Adding a command is
one `Command` in its feature's declaration plus its handler.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram.ext import BaseHandler

Handlers = Callable[[], Sequence[BaseHandler[Any, Any, Any]]]


@dataclass(frozen=True)
class Command:
    """A command as people see it: in the menus and in /help.

    `description` (marked with N_) is the menu's line and /help's; `group_description`, if
    given, is the line of the groups' menus.
    `private`: offered in private chats; `groups`: in groups to everyone; `admins`: in groups
    to the chat's administrators (whose menu also has the everyone's commands). A command
    offered in no group is personal: sent in a group it gets "let's talk in private".
    `reads_trainer`: its handler reads the trainer inside its own unit of work
    (`handlers.loader.with_trainer`), so the loader leaves it.
    """

    name: str
    description: str
    private: bool = True
    groups: bool = False
    admins: bool = False
    group_description: str | None = None
    reads_trainer: bool = False

    @property
    def personal(self) -> bool:
        return not (self.groups or self.admins)


@dataclass(frozen=True)
class Feature:
    """One feature: `handlers` in the order they are tried, `commands`, the `prefixes` its
    callback data starts with, and `private_only`: its buttons only ever work in private
    chat (a press elsewhere, forged or from a forwarded message, is refused before any handler
    runs). `routes_first`: its handlers are tried before the other features' (the reason is
    given where it is declared); otherwise features are tried, and listed in menus and /help,
    in the order of `bot.app.FEATURES`."""

    name: str
    handlers: Handlers
    commands: tuple[Command, ...] = ()
    prefixes: tuple[str, ...] = ()
    private_only: bool = True
    routes_first: bool = False


def routing(features: Sequence[Feature]) -> list[Feature]:
    """The order the features' handlers are tried in (first match wins)."""
    return [f for f in features if f.routes_first] + [f for f in features if not f.routes_first]


def commands(features: Sequence[Feature]) -> list[Command]:
    """Every command, in menu order, each once (a command served by two features, such as
    /start, is listed by the first)."""
    seen: dict[str, Command] = {}
    for feature in features:
        for command in feature.commands:
            seen.setdefault(command.name, command)
    return list(seen.values())


def personal_commands(features: Sequence[Feature]) -> list[str]:
    return [command.name for command in commands(features) if command.personal]


def reads_trainer(features: Sequence[Feature]) -> frozenset[str]:
    return frozenset(command.name for command in commands(features) if command.reads_trainer)


def private_buttons(features: Sequence[Feature]) -> str:
    """A pattern for the callback data of every private-only feature."""
    prefixes = sorted({p for f in features if f.private_only for p in f.prefixes})
    return "^(" + "|".join(re.escape(prefix) for prefix in prefixes) + ")"
