"""The token never reaches the log, not even inside a traceback."""

from __future__ import annotations

import io
import logging

from bot.logs import JsonFormatter, RedactSecrets

TOKEN = "123456789:AAE-super-secret-token-value-0123456"


def _logger(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets([TOKEN]))
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test-redaction-{id(stream)}")
    logger.addHandler(handler)
    logger.propagate = False
    return logger, stream


def test_token_is_redacted_from_messages_arguments_and_tracebacks() -> None:
    logger, stream = _logger(logging.Formatter("%(message)s"))
    logger.warning("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise ConnectionError(f"cannot reach /bot{TOKEN}/sendMessage")
    except ConnectionError:
        logger.exception("send failed")
    output = stream.getvalue()
    assert TOKEN not in output
    assert output.count("[redacted]") == 2
    assert "ConnectionError" in output and "Traceback" in output


def test_json_lines() -> None:
    logger, stream = _logger(JsonFormatter())
    logger.warning("token %s here", TOKEN)
    line = stream.getvalue().strip()
    assert line.startswith("{") and TOKEN not in line and '"level": "WARNING"' in line
