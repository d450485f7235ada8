"""The sandbox's moving parts: the fake Slack with its people and channels, the real bot serving
the fake's requests, the demo conversations, and a clock for the daily reminder.

Persistence: the bot's SQLite database lives in the data folder and survives restarts. The fake
Slack cannot restore messages through its public API (it stamps every message with a new ts), so
after a restart the workspace is rebuilt with the same ids and the demo conversations re-seeded,
without telling the bot again (its database already holds them); messages posted in the previous
run are gone from the page. "Reset sandbox" starts over: it deletes the files the sandbox wrote
(`SANDBOX_FILES`), never the data folder nor anything else in it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from bot.fakes.slack import Change, FakeSlack
from bot.jobs.scheduler import build_scheduler
from bot.prompt_files import read_toml
from bot.reminders.delivery import Outcome, run_due_reminders
from bot.services import Services
from bot.settings import load_settings
from bot.slack.practice_end import IdlePracticeDue
from bot.slack.reminders import reminder_poster
from bot.store.base import run_on_clock
from bot.store.migrations import upgrade_to_head
from bot.store.models import DeliveryStatus, ReminderDelivery
from bot.web import serving

logger = logging.getLogger(__name__)

SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-sandbox"
TEAM_ID = "T0FAKE"  # the fake's default, which sandboxes made before it was named have
SANDBOX_MARKER = "sandbox.json"
DATABASE_FILE = "asap-coach.db"
# Everything the sandbox writes in its data folder: reset deletes these and nothing else.
SANDBOX_FILES = (
    SANDBOX_MARKER,
    DATABASE_FILE,
    *(DATABASE_FILE + suffix for suffix in ("-journal", "-wal", "-shm")),
)
COACHING_EMOJI = "teacher"
# The event subscriptions of deploy/slack-app-manifest.yml (a test keeps them in step).
EVENT_TYPES = (
    "app_home_opened",
    "app_mention",
    "app_uninstalled",
    "message.channels",
    "subteam_members_changed",
    "message.im",
    "reaction_added",
    "tokens_revoked",
)
REMINDER_AT = clock_time(9, 30)
REMINDER_SCHEDULE = "09:30 UTC daily"
COMMAND_TIMEOUT = 10.0
PRACTICE_JOB = IdlePracticeDue.task  # the one tick of bot.jobs.scheduler the sandbox runs


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    real_name: str
    role: str  # agent, lead, customer
    is_admin: bool = False
    switchable: bool = False


PEOPLE = (
    Person("lee", "lee", "Lee Okafor", "lead", is_admin=True, switchable=True),
    Person("ana", "ana", "Ana Silva", "agent", switchable=True),
    Person("ben", "ben", "Ben Novak", "agent"),
    Person("casey", "casey", "Casey Morgan", "customer", switchable=True),
    Person("dana", "dana", "Dana Reyes", "customer"),
    Person("eli", "eli", "Eli Brandt", "customer"),
    Person("farah", "farah", "Farah Haddad", "customer"),
)


class SandboxClock:
    """The sandbox's day, which is the bot's day too (`run_on_clock`): the real one (UTC) at
    first, moved a day ahead by "Advance to tomorrow", and only ever forward.

    The fake Slack stamps messages with `now()` and the bot stamps its rows with `utcnow()`, so
    both agree on what happened yesterday. The set-up is stamped at 09:00 yesterday and the
    seeded demo conversations from 10:00 yesterday (`dated_yesterday`): today's 09:30 reminder
    falls due after the set-up and reports on them, whatever the time of day now.
    """

    def __init__(self, days_ahead: int = 0) -> None:
        self.days_ahead = days_ahead
        self._back: timedelta | None = None

    def now(self) -> float:
        return self.utcnow().timestamp()

    def utcnow(self) -> datetime:
        if self._back is not None:
            return datetime.now(UTC) - self._back
        return datetime.now(UTC) + timedelta(days=self.days_ahead)

    @property
    def day(self) -> date:
        return datetime.now(UTC).date() + timedelta(days=self.days_ahead)

    def reminder_instant(self) -> datetime:
        """Just after today's reminder is due, on the sandbox's day."""
        return datetime.combine(self.day, REMINDER_AT, UTC) + timedelta(seconds=30)

    def dated_yesterday(self, at: clock_time) -> None:
        """Stamp messages from now on as if it were `at` yesterday (for seeding)."""
        yesterday = datetime.combine(self.day - timedelta(days=1), at, UTC)
        self._back = datetime.now(UTC) - yesterday

    def back_to_now(self) -> None:
        self._back = None


@dataclass
class Workspace:
    """Who and where: Slack ids of the sandbox's people and channels."""

    users: dict[str, str] = field(default_factory=dict)  # person key -> user id
    support: str = ""
    team: str = ""
    dms: dict[str, str] = field(default_factory=dict)  # user id -> DM channel id


