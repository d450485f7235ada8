"""`asap-coach rotate-key`: after it, the new key alone opens every stored token, so the old one
can be removed from ENCRYPTION_KEY."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from bot.cli import main
from bot.store.db import Database
from bot.store.installations import EncryptedInstallationStore, TokenCipher
from bot.store.slack_tables import slack_bots, slack_installations

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)


def _install(database: Database, key: str, team_id: str) -> None:
    store = EncryptedInstallationStore("client", database.engine, TokenCipher([key]))
    store.save(
        Installation(
            app_id="A1",
            team_id=team_id,
            bot_token=f"xoxb-{team_id}",
            bot_refresh_token=f"xoxe-{team_id}",
            bot_id="B1",
            bot_user_id="UBOT",
            user_id="U1",
            user_token=f"xoxp-{team_id}",
        )
    )


def _stored_tokens(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        rows = [
            *connection.execute(select(slack_bots.c.bot_token, slack_bots.c.bot_refresh_token)),
            *connection.execute(
                select(
                    slack_installations.c.bot_token,
                    slack_installations.c.bot_refresh_token,
                    slack_installations.c.user_token,
                )
            ),
        ]
    return [token for row in rows for token in row]


def _rotate(monkeypatch, database_url: str, keys: str) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENCRYPTION_KEY", keys)
    main(["rotate-key"])


def test_after_rotating_the_new_key_alone_opens_every_token(
    database: Database, database_url: str, monkeypatch, capsys
) -> None:
    _install(database, OLD_KEY, "T1")
    _install(database, OLD_KEY, "T2")

    _rotate(monkeypatch, database_url, f"{NEW_KEY},{OLD_KEY}")

    assert "Re-encrypted 10 stored tokens" in capsys.readouterr().out
    new_only = EncryptedInstallationStore("client", database.engine, TokenCipher([NEW_KEY]))
    for team_id in ("T1", "T2"):
        installation = new_only.find_installation(enterprise_id=None, team_id=team_id)
        assert (installation.bot_token, installation.user_token) == (
            f"xoxb-{team_id}",
            f"xoxp-{team_id}",
        )
        assert new_only.find_bot(enterprise_id=None, team_id=team_id).bot_token == f"xoxb-{team_id}"
    with pytest.raises(InvalidToken):
        TokenCipher([OLD_KEY]).open(_stored_tokens(database)[0])


def test_a_token_no_key_opens_stops_the_rotation_and_changes_nothing(
    database: Database, database_url: str, monkeypatch, capsys
) -> None:
    _install(database, NEW_KEY, "T1")
    _install(database, OLD_KEY, "T2")
    before = _stored_tokens(database)

    with pytest.raises(SystemExit) as exit_info:
        _rotate(monkeypatch, database_url, NEW_KEY)  # OLD_KEY forgotten

    assert exit_info.value.code != 0
    message = capsys.readouterr().err
    assert "workspace T2" in message and "nothing was changed" in message
    assert _stored_tokens(database) == before


def test_without_a_key_on_postgresql_the_missing_setting_is_named(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    with pytest.raises(SystemExit):
        main(["rotate-key"])
    assert "ENCRYPTION_KEY is not set" in capsys.readouterr().err


def test_an_unmigrated_database_is_not_touched(fresh_database_url: str, monkeypatch, capsys):
    with pytest.raises(SystemExit):
        _rotate(monkeypatch, fresh_database_url, NEW_KEY)
    assert "run `asap-coach migrate` first" in capsys.readouterr().err
