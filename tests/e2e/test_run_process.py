"""`asap-coach run` as a real process, configured only by environment variables, against the
fake Slack: it migrates its SQLite file, serves Slack and its probes, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.fakes.slack import FakeSlack
from tests.conftest import SIGNING_SECRET

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"bot exited early:\n{process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("bot did not become healthy")


def test_the_bot_process_serves_slack_and_stops_cleanly(fake_slack: FakeSlack, tmp_path: Path):
    port = _free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
        "SLACK_BOT_TOKEN": "xoxb-fake",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}/readyz", process)
        fake_slack.connect(f"http://127.0.0.1:{port}/slack/events")
        agent = fake_slack.add_user("agent")
        channel = fake_slack.add_channel("support", members=[agent])

        delivery = fake_slack.send_command(agent, channel, "/practice", "help")

        assert delivery.acked_within_deadline and delivery.outcome == "ephemeral"
        assert (tmp_path / "asap-coach.db").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in log
    assert "xoxb-fake" not in log
