"""Watching support channels and the daily reminder, end to end: the real bolt app over HTTP
against the fake Slack, and the reminder tick the scheduler runs, with a controllable clock.

The expected figures of the replayed history are worked out by hand below, not with the bot's
code.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.fakes.slack import FakeSlack
from bot.reminders.delivery import Outcome, run_due_reminders
from bot.reminders.schedule import ReminderTiming, due_at
from bot.services import Services
from bot.slack.clients import RATE_LIMIT_RETRIES
from bot.slack.reminders import reminder_poster
from bot.store.base import Base, utcnow
from bot.store.models import (
    AuthorKind,
    ChannelMessage,
    ChannelSettings,
    Critique,
    CritiqueFeedback,
    DeliveryStatus,
    FeedbackKind,
    PracticeSession,
    PracticeTurn,
    ReminderDelivery,
    ReminderSchedule,
    TurnRole,
    Workspace,
)
from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e

JOB_ATTEMPTS = 2  # a job that keeps failing on a passing trouble gives up after one retry
# Each try waits out its 429s (up to a second of jitter each), then the job waits to run again.
GIVING_UP_SECONDS = 15
SECRET = "my card number is 4111"  # must never reach the database
DAILY_0930_UTC = ReminderTiming(time(9, 30), "UTC", (1, 2, 3, 4, 5, 6, 7))


class SettableClock:
    """The fake Slack's clock: messages get the timestamps of the history being replayed.

    Slack's ts only ever grows, so it starts early enough for the oldest replayed day (a week
    before yesterday) and is only moved forward.
    """

    def __init__(self) -> None:
        self.now = reminder_day(due_instant()) - timedelta(days=8)

    def __call__(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def slack_clock() -> SettableClock:
    return SettableClock()


class Team:
    """A workspace with an admin, two agents in the @support group, customers and #support."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.admin = fake.add_user("lead", is_admin=True)
        self.agents = [fake.add_user("ana"), fake.add_user("ben")]
        self.customers = [fake.add_user(f"customer{i}") for i in range(1, 4)]
        members = [self.admin, *self.agents, *self.customers]
        self.channel = fake.add_channel("support", members=members)
        self.group = fake.add_usergroup("support", self.agents)

    @property
    def mention(self) -> str:
        return f"<#{self.channel}|support>"

    def command(self, text: str, user: str | None = None, *, timeout: float = 5) -> str:
        """Run `/practice <text>` and return the answer shown to the user."""
        user = user or self.admin
        shown_before = len(self.fake.ephemerals(user=user))
        self.fake.send_command(user, self.channel, "/practice", text)
        self.fake.wait_until(lambda: len(self.fake.ephemerals(user=user)) > shown_before, timeout)
        return self.fake.ephemerals(user=user)[-1].text

    def set_up(self) -> None:
        assert "2 people" in self.command(f"team <!subteam^{self.group}|@support>")
        assert "watching" in self.command(f"watch {self.mention}")


@pytest.fixture
def bot_overrides() -> dict[str, object]:
    return {"job_max_attempts": JOB_ATTEMPTS}


@pytest.fixture
def team(running_bot: RunningBot, fake_slack: FakeSlack) -> Team:
    return Team(fake_slack)


def recorded(services: Services) -> list[ChannelMessage]:
    with services.db.session() as session:
        return list(session.scalars(select(ChannelMessage).order_by(ChannelMessage.ts)))


def tick(services: Services, at: datetime, worker_id: str = "replica-1") -> Counter[Outcome]:
    return run_due_reminders(
        services.db,
        reminder_poster(services.settings, services.db),
        lambda: at,
        services.settings,
        worker_id=worker_id,
        sleep=lambda seconds: None,
    )


def reminders_posted(fake: FakeSlack, channel: str) -> list:
    return [m for m in fake.messages(channel) if m.user == fake.bot_user_id]


# ---------------------------------------------------------------- watching


def test_watching_backfills_seven_days_of_metadata_only(
    team: Team, running_bot: RunningBot, slack_clock: SettableClock
) -> None:
    fake, [customer, *_] = team.fake, team.customers
    slack_clock.now = utcnow() - timedelta(days=9)
    fake.user_posts(customer, team.channel, "too old to backfill")
    slack_clock.now = utcnow() - timedelta(days=2)
    root = fake.user_posts(customer, team.channel, SECRET)
    fake.user_posts(team.agents[0], team.channel, "so sorry, on it", thread_ts=root)
    fake.user_posts(customer, team.channel, "thanks", thread_ts=root)
    fake.rate_limit("conversations.replies", retry_after=1)  # the client waits and retries

    team.set_up()

    rows = recorded(running_bot.services)
    assert [(r.thread_ts, r.author_kind) for r in rows] == [
        (root, AuthorKind.customer),
        (root, AuthorKind.team),
        (root, AuthorKind.customer),
    ]
    assert "text" not in ChannelMessage.__table__.columns
    assert_never_stored(running_bot.services, SECRET)


