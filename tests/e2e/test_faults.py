"""Faults, end to end: Slack rate limiting, failing or refusing; a slow LLM. What the person sees
and what is stored, with the real bolt app, job queue and clients against the fakes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from bot.blocks.critique import texts
from bot.fakes.openai_stub import OpenAIStub, StubReply
from bot.fakes.slack import FakeSlack
from bot.fakes.slack.fake import RESPONSE_URL
from bot.jobs.housekeeping import StalledJobsDue
from bot.slack.clients import RATE_LIMIT_RETRIES, SERVER_ERROR_RETRIES
from bot.slack.critique_message import CritiqueAsked
from bot.store.models import ChannelSettings
from bot.store.models import CritiqueRequest as RequestRow
from tests.conftest import RunningBot
from tests.engines import silent_llm_answer

pytestmark = pytest.mark.e2e

TEAM = "T0FAKE"
CUSTOMER = "My refund is three weeks late and nobody answers my emails!"
REPLY = "I'm so sorry your refund is late. That's on us: I'll send it today and email you by 5pm."
SLOW_LLM_SECONDS = 4.0


class Support:
    def __init__(self, fake: FakeSlack, bot: RunningBot) -> None:
        self.fake, self.bot, self.db = fake, bot, bot.services.db
        self.customer = fake.add_user("customer")
        self.agent = fake.add_user("agent")
        self.lead = fake.add_user("lead")
        self.channel = fake.add_channel("support", members=[self.customer, self.agent, self.lead])
        with self.db.session() as session:
            session.add(ChannelSettings(team_id=TEAM, channel_id=self.channel, watched=True))

    def reply_and_react(self) -> str:
        root = self.fake.user_posts(self.customer, self.channel, CUSTOMER)
        ts = self.fake.user_posts(self.agent, self.channel, REPLY, thread_ts=root)
        self.fake.user_reacts(self.lead, self.channel, ts, "teacher")
        return ts

    def critiques_received(self) -> list[str]:
        return [m.text for m in self.fake.dm_messages(self.agent) if "ASAP critique" in m.text]


@pytest.fixture
def support(running_bot: RunningBot, fake_slack: FakeSlack) -> Support:
    return Support(fake_slack, running_bot)


def test_more_429s_than_the_client_waits_out_still_deliver_the_critique_once(
    support: Support, fake_slack: FakeSlack
) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=0, times=RATE_LIMIT_RETRIES + 2)

    support.reply_and_react()

    fake_slack.wait_until(lambda: support.critiques_received(), 15)
    fake_slack.wait_until(support.bot.jobs_done, 10)  # then a duplicate would be posted
    assert len(support.critiques_received()) == 1
    with support.db.session() as session:
        [request] = session.scalars(select(RequestRow)).all()
        assert request.delivered_at is not None


def test_a_fractional_retry_after_is_waited_out_by_the_client(
    support: Support, fake_slack: FakeSlack
) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=0.5)

    support.reply_and_react()

    fake_slack.wait_until(lambda: support.critiques_received(), 5)
    first, second = fake_slack.calls("chat.postMessage")[:2]
    assert (first.status, second.status) == (429, 200)
    assert second.time - first.time >= 0.5


@pytest.mark.parametrize("limited", ["chat.postMessage", RESPONSE_URL])
def test_a_long_retry_after_reschedules_the_job_rather_than_holding_its_worker_slot(
    support: Support, fake_slack: FakeSlack, limited: str
) -> None:
    fake_slack.rate_limit(limited, retry_after=600)

    if limited == RESPONSE_URL:
        fake_slack.send_command(support.agent, support.channel, "/practice", f"check {REPLY}")
    else:
        support.reply_and_react()

    jobs = support.bot.services.jobs

    def rescheduled() -> bool:
        [job] = jobs._call(jobs.app.job_manager.list_jobs_async(), 5)
        in_five_minutes = datetime.now(UTC) + timedelta(minutes=5)
        return job.status == "todo" and job.attempts == 1 and job.scheduled_at > in_five_minutes

    # The job waits in the queue for Slack's ten minutes; its slot runs other jobs meanwhile.
    fake_slack.wait_until(rescheduled, 5)


def test_slack_5xx_are_tried_again(support: Support, fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", status=503, times=SERVER_ERROR_RETRIES + 1)

    support.reply_and_react()

    fake_slack.wait_until(lambda: support.critiques_received(), 15)
    assert len(support.critiques_received()) == 1


def test_a_rate_limited_response_url_still_gets_the_draft_check(
    support: Support, fake_slack: FakeSlack
) -> None:
    fake_slack.rate_limit(RESPONSE_URL, retry_after=0, times=4)

    check = f"check {REPLY}"
    delivery = fake_slack.send_command(support.agent, support.channel, "/practice", check)

    assert delivery.acked_within_deadline
    fake_slack.wait_until(
        lambda: any("ASAP critique" in e.text for e in fake_slack.ephemerals(user=support.agent)),
        15,
    )


def test_a_draft_check_outliving_its_response_url_is_shown_as_an_ephemeral_at_once(
    support: Support, fake_slack: FakeSlack
) -> None:
    fake_slack.expire_response_urls()  # used up or too old by the time the answer is ready

    fake_slack.send_command(support.agent, support.channel, "/practice", f"check {REPLY}")

    def checked() -> list:
        return [e for e in fake_slack.ephemerals(user=support.agent) if "ASAP critique" in e.text]

    fake_slack.wait_until(lambda: checked(), 5)  # no retries of a URL that never works again
    fake_slack.wait_until(support.bot.jobs_done, 5)
    [shown] = checked()
    assert shown.channel == support.channel
    assert [call.status for call in fake_slack.calls("chat.postEphemeral")] == [200]


def test_a_job_running_when_the_app_is_uninstalled_stops_without_retrying(
    support: Support, fake_slack: FakeSlack
) -> None:
    support.reply_and_react()
    fake_slack.revoke_bot_token()  # the app is uninstalled before its job reads the message

    fake_slack.wait_until(lambda: fake_slack.calls("chat.postEphemeral"), 5)
    fake_slack.wait_until(support.bot.jobs_done, 10)  # no retry waiting either
    assert [call.error for call in fake_slack.calls("conversations.replies")] == ["invalid_auth"]
    assert [call.error for call in fake_slack.calls("chat.postEphemeral")] == ["invalid_auth"]
    assert support.critiques_received() == []


LOST = "lost"  # a queue no worker of the bot fetches from: its jobs run only as the test says


def _run_on_a_worker_that_dies(bot: RunningBot) -> None:
    """The waiting job is fetched by a worker that never reports back (it was killed)."""
    jobs = bot.services.jobs
    lost = jobs._call(jobs.app.job_manager.fetch_job(queues=[LOST], worker_id=None), 5)
    assert lost is not None


def _statuses(bot: RunningBot) -> list[str]:
    jobs = bot.services.jobs
    return [job.status for job in jobs._call(jobs.app.job_manager.list_jobs_async(queue=LOST), 5)]


def test_a_job_that_keeps_killing_its_worker_gives_up_after_its_attempts_and_says_so(
    support: Support, fake_slack: FakeSlack
) -> None:
    jobs, requester = support.bot.services.jobs, support.lead
    asked = CritiqueAsked(
        team_id=TEAM,
        channel_id=support.channel,
        message_ts="1.0",
        requester=requester,
        bot_user_id=None,
        source="reaction",
        asked_at=time.time(),
    )
    jobs.app.configure_task(asked.task, queue=LOST).defer(**asked.arguments())

    def told() -> list[str]:
        return [e.text for e in fake_slack.ephemerals(user=requester)]

    for _ in range(2):  # bot_overrides: 3 attempts; the first two lost runs are retried
        _run_on_a_worker_that_dies(support.bot)
        jobs.enqueue(StalledJobsDue())
        fake_slack.wait_until(lambda: "doing" not in _statuses(support.bot), 10)
        assert _statuses(support.bot) == ["todo"] and told() == []  # not told before it gives up
    _run_on_a_worker_that_dies(support.bot)
    jobs.enqueue(StalledJobsDue())

    # The person is told after the job is marked failed: wait for the telling, not the mark.
    fake_slack.wait_until(told, 10)
    assert _statuses(support.bot) == ["failed"]
    assert told() == [texts()["notes"]["failed"]]


@pytest.fixture
def slow_llm() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        stub.default = StubReply.json(silent_llm_answer(), delay=SLOW_LLM_SECONDS)
        yield stub


@pytest.fixture
def bot_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    if "slow_llm" not in request.fixturenames:
        return {"job_max_attempts": 3}
    stub = request.getfixturevalue("slow_llm")
    return {
        "openai_api_key": "test",
        "openai_base_url": stub.base_url,
        "openai_api": "chat",
        "llm_concurrency": 4,
        "busy_after_seconds": 3.0,
    }


def test_acks_stay_fast_and_every_check_is_answered_under_a_slow_llm(
    support: Support, fake_slack: FakeSlack, slow_llm: OpenAIStub
) -> None:
    # Slack's in-CI load: 20 deliveries at 5 a second, the model answering in 4 s.
    deliveries = []
    for number in range(20):
        text = f"check Draft {number}: {REPLY}"
        command = fake_slack.send_command(support.agent, support.channel, "/practice", text)
        deliveries.append(command)
        time.sleep(0.2)

    assert [d.latency for d in deliveries if not d.acked_within_deadline] == []
    assert max(d.latency for d in deliveries) < 1.0

    def answers() -> list[str]:
        shown = [json.dumps(e.blocks) for e in fake_slack.ephemerals(user=support.agent)]
        return [blocks for blocks in shown if "Your draft, checked" in blocks]

    fake_slack.wait_until(lambda: len(answers()) == 20, 20)
    llm = [text for text in answers() if "Scored by the llm engine" in text]
    busy = [text for text in answers() if "busy" in text]
    assert llm and busy  # the model answered what it could; the rest got the offline critique
    assert len(slow_llm.requests) == len(llm)  # nothing asked the model twice


def _terminate_other_backends(database_url: str) -> int:
    """What a failover or a DBA does: every other connection to the bot's database is cut."""
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        cut = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    engine.dispose()
    return cut


