"""Amounts as people type them: credits or hours ("0.5", "1,5", "3h", "5 horas", "3 ч").

Pure: /log and the /history edit read amounts with the same function."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_AMOUNT = re.compile(
    r"^(?P<value>[+-]?\d+(?:[.,]\d+)?)\s*(?P<hours>h|hrs?|hours?|horas?|ч|час(?:а|ов)?)?$",
    re.IGNORECASE,
)


def parse_amount(text: str) -> tuple[Decimal, bool] | None:
    """`0.5`, `1,5`, `5h`, `5 hours`, `3 ч` to (value, in hours); None if not a number."""
    match = _AMOUNT.match(" ".join(text.split()))
    if not match:
        return None
    try:
        value = Decimal(match["value"].replace(",", "."))
    except InvalidOperation:
        return None
    return value, match["hours"] is not None
