"""`asap-coach rotate-key`: seal every stored Slack token under the first ENCRYPTION_KEY.

ENCRYPTION_KEY holds comma-separated Fernet keys: the first encrypts, all decrypt. To rotate, put
a new key first (NEW,OLD), restart the bot, run this once, then remove OLD.
"""

from __future__ import annotations

import argparse

from sqlalchemy.exc import OperationalError

from bot.cli._common import fail, settings_or_exit
from bot.settings import ConfigError
from bot.slack.clients import token_cipher
from bot.store.db import Database
from bot.store.installations import UnreadableToken, reseal_stored_tokens
from bot.store.migrations import schema_is_current


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "rotate-key",
        help="Re-encrypt the stored Slack tokens under the first ENCRYPTION_KEY.",
        description="Re-encrypt every stored bot and user token under the first key of "
        "ENCRYPTION_KEY (NEW,OLD), so that the old keys can then be removed from it.",
    )
    parser.set_defaults(handler=rotate_key)


def rotate_key(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    try:
        cipher = token_cipher(settings)
    except ConfigError as error:
        fail(str(error))
    db = Database(settings.database_url)
    try:
        if not schema_is_current(db.engine):
            fail("the database schema is out of date: run `asap-coach migrate` first.")
        resealed = reseal_stored_tokens(db.engine, cipher)
    except OperationalError as error:
        fail(f"cannot reach the database in DATABASE_URL: {error.orig}")
    except UnreadableToken as error:
        fail(
            f"a stored token of workspace {error.team_id} opens with none of the keys in "
            "ENCRYPTION_KEY; nothing was changed. Add the key it was sealed with (after the new "
            "one) and run again."
        )
    finally:
        db.dispose()
    print(
        f"Re-encrypted {resealed} stored tokens under the first key of ENCRYPTION_KEY; "
        "the other keys can now be removed from it."
    )
    return 0
