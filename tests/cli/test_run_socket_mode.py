"""`asap-coach run` over Socket Mode, stopped by SIGTERM: the socket is closed before the job
queue, so Slack sends the next events to the app's other connections rather than to a process
that can no longer enqueue them."""

from __future__ import annotations

import os
import signal
import threading

from bot.cli import main, run
from bot.fakes.slack import FakeSlack
from tests.e2e.test_run_process import _free_port


class SocketModeStandIn:
    """Stands in for slack_bolt's SocketModeHandler (there is no Socket Mode in the fake):
    connecting asks the orchestrator to stop the process, as a rollout would."""

    closed_with_the_queue_open: bool | None = None

    def __init__(self, app: object, app_token: str) -> None:
        self.app_token = app_token

    def connect(self) -> None:
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()

    def close(self) -> None:
        SocketModeStandIn.closed_with_the_queue_open = any(
            thread.name == "asap-coach-queue" and thread.is_alive()
            for thread in threading.enumerate()
        )


def test_sigterm_closes_the_socket_before_the_job_queue(
    fake_slack: FakeSlack, monkeypatch, tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    environment = {
        "SLACK_BOT_TOKEN": "xoxb-fake",
        "SLACK_APP_TOKEN": "xapp-1-fake",
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(_free_port()),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(run, "SocketModeHandler", SocketModeStandIn)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        main(["run"])
    except SystemExit as stopped:
        assert stopped.code == 0
    finally:
        signal.signal(signal.SIGTERM, previous)

    assert SocketModeStandIn.closed_with_the_queue_open is True
