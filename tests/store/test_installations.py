from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from bot.store.db import Database
from bot.store.installations import EncryptedInstallationStore, TokenCipher, key_file_cipher
from bot.store.slack_tables import slack_bots, slack_installations


def _installation(team_id: str = "T1") -> Installation:
    return Installation(
        app_id="A1",
        team_id=team_id,
        bot_token="xoxb-very-secret",
        bot_refresh_token="xoxe-refresh",
        bot_id="B1",
        bot_user_id="UBOT",
        user_id="U1",
        user_token="xoxp-user-secret",
    )


def test_tokens_are_stored_encrypted_and_read_back_in_clear(database: Database) -> None:
    store = EncryptedInstallationStore(
        "client", database.engine, TokenCipher([Fernet.generate_key().decode()])
    )
    store.save(_installation())

    with database.engine.connect() as connection:
        stored = [
            *connection.execute(select(slack_bots.c.bot_token, slack_bots.c.bot_refresh_token)),
            *connection.execute(
                select(slack_installations.c.bot_token, slack_installations.c.user_token)
            ),
        ]
    assert stored and all(value and not value.startswith("xox") for row in stored for value in row)
    assert store.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-very-secret"
    found = store.find_installation(enterprise_id=None, team_id="T1")
    assert (found.bot_token, found.user_token) == ("xoxb-very-secret", "xoxp-user-secret")


def test_installations_are_found_per_workspace_only(database: Database) -> None:
    store = EncryptedInstallationStore(
        "client", database.engine, TokenCipher([Fernet.generate_key().decode()])
    )
    store.save(_installation("T1"))
    assert store.find_bot(enterprise_id=None, team_id="T2") is None


def test_rotated_keys_still_open_old_tokens() -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = TokenCipher([old_key]).seal("xoxb-1")
    assert TokenCipher.from_setting(f"{new_key},{old_key}").open(sealed) == "xoxb-1"


def test_sealing_twice_does_not_double_encrypt() -> None:
    cipher = TokenCipher([Fernet.generate_key().decode()])
    assert cipher.open(cipher.seal(cipher.seal("xoxb-1"))) == "xoxb-1"


def test_a_key_file_is_made_once_and_readable_by_its_owner_only(tmp_path) -> None:
    key_file = tmp_path / "asap-coach.key"
    sealed = key_file_cipher(key_file).seal("xoxb-1")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file_cipher(key_file).open(sealed) == "xoxb-1"


def test_no_keys_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenCipher.from_setting(" , ")
