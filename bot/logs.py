"""Logging set-up: one format, and no Slack token ever reaches a log line."""

from __future__ import annotations

import logging
import re

# Bot, user, app-level, refresh and configuration tokens.
SLACK_TOKEN = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")


class RedactTokens(logging.Filter):
    """Masks Slack tokens in every record, whichever library logged it (slack_sdk logs request
    details at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if SLACK_TOKEN.search(message):
            record.msg = SLACK_TOKEN.sub("[redacted-token]", message)
            record.args = None
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
