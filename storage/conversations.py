"""Units of work for conversation persistence (see `bot.persistence`)."""

from __future__ import annotations

from sqlalchemy import tuple_
from sqlmodel import Session, col, select

from storage.models import ConversationState, UserData


def states(session: Session, name: str) -> list[tuple[str, str]]:
    rows = session.exec(select(ConversationState).where(ConversationState.name == name))
    return [(row.key, row.state) for row in rows]


def save_states(session: Session, items: list[tuple[str, str, str | None]]) -> None:
    """Where each person now is in each conversation (None: it ended), read in one query."""
    wanted = [(name, key) for name, key, _state in items]
    stored = session.exec(
        select(ConversationState).where(
            tuple_(col(ConversationState.name), col(ConversationState.key)).in_(wanted)
        )
    )
    rows = {(row.name, row.key): row for row in stored}
    for name, key, state in items:
        row = rows.get((name, key))
        if state is None:
            if row is not None:
                session.delete(row)
                del rows[(name, key)]
        elif row is None:
            rows[(name, key)] = ConversationState(name=name, key=key, state=state)
            session.add(rows[(name, key)])
        else:
            row.state = state


def all_user_data(session: Session) -> list[tuple[int, str]]:
    return [(row.user_id, row.data) for row in session.exec(select(UserData))]


def save_user_data(session: Session, items: list[tuple[int, str | None]]) -> None:
    """Each person's answers so far (None: nothing to keep), read in one query."""
    ids = [user_id for user_id, _data in items]
    rows = {
        row.user_id: row
        for row in session.exec(select(UserData).where(col(UserData.user_id).in_(ids)))
    }
    for user_id, data in items:
        row = rows.get(user_id)
        if data is None:
            if row is not None:
                session.delete(row)
                del rows[user_id]
        elif row is None:
            rows[user_id] = UserData(user_id=user_id, data=data)
            session.add(rows[user_id])
        else:
            row.data = data


def for_person(
    session: Session, user_id: int, keys: list[str]
) -> tuple[str | None, list[tuple[str, str, str]]]:
    """One person's user_data (JSON or None) and their conversation states under `keys`
    (JSON keys), for replicas that share state: (data, [(name, key, state)])."""
    row = session.get(UserData, user_id)
    states = session.exec(
        select(ConversationState).where(col(ConversationState.key).in_(keys))
    ).all()
    return (row.data if row else None), [(s.name, s.key, s.state) for s in states]