def assert_never_stored(services: Services, text: str) -> None:
    with services.db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                assert text not in repr(tuple(row)), table.name


def test_only_admins_may_watch(team: Team, running_bot: RunningBot) -> None:
    answer = team.command(f"watch {team.mention}", user=team.agents[0])

    assert answer.startswith("Only workspace admins")
    assert recorded(running_bot.services) == []


def test_a_channel_without_the_bot_asks_for_an_invite(team: Team) -> None:
    elsewhere = team.fake.add_channel("sales", members=[team.admin], bot_is_member=False)

    answer = team.command(f"watch <#{elsewhere}|sales>")

    assert "/invite @ASAP Coach" in answer
    assert "can't find" in team.command("watch <#C999|nowhere>")


def refuse_for_good(fake: FakeSlack, method: str) -> None:
    """More 429s than every try of the job waits out: the job gives up."""
    fake.rate_limit(method, retry_after=0, times=(RATE_LIMIT_RETRIES + 1) * JOB_ATTEMPTS)


def test_a_backfill_rate_limited_past_the_client_retries_runs_again_from_the_queue(
    team: Team, running_bot: RunningBot
) -> None:
    team.fake.rate_limit("conversations.history", retry_after=0, times=RATE_LIMIT_RETRIES + 1)

    answer = team.command(f"watch {team.mention}")

    assert "I'm watching" in answer
    with running_bot.services.db.session() as session:
        assert session.scalars(select(ChannelSettings)).one().watched


def test_a_failed_backfill_leaves_the_channel_unwatched_and_says_why(
    team: Team, running_bot: RunningBot
) -> None:
    refuse_for_good(team.fake, "conversations.history")

    answer = team.command(f"watch {team.mention}", timeout=GIVING_UP_SECONDS)

    assert "not watching it yet" in answer and "rate limit" in answer
    with running_bot.services.db.session() as session:
        assert not session.scalars(select(ChannelSettings)).one().watched
    assert "watching" in team.command(f"watch {team.mention}")  # trying again works


def test_a_slack_error_while_setting_the_team_is_answered(team: Team) -> None:
    refuse_for_good(team.fake, "usergroups.users.list")

    answer = team.command(f"team <!subteam^{team.group}|@support>", timeout=GIVING_UP_SECONDS)

    assert "rate limit" in answer


def test_new_edited_and_deleted_messages_are_recorded(team: Team, running_bot: RunningBot) -> None:
    fake, [customer, *_] = team.fake, team.customers
    team.set_up()

    root = fake.user_posts(customer, team.channel, SECRET)
    reply = fake.user_posts(team.agents[0], team.channel, "sorry!", thread_ts=root)
    fake.user_edits(customer, team.channel, root, SECRET + " (edited)")
    fake.user_deletes(team.agents[0], team.channel, reply)
    # The app acks each event before it records it: wait for the last one to land.
    fake.wait_until(lambda: any(r.deleted_at for r in recorded(running_bot.services)))

    first, second = recorded(running_bot.services)
    assert (first.ts, first.author_kind, first.edited_at is not None) == (
        root,
        AuthorKind.customer,
        True,
    )
    assert (second.thread_ts, second.author_kind, second.deleted_at is not None) == (
        root,
        AuthorKind.team,
        True,
    )
    assert_never_stored(running_bot.services, SECRET)


def test_the_team_follows_changes_to_its_user_group(team: Team, running_bot: RunningBot) -> None:
    fake, newcomer = team.fake, team.customers[0]
    team.set_up()
    fake.send_event(
        {
            "type": "subteam_members_changed",
            "subteam_id": team.group,
            "added_users": [newcomer],
            "removed_users": [],
        }
    )

    def newcomer_on_the_team() -> bool:
        with running_bot.services.db.session() as session:
            return newcomer in session.get(Workspace, "T0FAKE").team_user_ids

    # The event is acked first and handled after: wait for it, as a person would not notice.
    fake.wait_until(newcomer_on_the_team)
    fake.user_posts(newcomer, team.channel, "Hi, I joined the support team")
    fake.wait_until(lambda: recorded(running_bot.services))
    assert recorded(running_bot.services)[0].author_kind is AuthorKind.team


# ---------------------------------------------------------------- the reminder