def demo_conversations() -> list[dict[str, Any]]:
    return read_toml("sandbox", "conversations.toml")["conversation"]


class Sandbox:
    """Runs the fake Slack and the bot; `reset()` starts over, `stop()` ends both."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = threading.RLock()
        self._observers: list[Callable[[Change | None], None]] = []
        self.notice = ""
        self.fake: FakeSlack
        self.workspace: Workspace
        self.clock: SandboxClock
        self.services: Services
        self._running: ExitStack | None = None  # the bot's server and its scheduler
        self.scheduler: BackgroundScheduler | None = None
        self.hidden_ephemerals = 0  # the setup commands' answers are not shown

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        with self._lock:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            marker = self.data_dir / SANDBOX_MARKER
            restarted = marker.exists()
            days_ahead = json.loads(marker.read_text()).get("days_ahead", 0) if restarted else 0
            self.clock = SandboxClock(days_ahead)
            run_on_clock(self.clock.utcnow)
            self.fake = FakeSlack(
                signing_secret=SIGNING_SECRET,
                team_id=TEAM_ID,
                bot_token=BOT_TOKEN,
                team_name="Sandbox",
                team_domain="asap-sandbox",
                bot_name="asap-coach",
                event_types=EVENT_TYPES,
                clock=self.clock.now,
            )
            self.fake.start()
            self.fake.subscribe(self._changed)
            self.workspace = self._build_workspace()
            if restarted:
                self._seed()  # before the bot is connected: its database already holds these
            self._start_bot()
            if not restarted:
                try:
                    self.clock.dated_yesterday(clock_time(9, 0))  # Slack's ts only grow
                    self._set_up()
                finally:
                    self.clock.back_to_now()
                self._seed()
                self.notice = "A fresh sandbox: #support holds yesterday's demo conversations."
            else:
                self.notice = (
                    "Restarted: the bot's data is kept; the Slack side was re-seeded, so "
                    "messages from the last run are not shown."
                )
            self.hidden_ephemerals = len(self.fake.ephemerals())
            self._save_marker()
            self._start_practice_tick()
            self._changed(None)

    def stop(self) -> None:
        with self._lock:
            if self._running is not None:
                try:
                    self.fake.wait_idle(timeout=2)
                except TimeoutError:
                    logger.warning("stopping with events still being delivered")
                self._running.close()
                self.services.close()
                self._running = None
            self.fake.stop()
            run_on_clock(None)

    def reset(self) -> None:
        """Start over: a new workspace, an empty database, the demo conversations again."""
        with self._lock:
            self.stop()
            for name in SANDBOX_FILES:  # never the folder: `--data` may name one with more in it
                (self.data_dir / name).unlink(missing_ok=True)
            self.start()

    # ---------------------------------------------------------------- observing

    def subscribe(self, observer: Callable[[Change | None], None]) -> Callable[[], None]:
        """`observer` is called on every change of the workspace (None: everything changed)."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    def _changed(self, change: Change | None) -> None:
        for observer in list(self._observers):
            observer(change)

    # ---------------------------------------------------------------- the daily reminder

    def send_todays_reminder(self) -> dict[str, int]:
        """Run the reminder tick as the scheduler would, at 09:30 on the sandbox's day."""
        with self._lock:
            at = self.clock.reminder_instant()
            outcomes = run_due_reminders(
                self.services.db,
                reminder_poster(self.services.settings, self.services.db),
                lambda: at,
                self.services.settings,
                worker_id="sandbox",
            )
            self.fake.wait_idle(timeout=5)
            return {str(outcome): count for outcome, count in outcomes.items()}

    def todays_reminder(self, outcomes: dict[str, int]) -> str:
        """What the page says after a reminder tick: where today's reminder is, or why it is
        not in #team. The delivery log is the bot's word; #team is what the page shows, and
        after a restart it no longer holds what the bot posted before."""
        texts = read_toml("sandbox", "page.toml")["reminder"]
        with self.services.db.session() as session:
            delivery = session.scalar(
                select(ReminderDelivery).where(
                    ReminderDelivery.team_id == TEAM_ID,
                    ReminderDelivery.local_date == self.clock.day,
                )
            )
        if delivery is None:
            return texts["none_due"]
        if delivery.status is not DeliveryStatus.sent:
            return texts[str(delivery.status)].format(reason=delivery.error or "?")
        if outcomes.get(str(Outcome.sent)):
            return texts["posted"]
        shown = {message.ts for message in self.fake.messages(self.workspace.team)}
        return texts["already_sent" if delivery.message_ts in shown else "sent_before_restart"]

    def advance_to_tomorrow(self) -> dict[str, int]:
        with self._lock:
            self.clock.days_ahead += 1
            self._save_marker()
            self._changed(None)
            return self.send_todays_reminder()

    # ---------------------------------------------------------------- internals

    def _build_workspace(self) -> Workspace:
        """People and channels in a fixed order, so a restart gets the same ids."""
        fake, workspace = self.fake, Workspace()
        for person in PEOPLE:
            workspace.users[person.key] = fake.add_user(
                person.name, is_admin=person.is_admin, real_name=person.real_name
            )
        everyone = list(workspace.users.values())
        staff = [workspace.users[p.key] for p in PEOPLE if p.role != "customer"]
        workspace.support = fake.add_channel("support", members=everyone)
        workspace.team = fake.add_channel("team", members=staff)
        for user in everyone:
            workspace.dms[user] = fake.dm_channel(user)
        return workspace

    def _start_bot(self) -> None:
        url = f"sqlite:///{(self.data_dir / DATABASE_FILE).resolve()}"
        settings = load_settings(
            _env_file=None,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=self.fake.api_url,
            slack_app_token=None,
            slack_client_id=None,
            slack_client_secret=None,
            database_url=url,
        )
        upgrade_to_head(url)
        self.services = Services.from_settings(settings)
        self._running = ExitStack()
        base_url = self._running.enter_context(serving(self.services))
        self.fake.connect(f"{base_url}/slack/events")

    def _start_practice_tick(self) -> None:
        """The scheduler of `asap-coach run` with only its practice tick (idle sessions time
        out); the reminder tick runs on the page's clock buttons instead, on the sandbox's day."""
        scheduler = build_scheduler(self.services.jobs)
        for job in scheduler.get_jobs():
            if job.id != PRACTICE_JOB:
                scheduler.remove_job(job.id)
        scheduler.start()
        self.scheduler = scheduler
        assert self._running is not None
        self._running.callback(scheduler.shutdown, wait=False)

    def _set_up(self) -> None:
        """What a lead types once in Slack: the team, the watched channel, the reminder."""
        users, lead = self.workspace.users, self.workspace.users["lee"]
        agents = " ".join(f"<@{users[key]}|{key}>" for key in ("ana", "ben"))
        support, team = self.workspace.support, self.workspace.team
        self._command(lead, support, f"team {agents}")
        self._command(lead, support, f"watch <#{support}|support>")
        self._command(lead, team, f"remind <#{team}|team> {REMINDER_SCHEDULE}")

    def _command(self, user: str, channel: str, text: str) -> None:
        shown = len(self.fake.ephemerals(user=user))
        self.fake.send_command(user, channel, "/practice", text)
        self.fake.wait_until(lambda: len(self.fake.ephemerals(user=user)) > shown, COMMAND_TIMEOUT)
        logger.info("sandbox set-up: %s", self.fake.ephemerals(user=user)[-1].text)

    def _seed(self) -> None:
        """The demo conversations, a few minutes apart from 10:00 yesterday."""
        users, support = self.workspace.users, self.workspace.support
        start = datetime.combine(date.today(), clock_time(10, 0))
        try:
            for index, conversation in enumerate(demo_conversations()):
                root = None
                for step, (who, text) in enumerate(conversation["messages"]):
                    at = start + timedelta(minutes=40 * index + 7 * step)
                    self.clock.dated_yesterday(at.time())
                    author = users[conversation[who]]
                    ts = self.fake.user_posts(author, support, text, thread_ts=root)
                    root = root or ts
            self.fake.wait_idle(timeout=5)
        finally:
            self.clock.back_to_now()

    def _save_marker(self) -> None:
        marker = {"days_ahead": self.clock.days_ahead, "support": self.workspace.support}
        (self.data_dir / SANDBOX_MARKER).write_text(json.dumps(marker))
