"""Every setting of the bot, typed, in one place.

Read from environment variables and an optional `.env` file in the working directory. The README's
settings table lists the same names, defaults and meanings; a test keeps the two in step.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# A worker is presumed dead after this many heartbeats missed in a row (procrastinate's own
# defaults: 10 s and 30 s).
HEARTBEATS_MISSED_BEFORE_STALLED = 3
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class OpenAIApi(StrEnum):
    """Which OpenAI API shape the LLM engine speaks."""

    responses = "responses"  # OpenAI's Responses API
    chat = "chat"  # Chat Completions, for OpenAI-compatible servers


class LogFormat(StrEnum):
    """How log records are written."""

    text = "text"  # one readable line a record, for a terminal
    json = "json"  # one JSON object a line, for containers and log collectors


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = Field(
        None, description="Bot token (xoxb-…) of a single-workspace install."
    )
    slack_app_token: SecretStr | None = Field(
        None, description="App-level token (xapp-…): when set, `run` uses Socket Mode."
    )
    slack_signing_secret: SecretStr | None = Field(
        None, description="Signing secret: verifies requests in HTTP mode."
    )
    slack_client_id: str | None = Field(
        None, description="OAuth client id: with the secret, installs to many workspaces."
    )
    slack_client_secret: SecretStr | None = Field(
        None, description="OAuth client secret (multi-workspace installs)."
    )
    slack_api_url: str = Field(
        DEFAULT_SLACK_API_URL, description="Slack Web API base URL (tests point it at the fake)."
    )
    database_url: str = Field(
        "sqlite:///asap-coach.db",
        description="SQLAlchemy URL; PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    encryption_key: SecretStr | None = Field(
        None,
        description="Fernet key for stored bot tokens; on SQLite a key file beside the database "
        "is made when unset.",
    )
    openai_api_key: SecretStr | None = Field(
        None, description="Enables the LLM engines; unset = built-in offline engine."
    )
    openai_base_url: str | None = Field(
        None, description="OpenAI-compatible server URL (e.g. http://localhost:11434/v1)."
    )
    openai_model: str = Field("gpt-4.1-mini", description="Model name for the LLM engines.")
    openai_api: OpenAIApi = Field(
        OpenAIApi.responses,
        description="`responses` (OpenAI) or `chat` (Chat Completions, compatible servers).",
    )
    openai_timeout_seconds: float = Field(20.0, gt=0, description="Timeout of one LLM call.")
    openai_max_output_tokens: int = Field(
        1500, ge=1, description="Most tokens one LLM critique may write."
    )
    openai_max_retries: int = Field(
        2, ge=0, description="Retries of an LLM call after a timeout or a transient error."
    )
    llm_critiques_per_user_hour: int = Field(
        60,
        ge=0,
        description="LLM critiques one person may get in an hour (reactions, the shortcut, "
        "checks, practice turns), then the offline engine answers, labelled; 0 = no limit.",
    )
    llm_monthly_token_budget: int = Field(
        5_000_000,
        ge=0,
        description="Tokens a workspace's LLM critiques and practice customers may spend in a "
        "calendar month (UTC), then the offline engine answers, labelled; 0 = no limit.",
    )
    scenarios_dir: Path | None = Field(
        None,
        description="Folder of the team's own practice scenarios (*.toml), added to the built-ins.",
    )
    practice_turn_limit: int = Field(
        12, ge=1, description="Agent replies after which a practice session ends (turn_limit)."
    )
    practice_inactivity_minutes: int = Field(
        30, ge=1, description="Minutes without a reply after which a practice session times out."
    )
    llm_concurrency: int = Field(
        16,
        ge=1,
        description="Critiques and practice turns a worker runs at once (LLM calls in flight); "
        "size it to the model's rate limit. The excess waits in the queue.",
    )
    worker_concurrency: int = Field(
        8, ge=1, description="Other jobs (Slack posts, backfills, reminders) a worker runs at once."
    )
    busy_after_seconds: float = Field(
        3.0,
        gt=0,
        description="A critique or practice turn still waiting for an LLM slot this long after it "
        "was asked answers at once with the offline engine, labelled busy.",
    )
    critique_deadline_seconds: float = Field(
        20.0, gt=0, description="Longest an LLM critique may take, retries included, then offline."
    )
    persona_deadline_seconds: float = Field(
        15.0,
        gt=0,
        description="Longest an LLM practice customer may take, retries included, then offline.",
    )
    job_max_attempts: int = Field(
        5, ge=1, description="Tries of a job (a Slack post, a critique…) before the user is told."
    )
    job_heartbeat_seconds: float = Field(
        10.0, gt=0, description="How often a worker tells the queue it is alive."
    )
    job_stalled_after_seconds: float = Field(
        30.0,
        gt=0,
        description="A worker silent this long is presumed dead: its running jobs run again "
        "(at least 3 times JOB_HEARTBEAT_SECONDS).",
    )
    host: str = Field(
        "0.0.0.0",
        description="Address to listen on: /slack/events (HTTP mode), /healthz, /readyz, /metrics.",
    )
    port: int = Field(3000, ge=0, le=65535, description="Port to listen on (both modes).")
    http_threads: int = Field(8, ge=1, description="Worker threads of the HTTP server.")
    reminder_grace_minutes: int = Field(
        120,
        ge=0,
        description="A daily reminder missed while the bot was down is still sent this many "
        "minutes late; later it is skipped.",
    )
    claim_lease_seconds: int = Field(
        300,
        ge=30,
        description="How long a replica owns a reminder it is sending; after a crash another "
        "replica retries it once this expires.",
    )
    unanswered_after_hours: int = Field(
        4,
        ge=1,
        description="A customer thread with no team reply this many hours after it was opened "
        "counts as unanswered.",
    )
    retention_days: int = Field(
        90,
        ge=1,
        description="Days the bot keeps what people wrote (critiqued text, practice turns) and "
        "message metadata; scores and counts stay.",
    )
    log_level: LogLevel = Field("INFO", description="Python logging level.")
    log_format: LogFormat = Field(
        LogFormat.text,
        description="`text` (readable lines, for a terminal) or `json` (one object a line, with "
        "team, channel, event and job ids, for containers).",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_case_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _stalled_after_several_heartbeats(self) -> Settings:
        # A heartbeat can be late (a busy event loop, a slow database): if one late heartbeat
        # made a live worker look dead, its running jobs would run a second time beside it
        # (a critique posted twice, a practice turn played twice).
        least = HEARTBEATS_MISSED_BEFORE_STALLED * self.job_heartbeat_seconds
        if self.job_stalled_after_seconds < least:
            raise ValueError(
                f"JOB_STALLED_AFTER_SECONDS ({self.job_stalled_after_seconds:g}) must be at least "
                f"{HEARTBEATS_MISSED_BEFORE_STALLED} times JOB_HEARTBEAT_SECONDS ({least:g}): a "
                "worker whose heartbeat is merely late would have its running jobs run twice"
            )
        return self

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def sqlite_path(self) -> Path | None:
        """The database file of a file-backed SQLite URL, else None."""
        prefix = "sqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        path = self.database_url.removeprefix(prefix).split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None

    @property
    def oauth_enabled(self) -> bool:
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None


class ConfigError(Exception):
    """A setting is missing or wrong; the message tells the user what to set."""


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by tests and the CLI)."""
    return Settings(**overrides)
