"""The deploy/ artefacts the tests read, and what they must agree on."""

from __future__ import annotations

from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
CHART = DEPLOY / "helm" / "asap-coach"
DASHBOARD = DEPLOY / "grafana-dashboard.json"
ALERTS = DEPLOY / "alerts.yml"

# Settings that are secrets: a Kubernetes Secret holds them, the ConfigMap never does.
SECRET_SETTINGS = frozenset(
    {
        "DATABASE_URL",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_SECRET",
        "ENCRYPTION_KEY",
        "OPENAI_API_KEY",
    }
)


def compose_file() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def dockerfile_stages() -> list[list[dict]]:
    """The Dockerfile's instructions (comments left out), one list per FROM."""
    stages: list[list[dict]] = []
    for instruction in DockerfileParser(str(DOCKERFILE)).structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages and instruction["instruction"] != "COMMENT":
            stages[-1].append(instruction)
    return stages


def image_user() -> str:
    """The final stage's USER."""
    users = [i["value"] for i in dockerfile_stages()[-1] if i["instruction"] == "USER"]
    return users[-1]
