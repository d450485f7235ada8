from __future__ import annotations

import logging

from bot.logs import RedactTokens


def test_slack_tokens_never_reach_a_log_line(caplog) -> None:
    logger = logging.getLogger("test.tokens")
    logger.addFilter(RedactTokens())
    with caplog.at_level(logging.DEBUG, logger="test.tokens"):
        logger.debug("calling with %s and xapp-1-A0-123-abc", "Bearer xoxb-123-456-abcDEF")
    assert "xoxb" not in caplog.text and "xapp" not in caplog.text
    assert caplog.text.count("[redacted-token]") == 2
