"""What every subcommand shares: settings with a readable error instead of a traceback."""

from __future__ import annotations

import sys
from typing import NoReturn

from pydantic import ValidationError

from bot.settings import Settings, load_settings

MANIFEST_HINT = "Create the Slack app from deploy/slack-app-manifest.yml (see README, 'Install')."


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
            for problem in error.errors()
        )
        fail(f"invalid setting — {problems}. Fix it in the environment or .env (see README).")


def fail(message: str) -> NoReturn:
    """Print one clear line for the user and exit non-zero (no traceback)."""
    print(f"asap-coach: {message}", file=sys.stderr)
    raise SystemExit(2)
