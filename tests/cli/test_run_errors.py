"""`asap-coach run` with missing or wrong settings: one clear line, non-zero exit, no traceback."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from bot.cli import main
from bot.store.migrations import schema_is_current

SLACK_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no developer .env, and a throw-away SQLite file
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _run_and_capture(capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["run"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return exit_info.value.code, captured.err.strip()


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "does not look like a bot token"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "app-level token"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "PORT": "eighty"}, "PORT"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "JOB_HEARTBEAT_SECONDS": "10",
                "JOB_STALLED_AFTER_SECONDS": "15",
            },
            "JOB_STALLED_AFTER_SECONDS (15) must be at least 3 times JOB_HEARTBEAT_SECONDS (30)",
        ),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1"},
            "need HTTP mode",
        ),
    ],
)
def test_missing_or_malformed_settings_are_named(monkeypatch, capsys, environment, expected):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    code, message = _run_and_capture(capsys)
    assert code != 0
    assert expected in message
    assert len(message.splitlines()) == 1


def test_missing_credentials_point_to_the_manifest(capsys) -> None:
    _, message = _run_and_capture(capsys)
    assert "deploy/slack-app-manifest.yml" in message


def test_a_token_slack_refuses_is_reported_without_echoing_it(monkeypatch, capsys, fake_slack):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-wrong-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    code, message = _run_and_capture(capsys)
    assert code != 0
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in message
    assert "xoxb-wrong-token" not in message


def test_an_unreachable_database_is_reported(monkeypatch, capsys) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    code, message = _run_and_capture(capsys)
    assert code != 0
    assert message.startswith("asap-coach: cannot reach the database in DATABASE_URL")


def test_an_out_of_date_postgresql_schema_is_not_migrated_by_run(
    monkeypatch, capsys, postgres_databases
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("DATABASE_URL", postgres_databases.create())
    code, message = _run_and_capture(capsys)
    assert code != 0
    assert "Run `asap-coach migrate`" in message


def test_migrate_brings_the_schema_to_head(monkeypatch, capsys, postgres_databases) -> None:
    url = postgres_databases.create()
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0
    engine = create_engine(url)
    assert schema_is_current(engine)
    engine.dispose()
