"""What the log says about a chat: one line per update with its id and kind, and never a
credential number, a secret or what people wrote beyond a command's name."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import JsonFormatter, OneLineFormatter, RedactSecrets, setup_logging
from tests.conftest import Bot

NUMBER = "NC-98765-PRIVATE"
NOTE = "my private diary text"
TITLE = "Secret course title"


async def test_a_chat_leaves_one_line_per_update_and_no_words(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    ana = bot.person("Ana")
    await ana.send("/start")
    await ana.press("✓ English")
    await ana.send("Madrid")
    await ana.send(NOTE)
    await ana.send("/add")
    await ana.press("NCSF")
    await ana.press("NCSF-CPT")
    await ana.send("2/3/25")
    await ana.send(NUMBER)
    await ana.press("✅ Save")
    await ana.send(f"/log 1 {TITLE}")
    await ana.edit(ana.chat.messages[0], f"/start {NOTE}")
    messages = [r.getMessage() for r in caplog.records]
    text = "\n".join(messages)
    for private in (NUMBER, NOTE, TITLE, "Madrid", "2/3/25", "Ana"):
        assert private not in text, private
    handled = [m for m in messages if m.startswith("update ") and " handled in " in m]
    assert len(handled) == 12  # one line per update
    ids = [int(m.split()[1]) for m in handled]
    assert ids == sorted(ids) and len(set(ids)) == 12
    assert any("message /add in a private chat" in m for m in handled)
    assert any("message /log in a private chat" in m for m in handled)
    assert any("message (text) in a private chat" in m for m in handled)
    assert any("button reg:" in m or "button add:" in m for m in handled)
    assert any("edited message (text)" in m for m in handled)


def test_plain_lines_are_one_line_even_with_a_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(["s3cr3t-token"]))
    handler.setFormatter(OneLineFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("test-one-line")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError("bad\nvalue s3cr3t-token")
    except ValueError:
        logger.exception("failed\nhere")
    output = stream.getvalue()
    assert output.count("\n") == 1 and "Traceback" in output and "s3cr3t-token" not in output
    stream.truncate(0)
    handler.setFormatter(JsonFormatter())
    logger.warning("two\nlines")
    assert stream.getvalue().count("\n") == 1


def test_telegram_debug_lines_stay_off_even_at_debug() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("DEBUG", False, [])
        assert logging.getLogger("telegram").getEffectiveLevel() == logging.INFO
        assert logging.getLogger("telegram.ext").getEffectiveLevel() == logging.INFO
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        logging.getLogger("telegram").setLevel(logging.NOTSET)
        logging.getLogger("httpx").setLevel(logging.NOTSET)
