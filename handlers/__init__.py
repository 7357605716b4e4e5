"""Telegram handlers: thin callbacks that parse input, call storage and answer.

Each module offers its handlers through a `handlers()` function; `bot.app` puts them in order.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram.ext import ConversationHandler
from telegram.warnings import PTBUserWarning


def conversation(**kwargs: Any) -> ConversationHandler[Any]:
    """A ConversationHandler that follows a person (per chat and user), not one message.

    Our buttons carry what they need, so per_message=False is intended; PTB's reminder of what
    that means is silenced here and only here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(**kwargs)
