"""The real bolt app over HTTP against the fake Slack: Slack's delivery contract holds."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from sqlalchemy import func, select

from bot.fakes.slack import FakeSlack
from bot.store.models import PracticeTurn
from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e


def test_practice_help_answers_with_an_ephemeral_help(running_bot, fake_slack: FakeSlack) -> None:
    agent = fake_slack.add_user("agent")
    channel = fake_slack.add_channel("support", members=[agent])

    delivery = fake_slack.send_command(agent, channel, "/practice", "help")

    assert delivery.acked_within_deadline
    assert delivery.outcome == "ephemeral"
    [help_shown] = fake_slack.ephemerals(user=agent)
    assert "/practice help" in json.dumps(help_shown.blocks)
    assert fake_slack.messages(channel) == []  # nothing visible to the channel


def test_an_unknown_subcommand_gets_the_help_and_says_so(running_bot, fake_slack) -> None:
    agent = fake_slack.add_user("agent")
    channel = fake_slack.add_channel("support", members=[agent])

    fake_slack.send_command(agent, channel, "/practice", "dance wildly")

    [shown] = fake_slack.ephemerals(user=agent)
    assert shown.text.startswith("I don't know `dance`.")


def test_a_retried_event_produces_exactly_one_reply(running_bot, fake_slack) -> None:
    agent = fake_slack.add_user("agent")
    channel = fake_slack.add_channel("support", members=[agent])
    fake_slack.user_posts(agent, channel, f"<@{fake_slack.bot_user_id}> what can you do?")
    fake_slack.wait_until(lambda: len(fake_slack.calls("chat.postMessage")) == 1)
    [mention_delivery] = [
        d
        for d in fake_slack.deliveries
        if d.kind == "event" and d.payload["event"]["type"] == "app_mention"
    ]

    retry = fake_slack.redeliver(mention_delivery, reason="http_timeout")
    fake_slack.wait_idle()

    assert retry.status == 200
    replies = [
        m
        for m in fake_slack.messages(channel, thread_ts=mention_delivery.payload["event"]["ts"])
        if m.user == fake_slack.bot_user_id
    ]
    assert len(replies) == 1
    assert "/practice help" in replies[0].text


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Slack-Signature": "v0=" + "0" * 64}, id="bad-signature"),
        pytest.param(None, id="stale-timestamp"),
    ],
)
def test_unsigned_or_stale_requests_are_rejected_and_do_nothing(
    running_bot, fake_slack, headers
) -> None:
    agent = fake_slack.add_user("agent")
    channel = fake_slack.add_channel("support", members=[agent])
    body = (
        f"command=%2Fpractice&text=help&user_id={agent}&channel_id={channel}"
        f"&team_id=T0FAKE&response_url=http%3A%2F%2F127.0.0.1%3A1%2F&trigger_id=1.2.3"
    ).encode()
    if headers is None:
        headers = fake_slack.sign(body, timestamp=int(time.time()) - 6 * 60)
    else:
        headers = {**fake_slack.sign(body), **headers}

    delivery = fake_slack.post_to_app(
        body, content_type="application/x-www-form-urlencoded", headers=headers
    )

    assert delivery.status == 401
    assert fake_slack.ephemerals() == []
    assert [call for call in fake_slack.calls() if call.method != "auth.test"] == []


def _get(url: str) -> tuple[int, dict | str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read().decode(), error.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def test_health_readiness_and_metrics_are_served(running_bot: RunningBot, fake_slack) -> None:
    agent = fake_slack.add_user("agent")
    channel = fake_slack.add_channel("support", members=[agent])
    fake_slack.send_command(agent, channel, "/practice", "help")

    assert _get(f"{running_bot.base_url}/healthz") == (200, {"status": "ok"})
    assert _get(f"{running_bot.base_url}/readyz") == (200, {"status": "ready"})
    status, metrics = _get(f"{running_bot.base_url}/metrics")
    assert status == 200
    assert 'asap_slack_requests_total{status="200"}' in metrics


def test_an_uninstall_forgets_everything_the_bot_held_for_the_workspace(
    running_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    agent = fake_slack.add_user("agent")
    channel = fake_slack.add_channel("support", members=[agent])
    fake_slack.send_command(agent, channel, "/practice", "laptop-dead-on-arrival")
    practice = running_bot.services.practice
    fake_slack.wait_until(lambda: practice.active_session("T0FAKE", agent), 5)

    delivery = fake_slack.send_event({"type": "app_uninstalled"})

    assert delivery.status == 200
    fake_slack.wait_until(lambda: practice.active_session("T0FAKE", agent) is None, 5)
    with running_bot.services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PracticeTurn)) == 0


def test_an_uninstall_deletes_the_workspaces_jobs_from_the_queue(
    running_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    jobs = running_bot.services.jobs
    # Waiting where no worker fetches, as a draft check behind a busy LLM would.
    for team_id in ("T0FAKE", "T0OTHER"):
        draft = {"team_id": team_id, "user_id": "U1", "draft": "Sorry!", "response_url": "x"}
        jobs.app.configure_task("check_draft", queue="lost").defer(**draft, asked_at=0.0)

    fake_slack.send_event({"type": "app_uninstalled"})

    def teams_waiting() -> list[str]:
        waiting = jobs._call(jobs.app.job_manager.list_jobs_async(queue="lost"), 5)
        return [job.task_kwargs["team_id"] for job in waiting]

    fake_slack.wait_until(lambda: teams_waiting() == ["T0OTHER"], 5)
    # The uninstall's own job was not deleted under it: it ran to its end.
    fake_slack.wait_until(lambda: jobs.waiting(running_too=True) == 1, 5)


def test_a_command_whose_text_says_payload_is_not_lost(running_bot, fake_slack) -> None:
    # bolt alone reads any form body holding the word "payload" as an interaction.
    agent = fake_slack.add_user("agent")
    channel = fake_slack.add_channel("support", members=[agent])

    delivery = fake_slack.send_command(agent, channel, "/practice", "dance with the payload")

    assert delivery.acked_within_deadline
    [shown] = fake_slack.ephemerals(user=agent)
    assert shown.text.startswith("I don't know `dance`.")
