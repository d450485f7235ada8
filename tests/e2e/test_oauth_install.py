"""Multi-workspace mode: the install page is served, and an uninstall deletes stored tokens."""

from __future__ import annotations

import urllib.request

import pytest
from slack_sdk.oauth.installation_store import Installation

from bot.fakes.slack import FakeSlack
from bot.services import Services
from bot.slack.clients import token_cipher
from bot.store.installations import EncryptedInstallationStore
from tests.conftest import oauth_bot_settings, serving

pytestmark = pytest.mark.e2e


@pytest.fixture
def oauth_bot(fake_slack: FakeSlack, database_url: str):
    settings = oauth_bot_settings(fake_slack, database_url)
    services = Services.from_settings(settings)
    with serving(services) as base_url:
        yield services, base_url
    services.db.dispose()


def test_the_install_page_links_to_slack_with_the_bot_scopes(oauth_bot) -> None:
    _, base_url = oauth_bot
    with urllib.request.urlopen(f"{base_url}/slack/install", timeout=5) as response:
        page = response.read().decode()
    assert response.status == 200
    assert "client_id=111.222" in page
    assert "scope=app_mentions%3Aread%2C" in page or "scope=app_mentions:read," in page


def test_an_uninstall_deletes_the_workspace_tokens(oauth_bot, fake_slack: FakeSlack) -> None:
    services, base_url = oauth_bot
    store = EncryptedInstallationStore(
        "111.222", services.db.engine, token_cipher(services.settings)
    )
    store.save(
        Installation(
            app_id="AFAKE",
            team_id="T0FAKE",
            bot_token="xoxb-fake",
            bot_id="BBOT",
            bot_user_id="UBOT",
            user_id="U1",
        )
    )
    fake_slack.connect(f"{base_url}/slack/events")

    delivery = fake_slack.send_event({"type": "app_uninstalled"})

    assert delivery.status == 200
    fake_slack.wait_until(lambda: store.find_bot(enterprise_id=None, team_id="T0FAKE") is None)
