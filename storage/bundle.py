"""Rows of several tables in one statement: one round trip where a screen needs several reads.

On PostgreSQL each statement is a round trip to the server, and the round trips are most of
what a read costs. A `Bundle` joins its parts (each a SELECT of some columns of one table,
with its own FROM and WHERE) by UNION ALL: every row carries every part's columns, the other
parts' as NULLs cast to their types (PostgreSQL resolves a UNION's column types pair by pair,
so a NULL must say its type), and a first column naming its part. The rows come back per
part as named tuples that read like the model (`credential.cycle_end`), as Core rows do.
Built once, at import; SQLAlchemy caches its compiled form.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, cast, literal_column, null, union_all
from sqlalchemy import select as select_rows
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

# A part: its columns, and what to add to `SELECT <every column>` (FROM, WHERE).
Part = tuple[Sequence[ColumnElement[Any]], Callable[[Select[Any]], Select[Any]]]


class Bundle:
    def __init__(self, parts: Mapping[str, Part]) -> None:
        self._names = list(parts)
        self._slices: dict[str, slice] = {}
        self._rows: dict[str, Any] = {}
        start = 1  # after the part's name
        for name, (columns, _where) in parts.items():
            self._slices[name] = slice(start, start + len(columns))
            self._rows[name] = namedtuple(f"{name}_row", [c.key for c in columns])  # type: ignore[misc]
            start += len(columns)
        selects = []
        for name, (_columns, where) in parts.items():
            row: list[ColumnElement[Any]] = [literal_column(f"'{name}'").label("part")]
            for other, (columns, _where) in parts.items():
                row.extend(
                    (column if other == name else cast(null(), column.type)).label(
                        f"{other}_{column.key}"
                    )
                    for column in columns
                )
            selects.append(where(select_rows(*row)))
        self.statement = union_all(*selects)

    def read(
        self, connection: Connection | Session, params: Mapping[str, Any]
    ) -> dict[str, list[Any]]:
        """Every part's rows (in no particular order), in one statement."""
        found: dict[str, list[Any]] = {name: [] for name in self._names}
        for row in connection.execute(self.statement, params):
            name = row[0]
            found[name].append(self._rows[name]._make(row[self._slices[name]]))
        return found
