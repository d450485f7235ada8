"""Builds the bolt App: Slack client, authorization, and every listener module's `register`."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings

from bot.listeners import register_all
from bot.services import Services
from bot.slack.clients import slack_client, token_cipher
from bot.slack_scopes import BOT_SCOPES
from bot.store.installations import EncryptedInstallationStore, OAuthStateStore

# Listeners call Slack only to open a modal (its trigger expires in 3 s): fail fast rather
# than wait out a rate limit, so the ack is never late. Jobs use clients that wait.
LISTENER_CLIENT_TIMEOUT_SECONDS = 2


def build_app(services: Services) -> App:
    settings = services.settings
    app = App(
        name="asap-coach",
        logger=logging.getLogger("bot.app"),
        client=slack_client(
            settings, retry_rate_limits=False, timeout=LISTENER_CLIENT_TIMEOUT_SECONDS
        ),
        # Listeners only parse, record and enqueue, within milliseconds: Slack gets its answer
        # once the work is safely in the queue, so a crash never loses an acked request.
        process_before_response=True,
        # Socket Mode requests are not signed (the WebSocket is authenticated instead), and
        # `asap-coach run` refuses HTTP mode without a secret, so "" is never used to verify.
        signing_secret=_secret(settings.slack_signing_secret) or "",
        # Credentials are checked once at start-up by `asap-coach run`, with a clear message.
        token_verification_enabled=False,
        oauth_settings=_oauth_settings(services) if settings.oauth_enabled else None,
    )
    register_all(app, services)
    return app


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
