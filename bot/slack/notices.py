"""Short answers to a person after the ack: through a command's or button's response URL, as an
ephemeral in a channel, or as a message (a DM, a thread reply).

`Notice` is the job a listener enqueues when all it has to say is a sentence; jobs that are
already running answer with `tell` and `respond` directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.jobs.job import Job
from bot.services import Services
from bot.slack.clients import RateLimitWaits
from bot.slack.errors import (
    ResponseUrlExpired,
    ResponseUrlFailed,
    is_transient,
    retry_after_header,
    slack_reason,
)

logger = logging.getLogger(__name__)

RESPONSE_URL_RETRIES = 3
# What Slack answers a response URL that is used up or expired.
RESPONSE_URL_GONE = {400, 404, 410}


@dataclass(frozen=True, kw_only=True)
class Notice(Job):
    task: ClassVar[str] = "deliver_notice"

    team_id: str
    message: dict[str, Any]  # chat.postMessage-style: text, and optionally blocks
    response_url: str | None = None
    channel_id: str | None = None
    user_id: str | None = None  # with channel_id: an ephemeral to this person
    thread_ts: str | None = None


def deliver_notice(services: Services, notice: Notice) -> None:
    if notice.response_url is not None:
        respond(notice.response_url, notice.message)
        return
    assert notice.channel_id is not None, "a notice goes to a response URL or a channel"
    client = services.slack(notice.team_id)
    if notice.user_id is not None:
        tell(client, notice.channel_id, notice.user_id, notice.message, thread_ts=notice.thread_ts)
    else:
        client.chat_postMessage(
            channel=notice.channel_id, thread_ts=notice.thread_ts, **notice.message
        )


def respond(response_url: str, message: dict[str, Any], *, replace_original: bool = False) -> None:
    """Answer through a response URL (valid 30 minutes, 5 uses), waiting out short 429s and retrying
    Slack's 5xx; raises ResponseUrlFailed when it still fails, so the job is retried later,
    and ResponseUrlExpired when the URL itself is refused."""
    webhook = WebhookClient(
        response_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=RESPONSE_URL_RETRIES),
            RateLimitWaits(max_retry_count=RESPONSE_URL_RETRIES),
            ServerErrorRetryHandler(max_retry_count=RESPONSE_URL_RETRIES),
        ],
    )
    body = {"response_type": "ephemeral", "replace_original": replace_original, **message}
    answer = webhook.send_dict(body)
    if answer.status_code in RESPONSE_URL_GONE:
        raise ResponseUrlExpired(f"response URL answered {answer.status_code}")
    if answer.status_code != 200:
        raise ResponseUrlFailed(
            f"response URL answered {answer.status_code}",
            retry_after=retry_after_header(answer.headers or {}),
        )


def tell(
    client: WebClient,
    channel: str,
    user: str,
    message: dict[str, Any] | str,
    *,
    thread_ts: str | None = None,
) -> bool:
    """An ephemeral note, where possible: whether it was shown. The bot may not be able to post
    in that channel, which is logged; a rate limit or an outage is raised so the job is
    retried."""
    content = {"text": message} if isinstance(message, str) else message
    try:
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **content)
    except SlackApiError as error:
        if is_transient(error):
            raise
        logger.info("could not tell %s in %s: %s", user, channel, slack_reason(error))
        return False
    return True
