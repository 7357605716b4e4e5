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


# A trainer's currency until they pick one in /settings: their language's usual one.
DEFAULT_CURRENCY = {"en": "USD", "es": "EUR", "ru": "RUB"}
# The currencies offered in /settings (any ISO code can still be typed with an amount).
OFFERED_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "MXN", "COP", "ARS", "CLP", "PEN", "RUB")
_DOLLARS = {"USD", "CAD", "AUD", "MXN", "COP", "ARS", "CLP", "NZD"}  # written with "$"
_SYMBOLS = {"€": "EUR", "£": "GBP", "₽": "RUB", "¥": "JPY", "₴": "UAH", "₸": "KZT", "S/": "PEN"}
_WORDS = {
    "euro": "EUR",
    "euros": "EUR",
    "евро": "EUR",
    "dollar": "USD",
    "dollars": "USD",
    "dólar": "USD",
    "dólares": "USD",
    "долл": "USD",
    "доллар": "USD",
    "доллара": "USD",
    "долларов": "USD",
    "руб": "RUB",  # noqa: RUF001
    "рубль": "RUB",
    "рубля": "RUB",
    "рублей": "RUB",
    "р": "RUB",  # noqa: RUF001
    "pesos": "",  # the trainer's own pesos: their default currency when it is one
    "peso": "",
}


def currency_for(chosen: str | None, language: str) -> str:
    """The currency a trainer's costs are read and shown in: the one they chose, else their
    language's usual one."""
    return chosen or DEFAULT_CURRENCY.get(language, "USD")


_NUMBER = re.compile(r"^\d{1,3}(?:[  ]\d{3})+(?:[.,]\d{1,2})?$|^\d+(?:[.,]\d+)*$")
_ISO = re.compile(r"^[A-Za-z]{3}$")


def _number(text: str) -> Decimal | None:
    """`1 500`, `1,500.50`, `1.500,50`, `120,50`, `129` to a Decimal; None otherwise. A lone
    separator before exactly three digits groups thousands; otherwise it marks decimals."""
    if not _NUMBER.match(text):
        return None
    digits = text.replace(" ", "").replace(" ", "").replace(" ", "")
    marks = [ch for ch in digits if ch in ".,"]
    if len(marks) > 1 and len(set(marks)) == 2:  # both: the last one is the decimal mark
        decimal = marks[-1]
        digits = digits.replace("," if decimal == "." else ".", "").replace(decimal, ".")
    elif len(marks) > 1:  # "1.500.000": thousands only
        if any(len(group) != 3 for group in digits.split(marks[0])[1:]):
            return None
        digits = digits.replace(marks[0], "")
    elif marks:
        whole, _mark, tail = digits.partition(marks[0])
        digits = whole + tail if len(tail) == 3 else f"{whole}.{tail}"
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def parse_cost(text: str, default: str, known: frozenset[str]) -> tuple[Decimal, str] | None:
    """`$129`, `120 €`, `1 500 ₽`, `129 USD`, `129` (in `default`) to (amount, ISO code);
    None when it is not an amount of money. `known` holds the ISO codes Babel knows; "$" is
    the trainer's own dollar or peso when their default is written so, else USD."""
    cleaned = " ".join(text.replace(" ", " ").split())
    currency = None
    for symbol, code in (("$", default if default in _DOLLARS else "USD"), *_SYMBOLS.items()):
        if cleaned.startswith(symbol) or cleaned.endswith(symbol):
            currency = code
            cleaned = cleaned.removeprefix(symbol).removesuffix(symbol).strip()
            break
    if currency is None:
        head, _space, tail = cleaned.rpartition(" ")
        word = tail.casefold().rstrip(".")
        if head and _ISO.match(tail) and tail.upper() in known:
            currency, cleaned = tail.upper(), head
        elif head and word in _WORDS:
            currency, cleaned = _WORDS[word] or default, head
        elif _ISO.match(cleaned[:3]) and cleaned[:3].upper() in known:  # "USD 129"
            currency, cleaned = cleaned[:3].upper(), cleaned[3:].strip()
    value = _number(cleaned)
    if value is None:
        return None
    return value, currency or default
