"""Answers to people under Telegram's faults (issue 18): a reply that meets a flood wait, a
time-out or a 5xx is sent again once, within a bounded time; only then comes the apology. A
person who blocked the bot between their message and its answer is one INFO line."""

from __future__ import annotations

import logging
import time

import pytest
from telegram.error import NetworkError, TimedOut

from bot.offline import ApiError
from tests.conftest import Bot
from tests.helpers import onboard

SORRY = "Sorry, something went wrong on my side"
HELP = "/help"


def _flood(seconds: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda: _flood(1), id="flood wait"),
        pytest.param(TimedOut, id="time-out"),
        pytest.param(lambda: ApiError(502, "Bad Gateway"), id="502"),
        pytest.param(lambda: ApiError(500, "Internal Server Error"), id="500"),
        pytest.param(lambda: NetworkError("connection reset by peer"), id="reset"),
    ],
)
async def test_a_reply_that_meets_one_fault_is_sent_again(bot: Bot, fault: object) -> None:
    ana = bot.person("Ana")
    await onboard(ana, "✓ English")
    bot.api.faults["sendMessage"] = [fault()]  # type: ignore[operator]
    started = time.monotonic()
    replies = await ana.send(HELP)
    assert time.monotonic() - started < 5  # bounded: the wait, and a pause
    assert len(replies) == 1 and SORRY not in replies[0]["text"]
    assert "Recert keeps your certifications" in replies[0]["text"]  # the help itself
    assert not bot.api.faults["sendMessage"]


async def test_a_pressed_button_is_answered_after_a_flood_wait(bot: Bot) -> None:
    ana = bot.person("Ana")
    await onboard(ana, "✓ English")
    await ana.send("/settings")
    bot.api.faults["answerCallbackQuery"] = [_flood(1)]
    bot.api.faults["editMessageText"] = [ApiError(503, "Service Unavailable")]
    await ana.press(ana.buttons[0])  # fails if the button is left unanswered
    assert SORRY not in ana.last_text


async def test_two_faults_in_a_row_or_a_long_flood_wait_get_the_apology(bot: Bot) -> None:
    ana = bot.person("Ana")
    await onboard(ana, "✓ English")
    bot.api.faults["sendMessage"] = [TimedOut(), ApiError(502, "Bad Gateway")]
    await ana.send(HELP)
    assert SORRY in ana.last_text  # tried twice, then said so
    started = time.monotonic()
    bot.api.faults["sendMessage"] = [_flood(60)]  # not held for a minute
    await ana.send(HELP)
    assert SORRY in ana.last_text and time.monotonic() - started < 5
    bot.expected_errors = 2


async def test_blocked_before_the_answer_is_one_info_line(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    ana = bot.person("Ana")
    await onboard(ana, "✓ English")
    caplog.set_level(logging.INFO)
    ana.block_bot()
    await ana.send(HELP)
    lines = [r for r in caplog.records if "not answered" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert lines[0].exc_info is None and "blocked" in lines[0].getMessage()
    # (The fixture checks that nothing was logged as an error.)
