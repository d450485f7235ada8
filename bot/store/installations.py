"""Workspace installations (OAuth distribution) with bot and user tokens encrypted at rest.

slack_sdk's SQLAlchemy store does the bookkeeping; this subclass seals every token with Fernet
before it reaches the database and opens it again on the way out, and declares its tables on our
metadata (bot.store.slack_tables) so Alembic, not the store, owns the schema.

`cryptography` (about 7 MB) is imported where tokens are sealed or opened, not with this module:
a single-workspace install (SLACK_BOT_TOKEN) stores no tokens and never needs it.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, select, update

from bot.store.slack_tables import slack_bots, slack_installations, slack_oauth_states

INSTALLATION_TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
BOT_TOKEN_FIELDS = ("bot_token", "bot_refresh_token")

EntityT = TypeVar("EntityT", Bot, Installation)


class TokenCipher:
    """Fernet with key rotation: the first key encrypts, every key decrypts."""

    def __init__(self, keys: list[str]) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    @classmethod
    def from_setting(cls, comma_separated_keys: str) -> TokenCipher:
        return cls([key.strip() for key in comma_separated_keys.split(",") if key.strip()])

    def seal(self, token: str | None) -> str | None:
        """Encrypt a token; a value that is already sealed with one of our keys stays as it is
        (slack_sdk saves an installation's bot a second time, from the sealed installation)."""
        if token is None or self._is_sealed(token):
            return token
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        return None if sealed is None else self._fernet.decrypt(sealed.encode()).decode()

    def reseal(self, sealed: str) -> str:
        """A token sealed under any of the keys, sealed again under the first."""
        return self._fernet.rotate(sealed.encode()).decode()

    def _is_sealed(self, value: str) -> bool:
        from cryptography.fernet import InvalidToken

        try:
            self._fernet.decrypt(value.encode())
        except InvalidToken:
            return False
        return True


def key_file_cipher(key_file: Path) -> TokenCipher:
    """A cipher whose key lives in a file made on first use, readable by the owner only.

    For the single-machine SQLite setup, where asking for a key would only get in the way.
    """
    from cryptography.fernet import Fernet

    if not key_file.exists():
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return TokenCipher.from_setting(key_file.read_text())


class UnreadableToken(Exception):
    """A stored token that none of the keys opens."""

    def __init__(self, team_id: str | None) -> None:
        super().__init__(team_id)
        self.team_id = team_id


def reseal_stored_tokens(engine: Engine, cipher: TokenCipher) -> int:
    """Seal every stored token again under the cipher's first key, so that the other keys can be
    retired; returns how many were resealed. One transaction: a token that no key opens raises
    UnreadableToken and nothing changes."""
    from cryptography.fernet import InvalidToken

    resealed = 0
    with engine.begin() as connection:
        for table, fields in (
            (slack_bots, BOT_TOKEN_FIELDS),
            (slack_installations, INSTALLATION_TOKEN_FIELDS),
        ):
            columns = [table.c[field] for field in fields]
            for row in connection.execute(select(table.c.id, table.c.team_id, *columns)).all():
                tokens = {field: row._mapping[field] for field in fields if row._mapping[field]}
                try:
                    values = {field: cipher.reseal(token) for field, token in tokens.items()}
                except InvalidToken as error:
                    raise UnreadableToken(row.team_id) from error
                if values:
                    connection.execute(update(table).where(table.c.id == row.id).values(values))
                    resealed += len(values)
    return resealed


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    def __init__(self, client_id: str, engine: Engine, cipher: TokenCipher) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.bots = slack_bots
        self.installations = slack_installations
        self._cipher = cipher

    def save(self, installation: Installation) -> None:
        super().save(_with_tokens(installation, INSTALLATION_TOKEN_FIELDS, self._cipher.seal))

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(_with_tokens(bot, BOT_TOKEN_FIELDS, self._cipher.seal))

    def build_bot_entity(self, row) -> Bot:
        return _with_tokens(super().build_bot_entity(row), BOT_TOKEN_FIELDS, self._cipher.open)

    def build_installation_entity(self, row) -> Installation:
        installation = super().build_installation_entity(row)
        return _with_tokens(installation, INSTALLATION_TOKEN_FIELDS, self._cipher.open)


def _with_tokens(entity: EntityT, fields: tuple[str, ...], transform) -> EntityT:
    """A shallow copy of a slack_sdk entity with its token fields transformed."""
    clone = copy.copy(entity)
    for field in fields:
        setattr(clone, field, transform(getattr(entity, field)))
    return clone


class OAuthStateStore(SQLAlchemyOAuthStateStore):
    def __init__(self, engine: Engine, expiration_seconds: int = 600) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=engine)
        self.oauth_states = slack_oauth_states
