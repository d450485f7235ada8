"""Shared fixtures: the suite runs on SQLite and on the real PostgreSQL server.

Tests that take `database` (or `database_url`) run once per backend. PostgreSQL is found at
TEST_POSTGRES_URL (default: 127.0.0.1:5432, user postgres, trust auth); each test run creates its
own databases and drops them at the end. When PostgreSQL is unreachable its tests are skipped,
except under CI=true, where that is a failure.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.coaching.critique import CritiqueEngine
from bot.fakes.slack import FakeSlack
from bot.services import Services
from bot.settings import Settings, load_settings
from bot.store.base import Base
from bot.store.db import Database
from bot.store.migrations import upgrade_to_head
from bot.web import serving

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")
QUEUE_TABLES = (
    "procrastinate_jobs",
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_workers",
)
SIGNING_SECRET = "test-signing-secret"
MANIFEST = Path(__file__).resolve().parents[1] / "deploy" / "slack-app-manifest.yml"


class PostgresDatabases:
    """Creates throw-away databases on the test server and drops them at the end of the run."""

    def __init__(self, admin_url: str) -> None:
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._created: list[str] = []

    def available(self) -> str | None:
        """None when reachable, else why not."""
        try:
            with self._admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            return str(error.orig).strip().splitlines()[0]
        return None

    def create(self) -> str:
        name = f"asap_test_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)

    def drop_all(self) -> None:
        with self._admin.connect() as connection:
            for name in self._created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """Commands run in-process set up logging on the test's captured stderr; put the root
    logger back, so that the bot's threads of later tests never write to a closed stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(POSTGRES_ADMIN_URL)
    problem = databases.available()
    if problem is not None:
        message = f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {problem}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: PostgreSQL is required)", pytrace=False)
        pytest.skip(message)
    yield databases
    databases.drop_all()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def fresh_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database of the backend under test, for migration tests."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("postgres_databases").create()


@pytest.fixture(scope="session")
def migrated_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'asap-coach.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def migrated_postgresql_url(postgres_databases: PostgresDatabases) -> str:
    url = postgres_databases.create()
    upgrade_to_head(url)
    return url


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A migrated database of the backend under test (migrated once per run), emptied before
    each test."""
    url = request.getfixturevalue(f"migrated_{backend}_url")
    _empty_all_tables(url)
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


def _empty_all_tables(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
        if connection.dialect.name == "postgresql":
            # The job queue too: a job left by one test must not run in the next one's worker.
            connection.execute(text(f"TRUNCATE {', '.join(QUEUE_TABLES)} CASCADE"))
    engine.dispose()


@pytest.fixture
def slack_clock() -> Callable[[], float]:
    """What stamps the fake's messages; a test module overrides it to replay a dated history."""
    return time.time


@pytest.fixture
def fake_slack(slack_clock: Callable[[], float]) -> Iterator[FakeSlack]:
    """The fake delivers only the events our manifest subscribes to, as Slack would."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    subscriptions = manifest["settings"].get("event_subscriptions", {}).get("bot_events", [])
    with FakeSlack(
        signing_secret=SIGNING_SECRET, event_types=subscriptions, clock=slack_clock
    ) as fake:
        yield fake


def bot_settings(fake: FakeSlack, database_url: str, **overrides: object) -> Settings:
    """Settings of a bot talking to the fake Slack, ignoring any developer .env file."""
    defaults = {
        "slack_bot_token": "xoxb-fake",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "database_url": database_url,
    }
    return load_settings(_env_file=None, **(defaults | overrides))


def oauth_bot_settings(fake: FakeSlack, database_url: str) -> Settings:
    """A bot installed to workspaces through OAuth: no bot token of its own, tokens encrypted."""
    return bot_settings(
        fake,
        database_url,
        slack_bot_token=None,
        slack_client_id="111.222",
        slack_client_secret="client-secret",
        encryption_key=Fernet.generate_key().decode(),
    )


@dataclass
class RunningBot:
    """The real bolt app served over HTTP by waitress, connected to the fake Slack."""

    services: Services
    base_url: str

    def jobs_done(self) -> bool:
        """No job waiting or running: what was asked has all been handled."""
        return self.services.jobs.waiting(running_too=True) == 0


@pytest.fixture
def critique_engine() -> CritiqueEngine | None:
    """The running bot's critique engine (and practice critic); None: the default. A test module
    overrides it, e.g. with a `tests.engines.ScriptedEngine` it can slow down or break."""
    return None


@pytest.fixture
def bot_overrides() -> dict[str, object]:
    """Settings of the running bot that a test module changes (e.g. fewer job attempts)."""
    return {}


@pytest.fixture
def running_bot(
    fake_slack: FakeSlack,
    database_url: str,
    critique_engine: CritiqueEngine | None,
    bot_overrides: dict[str, object],
) -> Iterator[RunningBot]:
    settings = bot_settings(fake_slack, database_url, **bot_overrides)
    services = Services.from_settings(settings, critique_engine=critique_engine)
    with serving(services) as base_url:
        fake_slack.connect(f"{base_url}/slack/events")
        yield RunningBot(services, base_url)
        fake_slack.wait_idle()
    services.close()
