"""deploy/compose.yaml: valid against the Compose Specification's JSON schema (the copy that
check-jsonschema vendors), ordered as the bot needs, and each service's command started as
compose would start it. There is no Docker engine here, so a service's container is a process:
the same command, the image's, the env file's and the service's environment in compose's order
of precedence, with DATABASE_URL pointed at the local PostgreSQL (a database made by the test)
and each process on its own loopback port (containers would each have their own network)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser
from dotenv import dotenv_values
from sqlalchemy import create_engine

from bot.cli import build_parser
from bot.fakes.slack import FakeSlack
from bot.jobs.queue import LONGEST_CLOSE_SECONDS
from bot.store.migrations import schema_is_current
from tests.conftest import SIGNING_SECRET
from tests.deploy.artefacts import COMPOSE, DEPLOY, DOCKERFILE, ENV_EXAMPLE, compose_file
from tests.e2e.test_run_process import _free_port, _wait_until_healthy

BOT_SERVICES = ("migrate", "web", "worker")
VENV_BIN = Path(sys.executable).parent


def test_valid_against_the_compose_specification() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            COMPOSE,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_web_and_worker_start_only_after_the_migration_succeeded() -> None:
    services = compose_file()["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    assert "test" in services["postgres"]["healthcheck"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }


def _seconds(duration: str) -> float:
    """A compose duration such as `40s`, `1m30s`; compose's default is 10 s."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([hms])", duration))


def test_stopping_the_worker_waits_long_enough_for_its_running_jobs() -> None:
    worker = compose_file()["services"]["worker"]
    assert _seconds(worker.get("stop_grace_period", "10s")) > LONGEST_CLOSE_SECONDS


def test_the_bot_services_run_one_image_built_from_the_dockerfile_with_the_env_file() -> None:
    services = compose_file()["services"]
    assert {services[name]["image"] for name in BOT_SERVICES} == {"asap-coach:local"}
    for name in BOT_SERVICES:
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
        assert services[name]["env_file"] == ".env"
    assert [services[name]["command"] for name in BOT_SERVICES] == [
        ["asap-coach", "migrate"],
        ["asap-coach", "run", "--no-worker"],
        ["asap-coach", "worker"],
    ]


