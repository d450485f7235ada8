"""`asap-coach run` leaves out what it needs only later or never: `openai` until the first LLM
call, alembic unless there is a migration to run, `cryptography` unless it stores tokens (a
multi-workspace install). Each would cost every start time and memory (BENCHMARKS.md,
'Footprint')."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from bot.fakes.slack import FakeSlack
from bot.store.migrations import upgrade_to_head
from tests.conftest import SIGNING_SECRET

LEFT_OUT = ("openai", "alembic", "cryptography")

# Runs `asap-coach run` and, once it answers /healthz, prints which of LEFT_OUT it has loaded.
RUN_AND_REPORT = f"""
import os, sys, threading, time, urllib.request
from bot.cli import main

def report():
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{{os.environ['PORT']}}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    print(",".join(name for name in {LEFT_OUT!r} if name in sys.modules), flush=True)
    os._exit(0)

threading.Thread(target=report, daemon=True).start()
main(["run"])
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_started_bot_with_the_llm_engines_has_loaded_none_of_them(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'asap-coach.db'}"
    upgrade_to_head(database_url)  # a restart: the schema is current
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))},
        "SLACK_BOT_TOKEN": "xoxb-fake",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": database_url,
        "OPENAI_API_KEY": "sk-test",
        "HOST": "127.0.0.1",
        "PORT": str(_free_port()),
    }
    started = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == ""
