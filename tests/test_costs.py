"""Costs as people type them, with a currency: stored with it and shown with it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.amounts import parse_cost
from bot.i18n import Translator
from bot.offline import Person
from storage import trainers
from tests.conftest import Bot
from tests.helpers import onboard
from tests.test_log import give, stored_credits

KNOWN = Translator.currencies()


@pytest.mark.parametrize(
    ("typed", "default", "expected"),
    [
        ("$129", "USD", ("129", "USD")),
        ("$129", "MXN", ("129", "MXN")),  # a Mexican's "$" is pesos
        ("$129", "EUR", ("129", "USD")),
        ("129 $", "EUR", ("129", "USD")),
        ("120 €", "USD", ("120", "EUR")),
        ("€120.50", "USD", ("120.50", "EUR")),
        ("1 500 ₽", "USD", ("1500", "RUB")),
        ("1\u00a0500,50 ₽", "USD", ("1500.50", "RUB")),
        ("500 руб.", "EUR", ("500", "RUB")),
        ("129 USD", "EUR", ("129", "USD")),
        ("129 usd", "EUR", ("129", "USD")),
        ("USD 129", "EUR", ("129", "USD")),
        ("£40", "USD", ("40", "GBP")),
        ("99 euros", "USD", ("99", "EUR")),
        ("129", "EUR", ("129", "EUR")),  # no currency: the trainer's
        ("120,50", "EUR", ("120.50", "EUR")),
        ("1,500.50", "USD", ("1500.50", "USD")),
        ("1.500,50", "EUR", ("1500.50", "EUR")),
        ("1.500", "EUR", ("1500", "EUR")),
        ("0", "USD", ("0", "USD")),
    ],
)
def test_costs_as_typed(typed: str, default: str, expected: tuple[str, str]) -> None:
    assert parse_cost(typed, default, KNOWN) == (Decimal(expected[0]), expected[1])


@pytest.mark.parametrize("typed", ["abc", "12 xyz", "1.5.5", "-3", "$", "129 dollars $", ""])
def test_what_is_not_money_is_refused(typed: str) -> None:
    assert parse_cost(typed, "USD", KNOWN) is None


async def _log_with_cost(person: Person, title: str, cost: str) -> None:
    await person.send("/log")
    await person.send("0.2")
    await person.press(person.buttons[0])  # today
    await person.send(title)
    await person.press(person.buttons[0])  # no provider
    await person.send(cost)
    await person.press(person.buttons[0])  # no proof


@pytest.mark.parametrize(
    ("button", "zone", "typed", "stored", "shown", "total"),
    [
        ("✓ English", "America/New_York", "$129", "USD", "$129.00", "$129.00 + €120.00"),
        ("Español", "Europe/Madrid", "129 USD", "USD", "129,00 US$", "120,00 € + 129,00 US$"),
        ("Русский", "Europe/Moscow", "1 500 ₽", "RUB", "1 500,00 ₽", "1 500,00 ₽ + 120,00 €"),
    ],
)
async def test_a_cost_is_stored_and_shown_with_its_currency(
    bot: Bot, button: str, zone: str, typed: str, stored: str, shown: str, total: str
) -> None:
    today = datetime.now(ZoneInfo(zone)).date()
    eva = bot.person("Eva")
    await onboard(eva, button)
    nasm = await give(
        bot, eva, "nasm-cpt", today - timedelta(days=60), today + timedelta(days=700), "2.0"
    )
    await _log_with_cost(eva, "Kettlebells", typed)
    await _log_with_cost(eva, "Mobility", "120 €")
    credits = await stored_credits(bot, nasm)
    assert sorted((c.title, c.cost, c.cost_currency) for c in credits) == [
        ("Kettlebells", Decimal(typed.strip("$₽ USD").replace(" ", "")), stored),
        ("Mobility", Decimal("120"), "EUR"),
    ]
    await eva.send("/status")
    assert total.replace(" ", "\u00a0") in eva.last_text.replace(" ", "\u00a0")
    await eva.send("/history")
    await eva.press(next(b for b in eva.buttons if "Kettlebells" in b))
    assert shown.replace(" ", "\u00a0") in eva.last_text.replace(" ", "\u00a0")


async def test_the_default_currency_is_changed_in_settings(bot: Bot) -> None:
    ana = bot.person("Ana", language_code="es")
    await onboard(ana, "✓ Español")
    today = datetime.now(ZoneInfo("Europe/Madrid")).date()
    nasm = await give(
        bot, ana, "nasm-cpt", today - timedelta(days=60), today + timedelta(days=700), "2.0"
    )
    await ana.send("/settings")
    assert "Costes en: euro (EUR)" in ana.last_text
    await ana.press("Moneda")
    assert "✓ EUR €" in ana.buttons
    await ana.press("MXN")
    assert "Hecho: los costes escritos sin moneda están en peso mexicano (MXN)." in ana.last_text
    await ana.press("Moneda")
    assert "✓ MXN" in ana.buttons and "EUR €" in ana.buttons
    stored = await bot.db.run(lambda s: trainers.get(s, ana.id))
    assert stored is not None and stored.currency == "MXN"
    await _log_with_cost(ana, "Pilates", "$1,200")  # a Mexican's dollar sign: pesos
    [credit] = await stored_credits(bot, nasm)
    assert (credit.cost, credit.cost_currency) == (Decimal("1200"), "MXN")