def test_cut_database_connections_get_a_try_again_and_the_bot_recovers_by_itself(
    support: Support, fake_slack: FakeSlack, backend: str, database_url: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no connections to cut")
    stop = threading.Event()
    cuts: list[int] = []

    def keep_cutting() -> None:
        while not stop.wait(0.05):
            cuts.append(_terminate_other_backends(database_url))

    cutter = threading.Thread(target=keep_cutting)
    cutter.start()
    try:
        during = [
            fake_slack.send_command(support.agent, support.channel, "/practice", command)
            for command in ["stats", f"check {REPLY}"] * 10
        ]
    finally:
        stop.set()
        cutter.join()

    assert sum(cuts) > 0
    assert all(delivery.acked_within_deadline for delivery in during)
    answered = [d.body for d in during if d.status == 200]
    assert len(answered) == len(during)  # each one answered: the stats, or "try again"
    # Without a restart: the next requests are handled as if nothing happened.
    stats = fake_slack.send_command(support.agent, support.channel, "/practice", "stats")
    assert "practised" in stats.body
    support.reply_and_react()
    fake_slack.wait_until(lambda: support.critiques_received(), 15)


def test_a_practice_turn_that_waited_for_a_busy_llm_is_played_offline(
    support: Support, fake_slack: FakeSlack, slow_llm: OpenAIStub
) -> None:
    dm = fake_slack.dm_channel(support.agent)
    fake_slack.send_command(support.agent, support.channel, "/practice", "laptop-dead-on-arrival")
    fake_slack.wait_until(lambda: len(fake_slack.messages(dm)) == 1, 15)
    thread_ts = fake_slack.messages(dm)[0].ts
    fake_slack.wait_until(lambda: fake_slack.messages(dm, thread_ts=thread_ts)[1:], 15)
    asked_before = len(slow_llm.requests)
    for number in range(4):  # every LLM slot busy for the next 4 s
        check = f"check Draft {number}: {REPLY}"
        fake_slack.send_command(support.agent, support.channel, "/practice", check)
    fake_slack.wait_until(lambda: len(slow_llm.requests) == asked_before + 4, 5)

    fake_slack.user_posts(support.agent, dm, REPLY, thread_ts=thread_ts)

    def customer_answers() -> list:
        return [m for m in fake_slack.messages(dm, thread_ts=thread_ts) if "Anger" in str(m.blocks)]

    fake_slack.wait_until(lambda: len(customer_answers()) == 2, 15)
    assert (
        len(slow_llm.requests) == asked_before + 4
    )  # the turn asked no model: it was played offline


def test_a_practice_answer_rate_limited_past_the_clients_retries_replaces_its_cue_once(
    support: Support, fake_slack: FakeSlack
) -> None:
    dm = fake_slack.dm_channel(support.agent)
    fake_slack.send_command(support.agent, support.channel, "/practice", "laptop-dead-on-arrival")
    fake_slack.wait_until(lambda: len(fake_slack.messages(dm)) == 1, 5)
    thread_ts = fake_slack.messages(dm)[0].ts
    fake_slack.wait_until(lambda: len(fake_slack.messages(dm, thread_ts=thread_ts)) == 2, 5)
    fake_slack.rate_limit("chat.update", retry_after=0, times=RATE_LIMIT_RETRIES + 1)

    fake_slack.user_posts(support.agent, dm, REPLY, thread_ts=thread_ts)

    def thread() -> list:
        return fake_slack.messages(dm, thread_ts=thread_ts)

    fake_slack.wait_until(lambda: "Anger" in str(thread()[-1].blocks), 15)
    _card, _opening, reply, answer = thread()  # the cue became the answer: nothing else
    assert reply.user == support.agent and "typing" not in answer.text
    assert [call.status for call in fake_slack.calls("chat.update")][-1] == 200
