"""The reminder fan-out through the real job queue: the tick queues one sender per workspace,
Slack's rate limit on one workspace holds up none of the others, a long Retry-After is waited out
in the queue, and a sender that runs again posts nothing twice. Multi-workspace (OAuth) mode,
each workspace with its own bot token in the fake Slack.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from bot.fakes.slack import FakeSlack
from bot.fakes.slack.webapi import ApiCall
from bot.reminders.claims import ClaimedDelivery
from bot.reminders.delivery import MAX_INLINE_WAIT_SECONDS, claimed_digest
from bot.services import Services
from bot.slack.clients import token_cipher
from bot.slack.reminders import RemindersDue, WorkspaceRemindersDue, reminder_poster
from bot.store.base import utcnow
from bot.store.db import Database
from bot.store.installations import EncryptedInstallationStore
from bot.store.models import DeliveryStatus, ReminderDelivery, ReminderSchedule
from tests.conftest import bot_settings, oauth_bot_settings, serving

pytestmark = pytest.mark.e2e

POST = "chat.postMessage"
# The fake's per-workspace limit, over a window short enough for a test: the sender must wait
# longer than it would inline, so only the queue can run it again.
PER_WINDOW, WINDOW_SECONDS = 2, MAX_INLINE_WAIT_SECONDS + 2


@pytest.fixture
def bot(fake_slack: FakeSlack, database_url: str) -> Iterator[Services]:
    settings = oauth_bot_settings(fake_slack, database_url)
    services = Services.from_settings(settings)
    with serving(services):
        yield services
    services.close()


def install(services: Services, fake: FakeSlack, team_id: str, channels: int) -> list[str]:
    """A workspace with its own bot token and a reminder due this minute in each channel."""
    store = EncryptedInstallationStore(
        services.settings.slack_client_id, services.db.engine, token_cipher(services.settings)
    )
    store.save(
        Installation(
            app_id="AFAKE",
            team_id=team_id,
            bot_token=fake.add_install(team_id),
            bot_id="BBOT",
            bot_user_id=fake.bot_user_id,
            user_id="UINSTALLER",
        )
    )
    now = utcnow()
    names = [fake.add_channel(f"support-{team_id}-{n}") for n in range(channels)]
    with services.db.session() as session:
        for channel in names:
            session.add(
                ReminderSchedule(
                    team_id=team_id,
                    channel_id=channel,
                    local_time=now.time().replace(second=0, microsecond=0),
                    timezone="UTC",
                    weekdays=[1, 2, 3, 4, 5, 6, 7],
                    created_at=now - timedelta(hours=1),
                )
            )
    return names


def posts(fake: FakeSlack, channels: list[str]) -> list[ApiCall]:
    return [call for call in fake.calls(POST) if call.params.get("channel") in channels]


def posted(fake: FakeSlack) -> Counter[str]:
    return Counter(call.params["channel"] for call in fake.calls(POST) if call.ok)


def jobs_done(services: Services) -> bool:
    return services.jobs.waiting(running_too=True) == 0


def deliveries(services: Services) -> list[ReminderDelivery]:
    with services.db.session() as session:
        return list(session.scalars(select(ReminderDelivery)))


def test_a_rate_limited_workspace_waits_in_the_queue_and_holds_up_no_other(
    bot: Services, fake_slack: FakeSlack
) -> None:
    busy = install(bot, fake_slack, "TBUSY", channels=PER_WINDOW + 1)
    other = install(bot, fake_slack, "TOTHER", channels=1)
    fake_slack.rate_limit_per_workspace(POST, PER_WINDOW, window_seconds=WINDOW_SECONDS)

    bot.jobs.enqueue(RemindersDue())  # what the scheduler's tick does
    fake_slack.wait_until(lambda: len(posted(fake_slack)) == len(busy) + 1, timeout=30)

    calls = posts(fake_slack, busy)
    assert [call.status for call in calls] == [200, 200, 429, 200]
    first, _, limited, last = calls
    # Slack asked for a longer wait than a sender waits inline: the queue ran it again once
    # Slack allowed, and the sender did not try in between.
    assert last.time - first.time >= WINDOW_SECONDS - 0.5
    (other_post,) = posts(fake_slack, other)
    assert other_post.ok and other_post.time < limited.time + 2
    fake_slack.wait_until(lambda: jobs_done(bot))
    assert posted(fake_slack) == Counter({channel: 1 for channel in [*busy, *other]})
    rows = deliveries(bot)
    assert {row.status for row in rows} == {DeliveryStatus.sent}
    assert sorted(row.attempts for row in rows) == [1, 1, 1, 2]  # the limited one, claimed again


def test_senders_that_run_again_post_nothing_twice(bot: Services, fake_slack: FakeSlack) -> None:
    channels = install(bot, fake_slack, "TONE", channels=3)
    bot.jobs.enqueue(RemindersDue())
    fake_slack.wait_until(lambda: len(posted(fake_slack)) == len(channels), timeout=30)

    # A second replica's tick, a sender queued again, a lost worker's sender run once more.
    bot.jobs.enqueue(RemindersDue())
    for _ in range(2):
        bot.jobs.enqueue(WorkspaceRemindersDue(team_id="TONE"))
    fake_slack.wait_until(lambda: jobs_done(bot))

    assert posted(fake_slack) == Counter({channel: 1 for channel in channels})
    assert len(fake_slack.calls(POST)) == len(channels)


def test_a_sender_taking_over_finds_the_reminder_slack_already_has(
    fake_slack: FakeSlack, database: Database, database_url: str
) -> None:
    """What keeps a crash between Slack's answer and the delivery log from posting twice."""
    customer, other = fake_slack.add_user("customer"), fake_slack.add_user("other")
    channel = fake_slack.add_channel("support", members=[customer, other])
    fake_slack.user_posts(customer, channel, "an earlier message")
    poster = reminder_poster(bot_settings(fake_slack, database_url), database)
    claim = ClaimedDelivery(
        delivery_id=7,
        schedule_id=1,
        team_id="T0FAKE",
        channel_id=channel,
        local_date=utcnow().date(),
        due_at=utcnow() - timedelta(minutes=5),
        timezone="UTC",
        skip_quiet_days=False,
        unfinished=True,
    )
    assert poster.find_posted(claim) is None

    with database.session() as session:
        digest = claimed_digest(session, claim, utcnow(), timedelta(hours=4))
    ts = poster.post(claim, digest)
    fake_slack.user_posts(other, channel, "a later message")

    assert poster.find_posted(claim) == ts
    assert poster.find_posted(replace(claim, delivery_id=8)) is None
