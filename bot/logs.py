"""Logging set-up: one format, and no Slack token ever reaches a log line."""

from __future__ import annotations

import logging
import re

# Bot, user, app-level, refresh and configuration tokens.
SLACK_TOKEN = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")
# How slack_bolt's messages quote a request's body: "Invalid request signature detected
# (signature: …, timestamp: …, body: …)" and "… without providing a response for the request (…)".
_REQUEST_BODY = re.compile(r"(body: |for the request \().*\)$", re.DOTALL)
# The bolt logger that logs a rejected request's body at INFO; bolt names it after the class.
_SIGNATURE_LOGGER = "slack_bolt.RequestVerification"


class RedactTokens(logging.Filter):
    """Masks Slack tokens in every record, whichever library logged it (slack_sdk logs request
    details at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if SLACK_TOKEN.search(message):
            record.msg = SLACK_TOKEN.sub("[redacted-token]", message)
            record.args = None
        return True


class WithholdRequestBodies(logging.Filter):
    """Cuts the request body out of slack_bolt's records: on a bad or stale signature bolt logs
    the whole body (message text, response_url) at INFO, and anybody can send one."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _REQUEST_BODY.search(message):
            record.msg = _REQUEST_BODY.sub(r"\1withheld)", message)
            record.args = None
        return True


def withhold_request_bodies(app_logger: logging.Logger) -> None:
    """Installs WithholdRequestBodies on the bolt app's logger and on its signature check's
    (logger filters, so every handler, a test's too, gets the record without the body)."""
    for logger in (app_logger, logging.getLogger(_SIGNATURE_LOGGER)):
        if not any(isinstance(known, WithholdRequestBodies) for known in logger.filters):
            logger.addFilter(WithholdRequestBodies())


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
