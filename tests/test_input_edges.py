"""What the hostile tests from outside found in typed input (issue 18), on both databases:
text that is only white space, amounts that round to nothing, and a one-liner's long title."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.conftest import Bot
from tests.helpers import onboard
from tests.test_log import TODAY, give, stored_credits

SORRY = "Sorry, something went wrong"


@pytest.mark.parametrize("blank", [" ", "\t", "\u00a0", "\u2003", "\u3000", "\u2028", " \u3000 "])
async def test_white_space_alone_gets_the_normal_reply(bot: Bot, blank: str) -> None:
    ana = bot.person("Ana")
    await onboard(ana, "✓ English")
    replies = await ana.send(blank)
    assert len(replies) == 1 and SORRY not in replies[0]["text"]  # (the fixture: no error)
    await ana.send("/log" + blank)  # a command followed by it: the guided flow
    assert "How many credits" in ana.last_text or "no credentials" in ana.last_text


async def test_amounts_that_round_to_nothing_are_not_logged(bot: Bot) -> None:
    eva = bot.person("Eva")
    await onboard(eva, "✓ English")
    nasm = await give(
        bot, eva, "nasm-cpt", TODAY - timedelta(days=30), TODAY + timedelta(days=700), "2.0"
    )
    await eva.send("/log 0.004h Tiny")  # NASM: 10 hours a CEU, so 0.0004 CEU
    assert "Not logged to NASM-CPT: that comes to less than 0.01 of its credits." in (
        eva.last_text
    )
    assert "Logged 0" not in eva.last_text
    await eva.send("/log 0.001 Tiny")
    assert "is not an amount I can log" in eva.last_text and "from 0.01 up to 100" in (
        eva.last_text
    )
    await eva.press("Cancel")
    assert await stored_credits(bot, nasm) == []
    # Rounded as stored, the same on SQLite and PostgreSQL (which alone would round 0.005).
    await eva.send("/log 0.005 Half a cent")
    assert "Logged 0.01 CEU to NASM-CPT" in eva.last_text
    await eva.send("/log 0.126 Rounded")
    assert "Logged 0.13 CEU" in eva.last_text
    rows = await stored_credits(bot, nasm)
    assert sorted(r.units for r in rows) == [Decimal("0.01"), Decimal("0.13")]

    # Editing an entry's credits to nothing is refused the same way.
    await eva.send("/history")  # one credential: its entries at once
    await eva.press(next(b for b in eva.buttons if "Rounded" in b))
    await eva.press("Edit credits")
    await eva.send("0.001")
    assert "Please type a number from 0.01 up to 100, or hours such as 3h." in eva.last_text
    await eva.send("0.255")
    assert "Saved." in eva.last_text
    rows = await stored_credits(bot, nasm)
    assert sorted(r.units for r in rows) == [Decimal("0.01"), Decimal("0.26")]


async def test_a_one_liners_long_title_is_asked_again_not_cut(bot: Bot) -> None:
    leo = bot.person("Leo")
    await onboard(leo, "✓ English")
    nasm = await give(
        bot, leo, "nasm-cpt", TODAY - timedelta(days=30), TODAY + timedelta(days=700), "2.0"
    )
    await leo.send("/log 0.5 " + "x" * 201)
    assert "The title can be at most 200 characters, on one line" in leo.last_text
    assert await stored_credits(bot, nasm) == []
    await leo.send("Short title")  # only the title was asked again
    assert "Send the certificate" in leo.last_text
    await leo.press("Skip")
    assert "Logged 0.5 CEU" in leo.last_text
    await leo.send("/log 0.5 " + "y" * 200)  # exactly the limit: logged at once
    assert "Logged 0.5 CEU" in leo.last_text
    titles = sorted(r.title for r in await stored_credits(bot, nasm))
    assert titles == ["Short title", "y" * 200]