def _interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}."""

    def substitute(match: re.Match) -> str:
        name, operator, argument = match.groups()
        found = variables.get(name) or ""
        if operator == ":?" and not found:
            raise AssertionError(f"compose would refuse to start: {argument}")
        return found or (argument if operator == ":-" else "")

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:[-?])([^}]*))?\}", substitute, value)


class ComposeLikeStack:
    """Starts compose.yaml's bot services as processes, in depends_on order."""

    def __init__(self, env_file: Path, database_url: str, workdir: Path) -> None:
        self.services = compose_file()["services"]
        self._env_file_values = dotenv_values(env_file)
        self._database_url = database_url
        self._workdir = workdir
        self.ports: dict[str, int] = {}
        self.processes: dict[str, subprocess.Popen] = {}

    def environment(self, name: str) -> dict[str, str]:
        declared = {
            key: _interpolate(str(value), self._env_file_values)
            for key, value in self.services[name].get("environment", {}).items()
        }
        assert declared["DATABASE_URL"].startswith("postgresql+psycopg://asap:")
        self.ports[name] = _free_port()
        return {
            **DockerfileParser(str(DOCKERFILE)).envs,
            **{key: value or "" for key, value in self._env_file_values.items()},
            **declared,
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "DATABASE_URL": self._database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.ports[name]),
        }

    def start_order(self) -> list[str]:
        order: list[str] = []

        def visit(name: str) -> None:
            for dependency in self.services[name].get("depends_on", {}):
                visit(dependency)
            if name not in order:
                order.append(name)

        for name in self.services:
            visit(name)
        return [name for name in order if name in BOT_SERVICES]  # postgres: the local server

    def run_to_completion(self, name: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.services[name]["command"],
            env=self.environment(name),
            cwd=self._workdir,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self, name: str) -> str:
        """Start a long-running service; its address once the image's HEALTHCHECK would pass."""
        process = subprocess.Popen(
            self.services[name]["command"],
            env=self.environment(name),
            cwd=self._workdir,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.processes[name] = process
        address = f"http://127.0.0.1:{self.ports[name]}"
        _wait_until_healthy(f"{address}/healthz", process, timeout=30)
        return address

    def must_complete_first(self, name: str) -> bool:
        return any(
            dependencies.get(name, {}).get("condition") == "service_completed_successfully"
            for dependencies in (
                service.get("depends_on", {}) for service in self.services.values()
            )
        )

    def stop(self) -> dict[str, tuple[int, str]]:
        """SIGTERM, as `docker compose down` sends; each service's exit code and log."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        return {
            name: (process.wait(timeout=20), process.communicate()[1])
            for name, process in self.processes.items()
        }


def _commands_not_in_this_clone(services: dict) -> list[str]:
    missing = []
    for name in BOT_SERVICES:
        command = services[name]["command"]
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                build_parser().parse_args(command[1:])
        except SystemExit:
            missing.append(" ".join(command))
    return missing


@pytest.fixture
def stack(tmp_path: Path, fake_slack: FakeSlack, postgres_databases) -> Iterator[ComposeLikeStack]:
    # What the README tells a user: copy .env.example to deploy/.env and fill it in.
    env_file = tmp_path / ".env"
    env_file.write_text(
        ENV_EXAMPLE.read_text().replace("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=unused\n")
        + f"SLACK_BOT_TOKEN={fake_slack.bot_token}\nSLACK_SIGNING_SECRET={SIGNING_SECRET}\n"
        + f"SLACK_API_URL={fake_slack.api_url}\n"
    )
    workdir = tmp_path / "data"  # the image's WORKDIR: empty, no .env of its own
    workdir.mkdir()
    stack = ComposeLikeStack(env_file, postgres_databases.create(), workdir)
    yield stack
    for process in stack.processes.values():
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_migration_service_brings_a_fresh_database_to_head(stack: ComposeLikeStack) -> None:
    result = stack.run_to_completion("migrate")
    assert result.returncode == 0, result.stderr
    url = stack.environment("migrate")["DATABASE_URL"]
    engine = create_engine(url)
    assert schema_is_current(engine)
    engine.dispose()


@pytest.mark.e2e
def test_the_stack_starts_as_compose_would_and_answers_slack(
    stack: ComposeLikeStack, fake_slack: FakeSlack
) -> None:
    addresses = {}
    for name in stack.start_order():
        if stack.must_complete_first(name):
            result = stack.run_to_completion(name)
            assert result.returncode == 0, f"{name}: {result.stderr}"
        else:
            addresses[name] = stack.start(name)
    assert set(addresses) == {"web", "worker"}
    for address in addresses.values():
        with urllib.request.urlopen(f"{address}/readyz", timeout=5) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"{address}/metrics", timeout=5) as response:
            assert b"asap_" in response.read()

    fake_slack.connect(f"{addresses['web']}/slack/events")
    agent = fake_slack.add_user("agent")
    channel = fake_slack.add_channel("support", members=[agent])
    delivery = fake_slack.send_command(agent, channel, "/practice", "help")
    assert delivery.acked_within_deadline and delivery.outcome == "ephemeral"
    # A job: web only enqueues it in PostgreSQL, the worker process answers.
    checked = fake_slack.send_command(agent, channel, "/practice", "check I'm so sorry.")
    assert checked.acked_within_deadline
    fake_slack.wait_until(
        lambda: any("ASAP critique" in e.text for e in fake_slack.ephemerals(user=agent)), 10
    )

    for name, (code, log) in stack.stop().items():
        assert code == 0, f"{name} exited {code}:\n{log}"
        assert "Traceback" not in log and fake_slack.bot_token not in log


def test_every_command_compose_runs_exists() -> None:
    assert _commands_not_in_this_clone(compose_file()["services"]) == []