def test_remind_sets_a_schedule_and_explains_a_bad_time_zone(
    team: Team, running_bot: RunningBot
) -> None:
    answer = team.command(f"remind {team.mention} 09:30 Mars/Olympus weekdays")
    assert "I don't know the time zone `Mars/Olympus`" in answer
    answer = team.command(f"remind {team.mention} 09:30 <!channel>")
    assert "`&lt;!channel&gt;`" in answer and "<!channel>" not in answer

    answer = team.command(f"remind {team.mention} 08:15 Europe/Berlin mon-thu quiet-skip")
    assert "08:15 (Europe/Berlin) on Mon, Tue, Wed, Thu" in answer

    team.command(f"remind {team.mention}")  # only a channel: 09:30 weekdays, admin's time zone
    with running_bot.services.db.session() as session:
        schedule = session.scalars(select(ReminderSchedule)).one()
        assert (schedule.local_time, schedule.timezone, schedule.weekdays) == (
            time(9, 30),
            "America/New_York",  # the fake's users live there
            [1, 2, 3, 4, 5],
        )
    assert "is off" in team.command(f"remind off {team.mention}")


def replay_history(team: Team, clock: SettableClock, yesterday: datetime) -> None:
    """Yesterday and the same day a week before, in order (Slack's ts only ever grows)."""
    fake, (ana, ben), (c1, c2, c3) = team.fake, team.agents, team.customers

    def post(at: datetime, user: str, thread: str | None = None) -> str:
        clock.now = at
        return fake.user_posts(user, team.channel, "…", thread_ts=thread)

    week_before = yesterday - timedelta(days=7)
    root = post(week_before.replace(hour=10), c1)
    post(week_before.replace(hour=10, minute=45), ana, root)  # 45 min
    post(week_before.replace(hour=11), c2)  # never answered

    root = post(yesterday.replace(hour=10), c1)
    post(yesterday.replace(hour=10, minute=12), ana, root)  # 12 min
    root = post(yesterday.replace(hour=11), c2)
    post(yesterday.replace(hour=11, minute=30), ben, root)  # 30 min
    root = post(yesterday.replace(hour=12), c1)
    post(yesterday.replace(hour=12, minute=45), c1, root)  # came back before an answer
    post(yesterday.replace(hour=13), ana, root)  # 60 min
    post(yesterday.replace(hour=14), c3)  # never answered…
    deleted = post(yesterday.replace(hour=15), c2)
    fake.user_deletes(c2, team.channel, deleted)  # not a thread any more
    root = post(yesterday.replace(hour=16), c3)  # …and c3 came back with a new thread
    post(yesterday.replace(hour=16, minute=5), ben, root)  # 5 min
    fake.wait_idle()


def due_instant() -> datetime:
    """The next 09:30 UTC."""
    now = utcnow()
    today = due_at(DAILY_0930_UTC, now.date())
    return today if today > now else due_at(DAILY_0930_UTC, now.date() + timedelta(days=1))


def reminder_day(due: datetime) -> datetime:
    """Midnight UTC of the reminder's day."""
    return datetime.combine(due.date(), time(), UTC)


def test_the_reminder_shows_the_replayed_figures_exactly_once(
    team: Team, running_bot: RunningBot, slack_clock: SettableClock, database_url: str
) -> None:
    team.set_up()
    team.command(f"remind {team.mention} 09:30 UTC daily")
    due = due_instant()
    replay_history(team, slack_clock, yesterday=reminder_day(due) - timedelta(days=1))

    services = running_bot.services
    after_due = due + timedelta(minutes=1)
    assert tick(services, after_due) == Counter({Outcome.sent: 1})
    assert tick(services, after_due + timedelta(minutes=1)) == Counter()
    restarted = Services.from_settings(services.settings)
    assert tick(restarted, after_due + timedelta(minutes=2), "replica-2") == Counter()
    restarted.db.dispose()

    [reminder] = reminders_posted(team.fake, team.channel)
    figures = reminder.blocks[1]["text"]["text"]
    # Yesterday: five customer threads (the deleted one does not count); first replies after
    # 12, 30, 60 and 5 min: median 21 min, p90 (nearest rank, 4 of 4) 60 min; one unanswered
    # (c3's 14:00); two customers came back before an answer (c1 at 12:45, c3 at 16:00).
    # The week before: two threads, 45 min, one unanswered, nobody came back.
    assert figures.splitlines()[1:] == [
        "Customer threads opened: *5* (+3)",
        "Median time to first reply: *21 min* (-24 min)",
        "90% answered within: *1 h 00 min* (+15 min)",
        "Unanswered after 4 h: *1* (±0)",
        "Customers who had to come back: *2* (+2)",
        "Critiques: *0* (±0)",
    ]
    assert reminder.blocks[0]["text"]["text"] == "How did we make our customers feel yesterday?"

    agent = team.agents[0]
    team.fake.click(agent, reminder, "practise_now")
    team.fake.wait_until(lambda: team.fake.ephemerals(user=agent))
    assert "/practice" in team.fake.ephemerals(user=agent)[-1].text


