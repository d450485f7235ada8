"""Who may run the admin subcommands of `/practice`, as the person sees it."""

from __future__ import annotations

import pytest

from bot.fakes.slack import FakeSlack
from bot.prompt_files import read_toml
from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e


def _answer(fake: FakeSlack, user: str, channel: str, text: str) -> str:
    fake.send_command(user, channel, "/practice", text)
    fake.wait_until(lambda: fake.ephemerals(user=user), 5)
    return fake.ephemerals(user=user)[-1].text


def test_an_admin_of_another_organisation_in_a_slack_connect_channel_is_refused(
    running_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    guest = fake_slack.add_user("partner-admin", is_admin=True, team_id="T0PARTNER")
    admin = fake_slack.add_user("lead", is_admin=True)
    channel = fake_slack.add_channel("shared-support", members=[guest, admin])

    refused = _answer(fake_slack, guest, channel, f"watch <#{channel}|shared-support>")
    allowed = _answer(fake_slack, admin, channel, f"watch <#{channel}|shared-support>")

    assert refused == read_toml("slack", "watching.toml")["not_admin"]
    assert "watching" in allowed.lower()
