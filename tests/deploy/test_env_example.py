"""deploy/.env.example lists every setting with its default and meaning, as bot/settings.py has
them, so that it stays true as settings are added."""

from __future__ import annotations

import re

from bot.settings import Settings, load_settings
from tests.deploy.artefacts import ENV_EXAMPLE

# Read by deploy/compose.yaml itself, not by the bot.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}


def _listed() -> dict[str, tuple[str, str]]:
    """NAME -> (default, meaning): each `# meaning` line followed by `NAME=value` (or its
    commented-out `# NAME=value`)."""
    rows = re.findall(
        r"^# (.+)\n(?:# )?([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(), flags=re.MULTILINE
    )
    return {name: (default, meaning) for meaning, name, default in rows}


def _default(field) -> str:
    default = field.default
    return "" if default is None else str(getattr(default, "value", default))


def test_every_setting_is_listed_with_its_default_and_meaning() -> None:
    listed = _listed()
    assert set(listed) - COMPOSE_ONLY == {name.upper() for name in Settings.model_fields}
    for name, field in Settings.model_fields.items():
        assert listed[name.upper()] == (_default(field), field.description), name


def test_uncommenting_a_listed_default_changes_nothing(tmp_path, monkeypatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(
        "".join(
            f"{name}={default}\n"
            for name, (default, _) in _listed().items()
            if default and name not in COMPOSE_ONLY
        )
    )
    assert load_settings(_env_file=env_file) == load_settings(_env_file=None)
