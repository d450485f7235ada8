"""Web API clients outside a Slack request: for start-up checks and for the scheduler's jobs.

Kept apart from `bot.app` (which imports every listener) so that listener helpers and jobs can
use it without import cycles.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.settings import ConfigError, Settings
from bot.slack.errors import retry_after_header
from bot.store.db import Database
from bot.store.installations import EncryptedInstallationStore, TokenCipher, key_file_cipher

# Slack answers 429 with Retry-After; the client waits that long and tries again, when it is
# not longer than LONGEST_RATE_LIMIT_WAIT_SECONDS.
RATE_LIMIT_RETRIES = 3
LONGEST_RATE_LIMIT_WAIT_SECONDS = 10.0
SERVER_ERROR_RETRIES = 2
DEFAULT_TIMEOUT = 30  # seconds: slack_sdk's own default

ClientForTeam = Callable[[str], WebClient]


class NotInstalled(LookupError):
    """No bot token is stored for the workspace (the app was uninstalled)."""


class RateLimitWaits(RateLimitErrorRetryHandler):
    """Waits out a 429's Retry-After, in fractions of a second too (slack_sdk's own handler
    runs `int()` on it), and only a short one: a job thread waiting minutes would hold up the
    jobs behind it, so a longer wait is raised to the caller (a job is rescheduled for then)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None
            and response.status_code == 429
            and _rate_limit_wait(response) <= LONGEST_RATE_LIMIT_WAIT_SECONDS
        )

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        assert response is not None  # _can_retry only retries answered requests
        state.next_attempt_requested = True
        # A little jitter, so that callers limited together do not all come back at once.
        time.sleep(_rate_limit_wait(response) + random.random() / 2)
        state.increment_current_attempt()


def _rate_limit_wait(response: HttpResponse) -> float:
    wait = retry_after_header(response.headers)
    return 1.0 if wait is None else max(wait, 0.0)


def slack_client(
    settings: Settings, *, retry_rate_limits: bool = True, timeout: float = DEFAULT_TIMEOUT
) -> WebClient:
    """`retry_rate_limits=False` for callers that handle 429s themselves (the reminder tick
    keeps its claim and decides how long to wait) or must not wait (listeners)."""
    token = settings.slack_bot_token
    return web_client(
        settings,
        None if settings.oauth_enabled or token is None else token.get_secret_value(),
        retry_rate_limits=retry_rate_limits,
        timeout=timeout,
    )


def web_client(
    settings: Settings,
    token: str | None,
    *,
    retry_rate_limits: bool,
    timeout: float = DEFAULT_TIMEOUT,
) -> WebClient:
    """A client of the Slack API in SLACK_API_URL; with `retry_rate_limits` it waits out short
    429s and tries Slack's 5xx again."""
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=int(timeout))
    if retry_rate_limits:
        client.retry_handlers.append(RateLimitWaits(max_retry_count=RATE_LIMIT_RETRIES))
        client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES))
    return client


def token_cipher(settings: Settings) -> TokenCipher:
    if settings.encryption_key is not None:
        return TokenCipher.from_setting(settings.encryption_key.get_secret_value())
    if settings.sqlite_path is not None:
        return key_file_cipher(settings.sqlite_path.with_suffix(".key"))
    raise ConfigError(
        "ENCRYPTION_KEY is not set: multi-workspace installs store bot tokens encrypted. "
        'Make one with: python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"'
    )


def clients_by_team(
    settings: Settings, db: Database, *, retry_rate_limits: bool = False
) -> ClientForTeam:
    """One client for a single-workspace install; per team from the installation store with
    OAuth (non-enterprise installs: the store is asked by team id only). Rate limits are left
    to the caller unless `retry_rate_limits` (as `slack_client`)."""
    if not settings.oauth_enabled:
        client = slack_client(settings, retry_rate_limits=retry_rate_limits)
        return lambda team_id: client
    store = EncryptedInstallationStore(settings.slack_client_id, db.engine, token_cipher(settings))

    def client_for(team_id: str) -> WebClient:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            raise NotInstalled(team_id)
        return web_client(settings, bot.bot_token, retry_rate_limits=retry_rate_limits)

    return client_for
