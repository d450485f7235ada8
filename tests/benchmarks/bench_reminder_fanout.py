"""Reminder fan-out: many schedules due in the same minute across many workspaces, against the
fake Slack enforcing chat.postMessage's 1 message/s per channel and a per-workspace limit (429
with Retry-After); time until all are posted against the floor those limits impose.

    .venv/bin/python tests/benchmarks/bench_reminder_fanout.py --out /tmp/fanout.json
    .venv/bin/python tests/benchmarks/bench_reminder_fanout.py --kill-halfway --out /tmp/kill.json
    .venv/bin/python tests/benchmarks/bench_reminder_fanout.py --schedulers 2 --out /tmp/two.json

Defaults: 1,000 workspaces x 10 channels = 10,000 schedules, all due at the same minute, on
PostgreSQL (127.0.0.1:5432, trust, user postgres; several senders need it). Each workspace is an
OAuth install stored through the bot's own EncryptedInstallationStore, with its own bot token in
the fake. The senders are `asap-coach run` processes (OAuth mode; their scheduler ticks every
60 s). `--kill-halfway` SIGKILLs the sender once half (`--kill-at`) are posted and starts it again;
`--schedulers 2` runs two senders on the one database.

Floor: a schedule posts once a day to its own channel, so the per-channel limit alone never
binds; a workspace with n reminders and a limit of L posts a minute needs (ceil(n / L) - 1)
minutes. The default workspace limit (5 a minute) is deliberately tight so the floor is set by
Slack's limits, not by the sender: 10 reminders a workspace -> 60 s.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from bench_slack_load import (
    REPO,
    SIGNING_SECRET,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    git_commit,
)
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation

from bot.fakes.slack import FakeSlack
from bot.store.db import Database
from bot.store.installations import EncryptedInstallationStore, TokenCipher
from bot.store.migrations import upgrade_to_head
from bot.store.models import ReminderSchedule

CLIENT_ID = "111.222"
METHOD = "chat.postMessage"


def seed(fake: FakeSlack, url: str, key: str, workspaces: int, channels: int, due: datetime):
    """Installs, channels and schedules; returns {channel: team}."""
    upgrade_to_head(url)
    db = Database(url)
    store = EncryptedInstallationStore(CLIENT_ID, db.engine, TokenCipher.from_setting(key))
    channel_team = {}
    with db.session() as session:
        for number in range(workspaces):
            team = f"T{number:07d}"
            token = fake.add_install(team)
            store.save(
                Installation(
                    app_id="AFAKE",
                    team_id=team,
                    bot_token=token,
                    bot_id="BBOT",
                    bot_user_id=fake.bot_user_id,
                    user_id="UINSTALLER",
                )
            )
            for index in range(channels):
                channel = fake.add_channel(f"support-{number}-{index}")
                channel_team[channel] = team
                session.add(
                    ReminderSchedule(
                        team_id=team,
                        channel_id=channel,
                        local_time=clock_time(due.hour, due.minute),
                        timezone="UTC",
                        weekdays=[1, 2, 3, 4, 5, 6, 7],
                        skip_quiet_days=False,
                        created_at=due - timedelta(minutes=1),
                    )
                )
    db.dispose()
    return channel_team


def sender(fake: FakeSlack, url: str, key: str, workdir: Path, lease: int | None):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))},
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": "bench-client-secret",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": url,
        "ENCRYPTION_KEY": key,
        "LOG_LEVEL": "WARNING",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }
    if lease is not None:
        env["CLAIM_LEASE_SECONDS"] = str(lease)
    log = open(workdir / f"sender-{env['PORT']}.log", "w")  # noqa: SIM115 - lives with it
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], env=env, cwd=workdir, stdout=log, stderr=log
    )


def posted(fake: FakeSlack) -> Counter:
    return Counter(call.params.get("channel") for call in fake.calls(METHOD) if call.ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=10, help="schedules per workspace")
    parser.add_argument("--per-workspace-per-minute", type=int, default=5)
    parser.add_argument("--per-channel-per-second", type=int, default=1)
    parser.add_argument("--schedulers", type=int, default=1)
    parser.add_argument("--kill-halfway", action="store_true")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="share posted when --kill-halfway kills"
    )
    parser.add_argument("--lease", type=int, default=None, help="CLAIM_LEASE_SECONDS (bot: 300)")
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    fake = FakeSlack(signing_secret=SIGNING_SECRET, event_retry_delays=())
    fake.rate_limit_per_channel(METHOD, args.per_channel_per_second)
    fake.rate_limit_per_workspace(METHOD, args.per_workspace_per_minute)
    fake.start()
    url = create_postgres_database()
    key = Fernet.generate_key().decode()
    workdir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    senders: list[subprocess.Popen] = []
    try:
        # Due at the next minute boundary that leaves time to seed and start.
        seeding_started = time.monotonic()
        due = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
        channel_team = seed(fake, url, key, args.workspaces, args.channels, due)
        seeded_in = time.monotonic() - seeding_started
        senders = [sender(fake, url, key, workdir, args.lease) for _ in range(args.schedulers)]
        total = len(channel_team)
        killed_at = None
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            done = len(posted(fake))
            if args.kill_halfway and killed_at is None and done >= total * args.kill_at:
                senders[0].send_signal(signal.SIGKILL)
                senders[0].wait()
                killed_at = {"posted": done, "after_due_s": round(time.time() - due.timestamp())}
                senders[0] = sender(fake, url, key, workdir, args.lease)
            if done >= total:
                break
            time.sleep(1)
        time.sleep(5)  # late duplicates
        counts = posted(fake)
        calls = fake.calls(METHOD)
        successes = sorted(call.time for call in calls if call.ok)
        per_team = Counter(channel_team.values())
        most = max(per_team.values())
        floor = (math.ceil(most / args.per_workspace_per_minute) - 1) * 60.0
        floor = max(floor, 0.0)
        finished = successes[-1] - due.timestamp() if successes else None
        result = {
            "commit": git_commit(REPO),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": f"{os.cpu_count()} cores",
            "load_after": os.getloadavg(),
            "workspaces": args.workspaces,
            "schedules": total,
            "limits": {
                "per_channel_per_second": args.per_channel_per_second,
                "per_workspace_per_minute": args.per_workspace_per_minute,
            },
            "schedulers": args.schedulers,
            "kill_halfway": killed_at,
            "seeded_in_s": round(seeded_in, 1),
            "posted": len(counts),
            "missed": total - len(counts),
            "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            "http_429": sum(1 for call in calls if call.status == 429),
            "first_post_after_due_s": round(successes[0] - due.timestamp(), 1)
            if successes
            else None,
            "all_posted_after_due_s": round(finished, 1) if finished is not None else None,
            "floor_s": floor,
            "ratio_to_floor": round(finished / floor, 2) if finished and floor else None,
            "posts_per_s": round(len(successes) / (successes[-1] - successes[0]), 1)
            if len(successes) > 1
            else None,
        }
    finally:
        for process in senders:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        fake.stop()
        drop_postgres_database(url)
    args.out.write_text(json.dumps(result, indent=2))
    for name, value in result.items():
        print(f"{name:<24}  {value}")


if __name__ == "__main__":
    main()
