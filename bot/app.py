"""Builds the bolt App: Slack client, authorization, and every listener module's `register`."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.listeners import register_all
from bot.services import Services
from bot.settings import ConfigError, Settings
from bot.slack_scopes import BOT_SCOPES
from bot.store.installations import (
    EncryptedInstallationStore,
    OAuthStateStore,
    TokenCipher,
    key_file_cipher,
)

# Slack answers 429 with Retry-After; the client waits that long and tries again.
RATE_LIMIT_RETRIES = 3


def build_app(services: Services) -> App:
    settings = services.settings
    app = App(
        name="asap-coach",
        logger=logging.getLogger("bot.app"),
        client=slack_client(settings),
        # Socket Mode requests are not signed (the WebSocket is authenticated instead), and
        # `asap-coach run` refuses HTTP mode without a secret, so "" is never used to verify.
        signing_secret=_secret(settings.slack_signing_secret) or "",
        # Credentials are checked once at start-up by `asap-coach run`, with a clear message.
        token_verification_enabled=False,
        oauth_settings=_oauth_settings(services) if settings.oauth_enabled else None,
    )
    register_all(app, services)
    return app


def slack_client(settings: Settings, *, retry_rate_limits: bool = True) -> WebClient:
    """`retry_rate_limits=False` for callers that handle 429s themselves (the reminder tick
    keeps its claim and decides how long to wait)."""
    client = WebClient(
        token=None if settings.oauth_enabled else _secret(settings.slack_bot_token),
        base_url=settings.slack_api_url,
    )
    if retry_rate_limits:
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
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


def _oauth_settings(services: Services) -> OAuthSettings:
    settings = services.settings
    engine = services.db.engine
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=_secret(settings.slack_client_secret),
        scopes=list(BOT_SCOPES),
        installation_store=EncryptedInstallationStore(
            settings.slack_client_id, engine, token_cipher(settings)
        ),
        state_store=OAuthStateStore(engine),
    )


def _secret(value) -> str | None:
    return None if value is None else value.get_secret_value()
