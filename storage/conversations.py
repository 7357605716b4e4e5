"""Units of work for conversation persistence (see `bot.persistence`)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import ConversationState, UserData


def states(session: Session, name: str) -> list[tuple[str, str]]:
    rows = session.exec(select(ConversationState).where(ConversationState.name == name))
    return [(row.key, row.state) for row in rows]


def save_state(session: Session, name: str, key: str, state: str | None) -> None:
    row = session.get(ConversationState, (name, key))
    if state is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(ConversationState(name=name, key=key, state=state))
    else:
        row.state = state


def all_user_data(session: Session) -> list[tuple[int, str]]:
    return [(row.user_id, row.data) for row in session.exec(select(UserData))]


def save_user_data(session: Session, user_id: int, data: str | None) -> None:
    row = session.get(UserData, user_id)
    if data is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(UserData(user_id=user_id, data=data))
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
