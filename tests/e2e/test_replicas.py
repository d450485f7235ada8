"""Past one machine: web replicas (`asap-coach run --no-worker`) and workers (`asap-coach worker`)
as real processes on one PostgreSQL, driven by the fake Slack; processes killed mid-work."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.fakes.openai_stub import OpenAIStub, StubReply
from bot.fakes.slack import FakeSlack, Message
from bot.store.db import Database
from bot.store.migrations import upgrade_to_head
from bot.store.models import ChannelSettings, PracticeTurn, TurnRole
from tests.conftest import SIGNING_SECRET
from tests.engines import silent_llm_answer

pytestmark = pytest.mark.e2e

TEAM = "T0FAKE"
SCENARIO = "laptop-dead-on-arrival"
WEB = ("run", "--no-worker")
WORKER = ("worker",)
TIMEOUT = 20.0
REPLIES = (
    "I'm so sorry this happened, that's on us.",
    "I understand how frustrating this is; I'll fix it today.",
    "I've booked a courier for tomorrow at 9am and I'll text you by 5pm.",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    """The bot's processes, sharing one PostgreSQL database, the fake Slack and an LLM stub."""

    fake: FakeSlack
    database_url: str
    folder: Path
    environment: dict[str, str]
    processes: dict[str, tuple[subprocess.Popen, str]] = field(default_factory=dict)

    def start(self, name: str, command: tuple[str, ...]) -> str:
        port = _free_port()
        log = (self.folder / f"{name}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *command],
            cwd=self.folder,
            env={**self.environment, "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        self.processes[name] = (process, url)
        self._wait_until_ready(name)
        return url

    def route_to(self, name: str) -> None:
        """Slack's next requests go to this web replica (a load balancer's choice)."""
        self.fake.connect(f"{self.processes[name][1]}/slack/events", verify=False)

    def kill(self, name: str) -> None:
        process, _ = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text()

    def stop_all(self) -> dict[str, int]:
        for process, _ in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, (process, _) in self.processes.items():
            try:
                codes[name] = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait()
        return codes

    def _wait_until_ready(self, name: str) -> None:
        process, url = self.processes[name]
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited early:\n{self.log(name)}")
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{name} did not become ready:\n{self.log(name)}")


@pytest.fixture
def llm() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        stub.default = StubReply.json(silent_llm_answer(), delay=0.2)
        yield stub


@pytest.fixture
def cluster(
    fake_slack: FakeSlack, postgres_databases, llm: OpenAIStub, tmp_path: Path
) -> Iterator[Cluster]:
    url = postgres_databases.create()
    upgrade_to_head(url)
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "OPENAI_API_KEY": "test",
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_API": "chat",
        # A killed worker's jobs run again within seconds.
        "JOB_HEARTBEAT_SECONDS": "1",
        "JOB_STALLED_AFTER_SECONDS": "3",
    }
    running = Cluster(fake_slack, url, tmp_path, environment)
    try:
        yield running
    finally:
        codes = running.stop_all()
        for name, code in codes.items():
            if code != -signal.SIGKILL:
                assert code == 0, f"{name} exited {code}:\n{running.log(name)}"
                assert "Traceback" not in running.log(name), running.log(name)


def _customer_answers(fake: FakeSlack, channel: str, thread_ts: str) -> list[Message]:
    return [
        m
        for m in fake.messages(channel, thread_ts=thread_ts)
        if m.bot_id and "Anger" in json.dumps(m.blocks or [])
    ]


def _turns(database_url: str, thread_ts: str) -> list[tuple[str, str]]:
    db = Database(database_url)
    try:
        with db.session() as session:
            rows = session.scalars(
                select(PracticeTurn).order_by(PracticeTurn.session_id, PracticeTurn.position)
            ).all()
            return [
                (row.role.value, row.text) for row in rows if row.session.thread_ts == thread_ts
            ]
    finally:
        db.dispose()


def test_two_web_replicas_and_two_workers_answer_every_reply_once_and_in_order(
    cluster: Cluster, fake_slack: FakeSlack
) -> None:
    for name, command in (
        ("web-1", WEB),
        ("web-2", WEB),
        ("worker-1", WORKER),
        ("worker-2", WORKER),
    ):
        cluster.start(name, command)
    agents = [fake_slack.add_user(f"agent{n}") for n in range(3)]
    customer = fake_slack.add_user("customer")
    support = fake_slack.add_channel("support", members=[*agents, customer])
    db = Database(cluster.database_url)
    with db.session() as session:
        session.add(ChannelSettings(team_id=TEAM, channel_id=support, watched=True))
    db.dispose()
    threads = {}
    for number, agent in enumerate(agents):
        cluster.route_to(f"web-{number % 2 + 1}")
        fake_slack.send_command(agent, support, "/practice", f"{SCENARIO} upset")
    for agent in agents:
        dm = fake_slack.dm_channel(agent)
        fake_slack.wait_until(lambda dm=dm: fake_slack.messages(dm), TIMEOUT)
        threads[agent] = (dm, fake_slack.messages(dm)[0].ts)

    # Every agent's replies in quick succession, each to the other web replica than the last,
    # and a critique asked for in between: the workers share it all out.
    sent = 0
    for reply in REPLIES:
        for agent, (dm, thread_ts) in threads.items():
            cluster.route_to(f"web-{sent % 2 + 1}")
            fake_slack.user_posts(agent, dm, reply, thread_ts=thread_ts)
            sent += 1
    root = fake_slack.user_posts(customer, support, "Where is my refund?")
    answer = fake_slack.user_posts(agents[0], support, REPLIES[0], thread_ts=root)
    fake_slack.user_reacts(agents[1], support, answer, "teacher")

    for dm, thread_ts in threads.values():
        fake_slack.wait_until(
            lambda dm=dm, thread_ts=thread_ts: (
                len(_customer_answers(fake_slack, dm, thread_ts)) == 1 + len(REPLIES)
            ),
            TIMEOUT,
        )
    fake_slack.wait_until(
        lambda: any("ASAP critique" in m.text for m in fake_slack.dm_messages(agents[0])), TIMEOUT
    )
    time.sleep(1.0)  # a duplicate, were one coming, would be posted by now
    for dm, thread_ts in threads.values():
        assert len(_customer_answers(fake_slack, dm, thread_ts)) == 1 + len(REPLIES)
        turns = _turns(cluster.database_url, thread_ts)
        assert [role for role, _ in turns] == ["customer", *["agent", "customer"] * len(REPLIES)]
        assert [text for role, text in turns if role == "agent"] == list(REPLIES)  # in order
    critiques = [m for m in fake_slack.dm_messages(agents[0]) if "ASAP critique" in m.text]
    assert len(critiques) == 1


def test_a_worker_killed_mid_job_leaves_it_to_another_and_one_answer_arrives(
    cluster: Cluster, fake_slack: FakeSlack, llm: OpenAIStub
) -> None:
    cluster.start("web-1", WEB)
    cluster.start("worker-1", WORKER)
    cluster.route_to("web-1")
    agent = fake_slack.add_user("agent")
    support = fake_slack.add_channel("support", members=[agent])
    llm.default = StubReply.json(silent_llm_answer(), delay=3.0)  # long enough to be killed during

    fake_slack.send_command(agent, support, "/practice", f"check {REPLIES[0]}")
    fake_slack.wait_until(lambda: llm.requests, TIMEOUT)  # worker-1 is asking the model
    cluster.kill("worker-1")
    cluster.start("worker-2", WORKER)

    fake_slack.wait_until(lambda: fake_slack.ephemerals(user=agent), TIMEOUT)
    time.sleep(1.0)
    [checked] = fake_slack.ephemerals(user=agent)
    assert "Your draft, checked" in json.dumps(checked.blocks)


def test_a_web_replica_killed_mid_practice_leaves_the_session_to_the_other(
    cluster: Cluster, fake_slack: FakeSlack
) -> None:
    for name, command in (("web-1", WEB), ("web-2", WEB), ("worker-1", WORKER)):
        cluster.start(name, command)
    agent = fake_slack.add_user("agent")
    support = fake_slack.add_channel("support", members=[agent])
    dm = fake_slack.dm_channel(agent)
    cluster.route_to("web-1")
    fake_slack.send_command(agent, support, "/practice", f"{SCENARIO} upset")
    fake_slack.wait_until(lambda: fake_slack.messages(dm), TIMEOUT)
    thread_ts = fake_slack.messages(dm)[0].ts
    fake_slack.user_posts(agent, dm, REPLIES[0], thread_ts=thread_ts)
    fake_slack.wait_until(lambda: len(_customer_answers(fake_slack, dm, thread_ts)) == 2, TIMEOUT)

    cluster.kill("web-1")
    cluster.route_to("web-2")
    fake_slack.user_posts(agent, dm, REPLIES[1], thread_ts=thread_ts)

    fake_slack.wait_until(lambda: len(_customer_answers(fake_slack, dm, thread_ts)) == 3, TIMEOUT)
    assert [role for role, _ in _turns(cluster.database_url, thread_ts)] == [
        TurnRole.customer.value,
        *[TurnRole.agent.value, TurnRole.customer.value] * 2,
    ]
