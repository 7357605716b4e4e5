"""Which conversation takes what a person types: the one they started last.

A person can leave a conversation waiting (say, /settings asking for a city) and start another
(/add). Without a rule, the older one would take text meant for the newer one, or typed after
it ended. The rule: when a conversation starts and goes on (its entry point leads to a state),
every other conversation of that person ends, and the answers it kept (its drafts in
`user_data`) go with it. An entry point that ends at once (/settings shown, a one-line /log)
takes nothing away from the conversation under way. An older conversation that was ended this
way answers only its entry points again, like any conversation not started.

The rule is applied when the conversations are built (`conversation`), and nowhere else. PTB's
one private attribute we read, the states of a conversation, is read in `states` only (pinned
by `tests/test_flows.py` to the PTB versions `pyproject.toml` allows).
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, ConversationHandler
from telegram.warnings import PTBUserWarning

Key = tuple[int | str, ...]


def states(handler: ConversationHandler[Any]) -> Any:
    """The conversation's state per key (chat id, user id), as PTB keeps it: the only place
    that reads PTB's private attribute. PTB offers no public way to end someone's
    conversation from outside it, or to set its state from the database (replicas).
    It is a mapping (PTB's TrackingDict): popping a key is written to the persistence as an
    ended conversation; `update_no_track` sets states without writing them back."""
    return handler._conversations


def end_all(application: Application[Any, Any, Any, Any, Any, Any], user_id: int) -> None:
    """End every conversation of this person, everywhere (their data was erased)."""
    for handler in _conversations(application):
        held = states(handler)
        for key in [key for key in held if key and key[-1] == user_id]:
            held.pop(key, None)


def _conversations(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> list[ConversationHandler[Any]]:
    return [
        handler
        for group in application.handlers.values()
        for handler in group
        if isinstance(handler, ConversationHandler)
    ]


class NewestConversation(ConversationHandler[Any]):
    """A ConversationHandler that, once entered, ends the person's other conversations."""

    def __init__(self, *, drafts: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.drafts = drafts  # its keys in user_data, dropped when another one takes over

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: Any,
        context: Any,
    ) -> object:
        # check_update's answer: (state, key, the handler that matched, its own check).
        _state, key, handler, _check = check_result
        try:
            return await super().handle_update(update, application, check_result, context)
        finally:
            if handler in self.entry_points and states(self).get(key) is not None:
                self._take_over(application, key, context.user_data)

    def _take_over(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        key: Key,
        user_data: dict[Any, Any] | None,
    ) -> None:
        for other in _conversations(application):
            if other is self or key not in states(other):
                continue
            states(other).pop(key, None)
            if isinstance(other, NewestConversation) and user_data is not None:
                for draft in other.drafts:
                    user_data.pop(draft, None)


def conversation(
    *,
    name: str,
    entry_points: list[BaseHandler[Any, Any, Any]],
    states: dict[object, list[BaseHandler[Any, Any, Any]]],
    fallbacks: list[BaseHandler[Any, Any, Any]],
    drafts: tuple[str, ...] = (),
    **kwargs: Any,
) -> NewestConversation:
    """A persistent conversation per chat and user that follows the rule above.

    Our buttons carry what they need, so per_message=False is intended; PTB's reminder of what
    that means is silenced here and only here.
    """
    kwargs.setdefault("persistent", True)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="If 'per_message=False'", category=PTBUserWarning
        )
        return NewestConversation(
            name=name,
            entry_points=entry_points,
            states=states,
            fallbacks=fallbacks,
            drafts=drafts,
            **kwargs,
        )