def test_two_replicas_ticking_at_once_post_once(
    team: Team, running_bot: RunningBot, backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite deployments are single-replica: no concurrent claimers to test")
    team.set_up()
    team.command(f"remind {team.mention} 09:30 UTC daily")
    at = due_instant() + timedelta(minutes=1)
    replicas = [Services.from_settings(running_bot.services.settings) for _ in range(2)]
    outcomes: list[Counter[Outcome]] = []
    threads = [
        threading.Thread(target=lambda s=s, i=i: outcomes.append(tick(s, at, f"replica-{i}")))
        for i, s in enumerate(replicas)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for replica in replicas:
        replica.db.dispose()

    assert sum(outcomes, Counter()) == Counter({Outcome.sent: 1})
    assert len(reminders_posted(team.fake, team.channel)) == 1


def test_a_rate_limited_post_is_retried_after_retry_after(
    team: Team, running_bot: RunningBot
) -> None:
    team.set_up()
    team.command(f"remind {team.mention} 09:30 UTC daily")
    team.fake.rate_limit("chat.postMessage", retry_after=1, times=1)

    assert tick(running_bot.services, due_instant() + timedelta(minutes=1)) == Counter(
        {Outcome.sent: 1}
    )
    assert len(team.fake.calls("chat.postMessage")) == 2
    assert len(reminders_posted(team.fake, team.channel)) == 1


def test_an_archived_channel_pauses_the_schedule_and_tells_the_admin(
    team: Team, running_bot: RunningBot
) -> None:
    team.set_up()
    team.command(f"remind {team.mention} 09:30 UTC daily")
    team.fake.archive_channel(team.channel)

    assert tick(running_bot.services, due_instant() + timedelta(minutes=1)) == Counter(
        {Outcome.failed: 1}
    )
    with running_bot.services.db.session() as session:
        delivery = session.scalars(select(ReminderDelivery)).one()
        schedule = session.scalars(select(ReminderSchedule)).one()
        assert (delivery.status, delivery.error) == (DeliveryStatus.failed, "channel archived")
        assert schedule.paused_reason == "channel archived"

    team.fake.open_home(team.admin)
    team.fake.wait_until(lambda: team.fake.home(team.admin) is not None)
    home = json.dumps(team.fake.home(team.admin).blocks)
    assert "paused (channel archived)" in home


# ---------------------------------------------------------------- App Home


def add_practice_and_critiques(services: Services, agent: str, admin: str, channel: str) -> None:
    now = utcnow()
    with services.db.session() as session:
        practice = PracticeSession(
            team_id="T0FAKE",
            user_id=agent,
            scenario_id="saas-support-ticket-silence",
            difficulty="medium",
            channel_id=channel,
            engine="offline",
            start_mood=2,
            mood=4,
            started_at=now - timedelta(days=2),
        )
        session.add(practice)
        session.flush()
        for position, sympathize in enumerate((0, 1)):
            session.add(
                PracticeTurn(
                    team_id="T0FAKE",
                    session_id=practice.id,
                    position=position,
                    role=TurnRole.agent,
                    text="…",
                    mood_after=3,
                    step_scores={
                        "apologize": 2,
                        "sympathize": sympathize,
                        "responsibility": 2,
                        "act": 2,
                    },
                    created_at=now - timedelta(days=2),
                )
            )
        critique = Critique(
            team_id="T0FAKE",
            channel_id=channel,
            message_ts="1700000000.000100",
            author_user_id=agent,
            engine="offline",
            apologize=2,
            sympathize=0,
            responsibility=1,
            act=2,
            overall=1,
        )
        session.add(critique)
        session.flush()
        session.add(
            CritiqueFeedback(
                team_id="T0FAKE",
                critique_id=critique.id,
                user_id=agent,
                kind=FeedbackKind.dispute,
                comment="I did sympathise <!channel>",
            )
        )


def open_home(fake: FakeSlack, user: str) -> str:
    fake.open_home(user)
    fake.wait_until(lambda: fake.home(user) is not None)
    return json.dumps(fake.home(user).blocks, ensure_ascii=False)


def test_the_home_tab_shows_progress_and_admins_also_see_disputes(
    team: Team, running_bot: RunningBot
) -> None:
    agent = team.agents[0]
    add_practice_and_critiques(running_bot.services, agent, team.admin, team.channel)

    agents_home = open_home(team.fake, agent)
    assert "saas-support-ticket-silence" in agents_home
    assert "Your step to work on: *Sympathize*" in agents_home
    assert "A 2 · S 0 · R 1 · P 2" in agents_home
    assert "Settings (admins)" not in agents_home

    team.fake.click(agent, team.fake.home(agent), "practise_now")
    team.fake.wait_until(lambda: team.fake.dm_messages(agent))
    assert "Focus on *Sympathize*" in team.fake.dm_messages(agent)[-1].text

    admins_home = open_home(team.fake, team.admin)
    assert "Settings (admins)" in admins_home
    assert "I did sympathise &lt;!channel&gt;" in admins_home
